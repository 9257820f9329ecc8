import { ThreadEnv } from './env';
import type { EntryPoint, KernelEntry } from './registers';

/**
 * The body of a user thread: a generator that yields kernel entries and receives
 * each syscall's result tag back. Annotating helpers with this type makes
 * `const tag = yield env.call(…)` a `number`.
 */
export type UserCode<R = void> = Generator<KernelEntry, R, number>;

/** A thread's main function. */
export type Main = (env: ThreadEnv) => UserCode<unknown>;

/** A program: a main function with an entry point the kernel can start threads at. */
export interface Program {
  readonly name: string;
  readonly main: Main;
  /** The entry point (what a code address stands for). */
  readonly entry: EntryPoint;
}

/**
 * Defines a program (brief §2): `program(function* main(env) { … })`. Every thread
 * started at this program's entry gets its own {@link ThreadEnv}.
 */
export function program(main: Main, name?: string): Program {
  const entry: EntryPoint = (port, arg) => main(new ThreadEnv(port, arg));
  return { name: name ?? (main.name || 'program'), main, entry };
}
