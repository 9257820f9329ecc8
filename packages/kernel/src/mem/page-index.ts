/**
 * The mappings of one address space by virtual address. Smallest pages sit in arrays
 * of 512 per aligned region (one map entry per 2 MiB of 4 KiB pages), larger pages in a
 * map of their own: growing a hash map by one entry per page made a fault-per-page
 * workload spend most of its time rehashing, and lookups stay one hash probe.
 *
 * Invariant: a mapping is stored under its first address and its size, and `size`
 * counts the stored mappings.
 */
import type { MemMapping } from './address-space';

const SLOTS = 512;

export class PageIndex {
  private readonly small = new Map<number, (MemMapping | undefined)[]>();
  private readonly large = new Map<number, MemMapping>();
  private readonly regionSize: number;
  /** Number of mappings stored. */
  size = 0;

  constructor(
    /** Size of the smallest page. */
    private readonly pageSize: number,
  ) {
    this.regionSize = pageSize * SLOTS;
  }

  /** The mapping of `size` bytes that starts at `base`, if any. */
  get(base: number, size: number): MemMapping | undefined {
    if (size !== this.pageSize) {
      if (this.large.size === 0) return undefined;
      const m = this.large.get(base);
      return m !== undefined && m.payload.size === size ? m : undefined;
    }
    const region = Math.floor(base / this.regionSize);
    const slots = this.small.get(region);
    return slots === undefined ? undefined : slots[(base - region * this.regionSize) / this.pageSize];
  }

  /** True when `m` is stored. */
  has(m: MemMapping): boolean {
    return this.get(m.index, m.payload.size) === m;
  }

  /** Stores `m`, replacing whatever was stored at its address and size. */
  set(m: MemMapping): void {
    const size = m.payload.size;
    if (size !== this.pageSize) {
      if (this.large.get(m.index) === undefined) this.size++;
      this.large.set(m.index, m);
      return;
    }
    const region = Math.floor(m.index / this.regionSize);
    let slots = this.small.get(region);
    if (slots === undefined) {
      slots = new Array<MemMapping | undefined>(SLOTS).fill(undefined);
      this.small.set(region, slots);
    }
    const i = (m.index - region * this.regionSize) / this.pageSize;
    if (slots[i] === undefined) this.size++;
    slots[i] = m;
  }

  /** Removes `m` if it is stored. */
  delete(m: MemMapping): void {
    const size = m.payload.size;
    if (size !== this.pageSize) {
      if (this.large.get(m.index) === m) {
        this.large.delete(m.index);
        this.size--;
      }
      return;
    }
    const region = Math.floor(m.index / this.regionSize);
    const slots = this.small.get(region);
    const i = (m.index - region * this.regionSize) / this.pageSize;
    if (slots !== undefined && slots[i] === m) {
      slots[i] = undefined;
      this.size--;
    }
  }

  /** Every mapping: large pages first, then small ones by region. */
  *values(): IterableIterator<MemMapping> {
    yield* this.large.values();
    for (const slots of this.small.values()) for (const m of slots) if (m !== undefined) yield m;
  }

  clear(): void {
    this.small.clear();
    this.large.clear();
    this.size = 0;
  }
}
