import {
  CapRights,
  capIndex,
  FIRST_FREE_SLOT,
  type IpcGate,
  Kernel,
  type KernelOptions,
  type Main,
  type Program,
  program,
  type Task,
  type Thread,
  type ThreadOptions,
} from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';

/** A kernel on the test platform (1 GHz: 1000 cycles per µs). */
export function boot(options: Partial<KernelOptions> = {}): Kernel {
  return new Kernel({ platform: createTestPlatform(), ...options });
}

/** First free capability index: where tests put the capabilities they hand out. */
export const CAP0 = capIndex(FIRST_FREE_SLOT);
/** The n-th test capability index after {@link CAP0}. */
export const cap = (n: number): number => capIndex(FIRST_FREE_SLOT + n);

/** Starts `main` in `task`. */
export function spawn(k: Kernel, task: Task, main: Main | Program, options: ThreadOptions = {}): Thread {
  return k.createThread(task, typeof main === 'function' ? program(main) : main, options);
}

/** Creates a gate bound to `server` and maps it into `client` at slot `16 + n` with `rights`. */
export function connect(
  k: Kernel,
  client: Task,
  server: Thread,
  label: number,
  n = 0,
  rights: number = CapRights.RW,
): IpcGate {
  const g = k.createGate(server, label, `gate${label}`);
  k.mapCap(client, FIRST_FREE_SLOT + n, g, rights);
  return g;
}

/** Log lines as `tag: text`. */
export function logLines(k: Kernel): string[] {
  return k.logOutput.map((e) => `${e.tag}: ${e.text}`);
}
