export { type BootedSystem, bootSystem } from './boot';
export {
  encodeProgramEnvironment,
  namedCap,
  PROGRAM_ENV_ADDRESS,
  type ProgramEnvironment,
  programEnvironment,
} from './program-env';
export {
  DEFAULT_MAX_RESTARTS,
  EXCEPTION_HANDLER_SLOT,
  NAMED_CAP_BASE,
  PROGRAM_EXITED,
  type RootTaskState,
  rootTask,
} from './root-task';
