/**
 * Host-side boot of a described system: what a boot loader does before the root task
 * runs. It validates the description, boots sigma0, and starts the root task on top of
 * it with the programs' code as its boot modules.
 */
import { FixedSlot, type Kernel, type Program, type Task } from '@pecan/kernel';
import { attachSigma0, bootSigma0, type Sigma0System } from '../sigma0/boot';
import type { SystemDescription } from '../system/description';
import {
  assertValidSystem,
  DEFAULT_PROGRAM_KERNEL_MEMORY,
  PROGRAM_FACTORY_KERNEL_MEMORY,
  parseMemorySize,
  ROOT_TASK_KERNEL_MEMORY,
} from '../system/validate';
import { type RootTaskState, rootTask } from './root-task';

/** What {@link bootSystem} made. */
export interface BootedSystem {
  readonly sigma0: Sigma0System;
  readonly root: Task;
  /** The root task's view of the programs: starts and crashes. */
  readonly state: RootTaskState;
}

/** Boot information for the root task. */
export interface BootOptions {
  /** The console's sink is a terminal: the console server may use colour. */
  readonly consoleIsTty?: boolean;
}

/**
 * Boots `system` on `kernel`: throws a SystemValidationError listing every problem of an
 * invalid description, and an Error naming the program whose module is missing.
 */
export function bootSystem(
  kernel: Kernel,
  system: unknown,
  modules: Readonly<Record<string, Program>>,
  options: BootOptions = {},
): BootedSystem {
  const valid: SystemDescription = assertValidSystem(system);
  for (const name of Object.keys(valid.programs)) {
    if (!modules[name])
      throw new Error(`bootSystem: no module for program "${name}"; load it and pass it in \`modules\``);
  }
  const quotas = Object.values(valid.programs).reduce(
    (sum, p) =>
      sum +
      (p.kernelMemory === undefined ? DEFAULT_PROGRAM_KERNEL_MEMORY : parseMemorySize(p.kernelMemory)!) +
      PROGRAM_FACTORY_KERNEL_MEMORY,
    0,
  );
  const sigma0 = bootSigma0(kernel);
  const root = kernel.createTask('root', { kernelMemory: ROOT_TASK_KERNEL_MEMORY + quotas, icu: true });
  attachSigma0(kernel, sigma0, root);
  const state: RootTaskState = { programs: new Map() };
  kernel.createThread(
    root,
    rootTask(valid, modules, { state, consoleIsTty: options.consoleIsTty ?? false }),
    {
      name: 'root',
      priority: 200,
      pager: FixedSlot.PAGER * 4096,
    },
  );
  return { sigma0, root, state };
}
