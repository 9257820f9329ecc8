/**
 * Host-side boot of sigma0: what the kernel's boot code does on Fiasco before the root
 * task runs.
 */
import { CapRights, FixedSlot, type IpcGate, type Kernel, type Task, type Thread } from '@pecan/kernel';
import { sigma0 } from './server';

/** What {@link bootSigma0} made. */
export interface Sigma0System {
  readonly task: Task;
  readonly thread: Thread;
  /** The gate clients call sigma0 through (their pager capability, usually). */
  readonly gate: IpcGate;
}

/** Options for {@link bootSigma0}. */
export interface Sigma0Options {
  /** sigma0's priority (default 250: above every pager it serves). */
  readonly priority?: number;
}

/**
 * Creates the sigma0 task (holding all memory, MMIO and I/O ports), starts the sigma0
 * server in it, and makes the gate clients reach it through.
 */
export function bootSigma0(kernel: Kernel, options: Sigma0Options = {}): Sigma0System {
  const task = kernel.createTask('sigma0', { sigma0: true });
  const thread = kernel.createThread(task, sigma0, { name: 'sigma0', priority: options.priority ?? 250 });
  const gate = kernel.createGate(thread, 0, 'sigma0');
  return { task, thread, gate };
}

/**
 * Gives `task` a capability to sigma0 in `slot` (default: the pager slot, as the root
 * task has it on Fiasco), so that its threads can use sigma0 as their pager and call
 * it with the sigma0 protocol.
 */
export function attachSigma0(
  kernel: Kernel,
  system: Sigma0System,
  task: Task,
  slot: number = FixedSlot.PAGER,
): void {
  kernel.mapCap(task, slot, system.gate, CapRights.RW);
}
