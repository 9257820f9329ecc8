/** What a timer queue holds: a thread waiting with a timeout. */
export interface Timed {
  /** Virtual time (cycles) at which the timeout fires. */
  wakeAt: number;
  /** Tie-breaker: order in which timeouts were armed. */
  wakeSeq: number;
  /** Position in the heap, or -1 when not armed. */
  heapIndex: number;
}

/**
 * A binary min-heap of timeouts ordered by (time, arming order), so that timeouts at
 * the same virtual time fire in a deterministic order. Arm, cancel and pop are
 * O(log n) and allocation-free once the backing array has grown.
 */
export class TimerQueue<T extends Timed> {
  private readonly heap: T[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest armed timeout, or undefined. */
  peek(): T | undefined {
    return this.heap[0];
  }

  /** The time of the earliest timeout, or +Infinity. */
  nextTime(): number {
    const top = this.heap[0];
    return top ? top.wakeAt : Number.POSITIVE_INFINITY;
  }

  /** Arms `t` to fire at `at`; re-arms it if it was armed. */
  arm(t: T, at: number): void {
    if (t.heapIndex >= 0) this.cancel(t);
    t.wakeAt = at;
    t.wakeSeq = this.seq++;
    t.heapIndex = this.heap.length;
    this.heap.push(t);
    this.up(t.heapIndex);
  }

  /** Disarms `t` if it is armed. */
  cancel(t: T): void {
    const i = t.heapIndex;
    if (i < 0) return;
    const last = this.heap.pop()!;
    t.heapIndex = -1;
    if (last !== t) {
      this.heap[i] = last;
      last.heapIndex = i;
      this.down(i);
      this.up(last.heapIndex);
    }
  }

  /** Removes and returns the earliest timeout. */
  pop(): T | undefined {
    const top = this.heap[0];
    if (top) this.cancel(top);
    return top;
  }

  private less(a: T, b: T): boolean {
    return a.wakeAt < b.wakeAt || (a.wakeAt === b.wakeAt && a.wakeSeq < b.wakeSeq);
  }

  private up(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.less(x, parent)) break;
      h[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    h[i] = x;
    x.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r]!, h[l]!) ? r : l;
      const child = h[c]!;
      if (!this.less(child, x)) break;
      h[i] = child;
      child.heapIndex = i;
      i = c;
    }
    h[i] = x;
    x.heapIndex = i;
  }
}
