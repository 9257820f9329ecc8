/**
 * sigma0's bookkeeping: which physical frames exist, of which kind, and which have
 * been given out. It is plain data, so it is tested without a kernel.
 *
 * Invariant: a frame is given at most once; `given[i]` is set exactly for the frames
 * of the blocks handed out by {@link FrameTable.take} and {@link FrameTable.takeAny}.
 */
import { Errno, type KipMemoryDescriptor, KipMemType } from '@pecan/kernel';

const PAGE = 4096;

/** What a physical range is, for sigma0. */
export const FrameKind = { NONE: 0, RAM: 1, DEVICE: 2 } as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

interface Span {
  readonly base: number;
  readonly end: number;
  readonly kind: FrameKind;
  /** One byte per frame: 1 once given. */
  readonly given: Uint8Array;
}

export class FrameTable {
  private readonly spans: Span[];
  /** Where the search for a free block of RAM starts (everything below is given). */
  private cursor = 0;

  /** Builds the table from the KIP's memory descriptors. */
  constructor(memory: readonly KipMemoryDescriptor[]) {
    this.spans = memory
      .filter((d) => d.type === KipMemType.CONVENTIONAL || d.type === KipMemType.DEDICATED)
      .map((d) => ({
        base: d.base,
        end: d.base + d.size,
        kind: d.type === KipMemType.CONVENTIONAL ? FrameKind.RAM : FrameKind.DEVICE,
        given: new Uint8Array(Math.ceil(d.size / PAGE)),
      }))
      .sort((a, b) => a.base - b.base);
  }

  /** The kind of `[pa, pa + size)` when it lies in one region, else NONE. */
  kindOf(pa: number, size: number): FrameKind {
    const s = this.spanOf(pa, size);
    return s ? s.kind : FrameKind.NONE;
  }

  private spanOf(pa: number, size: number): Span | undefined {
    return this.spans.find((s) => pa >= s.base && pa + size <= s.end);
  }

  /**
   * Gives `[pa, pa + size)` if it is all of `kind` and none of it was given: returns 0,
   * or the errno of the refusal (ENOENT wrong kind, EBUSY given before).
   */
  take(pa: number, size: number, kind: FrameKind): number {
    const s = this.spanOf(pa, size);
    if (!s || s.kind !== kind) return Errno.ENOENT;
    const first = (pa - s.base) / PAGE;
    const count = size / PAGE;
    for (let i = first; i < first + count; i++) if (s.given[i]) return Errno.EBUSY;
    s.given.fill(1, first, first + count);
    return 0;
  }

  /** Gives the lowest free block of RAM of `size` bytes aligned to its size; its address, or −1. */
  takeAny(size: number): number {
    for (const s of this.spans) {
      if (s.kind !== FrameKind.RAM || s.end <= this.cursor) continue;
      let pa = Math.max(s.base, size === PAGE ? this.cursor : 0);
      pa = Math.ceil(pa / size) * size;
      for (; pa + size <= s.end; pa += size) {
        if (pa < s.base) continue;
        if (this.take(pa, size, FrameKind.RAM) === 0) {
          if (size === PAGE) this.cursor = pa + PAGE;
          return pa;
        }
      }
    }
    return -1;
  }

  /** Number of frames given so far. */
  get givenFrames(): number {
    let n = 0;
    for (const s of this.spans) for (const g of s.given) n += g;
    return n;
  }
}
