import type { Task } from '../objects/task';
import type { Thread } from '../objects/thread';
import { RunQueue } from './run-queue';

/**
 * One simulated CPU: its local virtual clock, its current thread and its run queue.
 *
 * Invariant: `current` is null or a READY thread whose `cpu` is this CPU's index and
 * which is not queued; every thread in `runQueue` is READY and has this CPU's index.
 */
export class Cpu {
  readonly runQueue = new RunQueue();
  current: Thread | null = null;
  /** Cycles this CPU has executed up to. */
  time = 0;
  /** Cycles spent with nothing to run. */
  idleCycles = 0;
  /** Number of thread switches on this CPU. */
  switches = 0;
  /** Task of the thread that ran last: a switch to another task costs a space switch. */
  lastTask: Task | null = null;
  /** The thread dispatched last (the `from` of the next schedule event). */
  lastThread: Thread | null = null;

  constructor(readonly index: number) {}

  /**
   * The virtual time at which this CPU next needs the kernel: now if its current thread
   * is about to run user code, the end of its compute chunk if it is computing, and
   * never when idle.
   */
  nextEventTime(): number {
    const t = this.current;
    if (!t) return Number.POSITIVE_INFINITY;
    if (t.computeLeft > 0) return this.time + Math.min(t.computeLeft, Math.max(t.sliceLeft, 1));
    return this.time;
  }
}
