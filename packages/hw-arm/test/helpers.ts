/**
 * Test helpers: a counting frame allocator over the simulated RAM, and BigInt readers
 * for descriptors (BigInt is fine in tests; the back end itself never uses it).
 */
import type { FrameAllocator, PhysicalMemory, Translation } from '@pecan/kernel';

/**
 * A bump allocator with a free list that counts live frames. `limit` caps the number
 * of live frames (to provoke ENOMEM). Freed frames are filled with 0xEE so that a use
 * after free shows up as garbage descriptors; with `dirty`, allocated frames are not
 * zeroed either (the back end must not rely on it).
 */
export class CountingAllocator implements FrameAllocator {
  readonly live = new Set<number>();
  allocations = 0;
  failures = 0;
  limit = Number.POSITIVE_INFINITY;
  private next: number;
  private readonly end: number;
  private readonly freeList: number[] = [];
  private readonly bytes: Uint8Array;
  private readonly dirty: boolean;

  constructor(
    private readonly mem: PhysicalMemory,
    options: { first?: number; dirty?: boolean } = {},
  ) {
    this.next = options.first ?? mem.base;
    this.end = mem.base + mem.size;
    this.bytes = new Uint8Array(mem.buffer);
    this.dirty = options.dirty ?? false;
  }

  allocate(): number | null {
    if (this.live.size >= this.limit) {
      this.failures++;
      return null;
    }
    let frame = this.freeList.pop();
    if (frame === undefined) {
      if (this.next + 4096 > this.end) {
        this.failures++;
        return null;
      }
      frame = this.next;
      this.next += 4096;
    }
    if (!this.dirty) this.fill(frame, 0);
    this.live.add(frame);
    this.allocations++;
    return frame;
  }

  free(frame: number): void {
    if (!this.live.delete(frame))
      throw new Error(`free of a frame that is not live: 0x${frame.toString(16)}`);
    this.fill(frame, 0xee);
    this.freeList.push(frame);
  }

  /** Allows only `n` more live frames from now on. */
  allowMore(n: number): void {
    this.limit = this.live.size + n;
  }

  private fill(frame: number, value: number): void {
    const offset = frame - this.mem.base;
    this.bytes.fill(value, offset, offset + 4096);
  }
}

/** The 64-bit descriptor `index` of the table at physical address `table`. */
export function desc(mem: PhysicalMemory, table: number, index: number): bigint {
  return new DataView(mem.buffer).getBigUint64(table - mem.base + index * 8, true);
}

/** Writes a raw 64-bit descriptor (to build reserved or unusual encodings). */
export function pokeDesc(mem: PhysicalMemory, table: number, index: number, value: bigint): void {
  new DataView(mem.buffer).setBigUint64(table - mem.base + index * 8, value, true);
}

/** A descriptor as `0x` + 16 hex digits, for readable failures. */
export function hex64(value: bigint): string {
  return `0x${value.toString(16).padStart(16, '0')}`;
}

/** Output address bits 47:12 of a descriptor. */
export function descAddress(d: bigint): number {
  return Number(d & 0x0000_ffff_ffff_f000n);
}

/** Physical address of the table that the descriptor for `va` at `level` lives in, following tables from `root`. */
export function tableAt(mem: PhysicalMemory, root: number, va: number, level: number): number {
  let table = root;
  for (let l = 0; l < level; l++) {
    const d = desc(mem, table, indexOf(va, l));
    if ((d & 3n) !== 3n) throw new Error(`no table at level ${l + 1} for 0x${va.toString(16)}`);
    table = descAddress(d);
  }
  return table;
}

/** The index of `va` in a table at `level`. */
export function indexOf(va: number, level: number): number {
  return Math.floor(va / 2 ** (39 - 9 * level)) % 512;
}

/** Counts the table frames reachable from `root`, the root included, by reading memory directly. */
export function countTables(mem: PhysicalMemory, root: number): number {
  return tableCensus(mem, root).tables;
}

/**
 * The table frames reachable from `root` (the root included), and how many of them,
 * the root excepted, hold no valid descriptor.
 */
export function tableCensus(mem: PhysicalMemory, root: number): { tables: number; empty: number } {
  const census = { tables: 0, empty: 0 };
  const visit = (table: number, level: number): void => {
    census.tables++;
    let valid = 0;
    for (let i = 0; i < 512; i++) {
      const d = desc(mem, table, i);
      if ((d & 1n) !== 0n) valid++;
      if (level < 3 && (d & 3n) === 3n) visit(descAddress(d), level + 1);
    }
    if (valid === 0 && level > 0) census.empty++;
  };
  visit(root, 0);
  return census;
}

/** A fresh Translation to pass to `walk`. */
export function translation(): Translation {
  return { fault: -1, frame: -1, order: -1, rights: -1, levels: -1 };
}
