/** What a run queue links: a thread, seen only through its scheduling fields. */
export interface Runnable {
  prio: number;
  rqNext: Runnable | null;
  rqPrev: Runnable | null;
  /** True exactly while the thread is linked into a run queue. */
  queued: boolean;
}

/** Number of priority levels (0 lowest, 255 highest). */
export const PRIORITY_LEVELS = 256;

/**
 * One CPU's ready threads: a FIFO list per priority and a bitmap of non-empty levels,
 * so that enqueue, dequeue and "highest ready" are O(1) and allocation-free
 * (the same structure as Fiasco's and seL4's ready queues).
 *
 * Invariant: a thread is in at most one run queue, and `queued` says whether it is.
 * The running thread is never queued (Benno scheduling: only waiting-to-run threads are).
 */
export class RunQueue {
  private readonly heads: (Runnable | null)[] = new Array(PRIORITY_LEVELS).fill(null);
  private readonly tails: (Runnable | null)[] = new Array(PRIORITY_LEVELS).fill(null);
  private readonly bitmap = new Uint32Array(PRIORITY_LEVELS / 32);
  /** Number of queued threads. */
  length = 0;

  /** Appends `t` at the tail of its priority level. */
  enqueue(t: Runnable): void {
    const p = t.prio;
    const tail = this.tails[p] ?? null;
    t.rqPrev = tail;
    t.rqNext = null;
    if (tail) tail.rqNext = t;
    else {
      this.heads[p] = t;
      this.bitmap[p >>> 5]! |= 1 << (p & 31);
    }
    this.tails[p] = t;
    t.queued = true;
    this.length++;
  }

  /** Puts `t` at the head of its level: a preempted thread keeps its turn. */
  enqueueFront(t: Runnable): void {
    const p = t.prio;
    const head = this.heads[p] ?? null;
    t.rqNext = head;
    t.rqPrev = null;
    if (head) head.rqPrev = t;
    else {
      this.tails[p] = t;
      this.bitmap[p >>> 5]! |= 1 << (p & 31);
    }
    this.heads[p] = t;
    t.queued = true;
    this.length++;
  }

  /** Unlinks `t`, which must be queued here. */
  remove(t: Runnable): void {
    const p = t.prio;
    if (t.rqPrev) t.rqPrev.rqNext = t.rqNext;
    else this.heads[p] = t.rqNext;
    if (t.rqNext) t.rqNext.rqPrev = t.rqPrev;
    else this.tails[p] = t.rqPrev;
    if (!this.heads[p]) this.bitmap[p >>> 5]! &= ~(1 << (p & 31));
    t.rqNext = null;
    t.rqPrev = null;
    t.queued = false;
    this.length--;
  }

  /** The highest priority with a queued thread, or -1 when empty. */
  highestPriority(): number {
    // The IPC path asks this on every switch, and the queue is usually empty then.
    if (this.length === 0) return -1;
    for (let w = this.bitmap.length - 1; w >= 0; w--) {
      const bits = this.bitmap[w]!;
      if (bits !== 0) return (w << 5) + 31 - Math.clz32(bits);
    }
    return -1;
  }

  /** Removes and returns the first thread of the highest non-empty level. */
  dequeueHighest(): Runnable | null {
    const p = this.highestPriority();
    if (p < 0) return null;
    const t = this.heads[p]!;
    this.remove(t);
    return t;
  }

  /** Every queued thread, highest priority first, FIFO within a level. */
  *threads(): IterableIterator<Runnable> {
    for (let p = PRIORITY_LEVELS - 1; p >= 0; p--) {
      for (let t = this.heads[p] ?? null; t; t = t.rqNext) yield t;
    }
  }
}
