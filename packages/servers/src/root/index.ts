export { type BootedSystem, type BootOptions, bootSystem } from './boot';
export {
  DEVICE_WINDOW,
  type DeviceAccess,
  DeviceBroker,
  DISK_DMA_PAGES,
  DMA_WINDOW,
  kipDeviceFor,
} from './devices';
export {
  type ClientOfGate,
  encodeProgramEnvironment,
  namedCap,
  PROGRAM_ENV_ADDRESS,
  type ProgramEnvironment,
  programEnvironment,
} from './program-env';
export {
  DEFAULT_MAX_RESTARTS,
  EXCEPTION_HANDLER_SLOT,
  MAX_NAMED_CAPS,
  NAMED_CAP_BASE,
  PROGRAM_EXITED,
  type ProgramRecord,
  type RootTaskOptions,
  type RootTaskState,
  rootTask,
} from './root-task';
