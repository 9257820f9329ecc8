import type { FrameAllocator, PhysicalMemory, Translation } from '@pecan/kernel';
import { decodePte, type PteKind, type PteWords, pteHex } from '../src/index';

/**
 * A bump allocator over a RAM range that counts live frames, reuses freed ones (LIFO),
 * rejects double and foreign frees, and can be limited to `budget` more allocations.
 */
export class CountingAllocator implements FrameAllocator {
  readonly live = new Set<number>();
  /** Allocations left before `allocate` returns null; null for no limit. */
  budget: number | null = null;
  /** When set, fresh frames are filled with this byte instead of zero (a careless allocator). */
  garbage: number | null = null;
  private next: number;
  private readonly freeList: number[] = [];

  constructor(
    private readonly mem: PhysicalMemory,
    start = 0x10_0000,
    private readonly end = mem.base + mem.size,
  ) {
    this.next = start;
  }

  allocate(): number | null {
    if (this.budget !== null) {
      if (this.budget === 0) return null;
      this.budget--;
    }
    let frame = this.freeList.pop();
    if (frame === undefined) {
      if (this.next + 4096 > this.end) return null;
      frame = this.next;
      this.next += 4096;
    }
    this.live.add(frame);
    new Uint8Array(this.mem.buffer, frame - this.mem.base, 4096).fill(this.garbage ?? 0);
    return frame;
  }

  free(frame: number): void {
    if (!this.live.delete(frame)) throw new Error(`free of a frame not allocated: 0x${frame.toString(16)}`);
    this.freeList.push(frame);
  }
}

/** The raw entry `index` of the table at physical `table`. */
export function entryAt(mem: PhysicalMemory, table: number, index: number): PteWords {
  const u32 = new Uint32Array(mem.buffer);
  const w = (table - mem.base) / 4 + index * 2;
  return { lo: u32[w]!, hi: u32[w + 1]! };
}

/** The raw entry as `0xhhhhhhhh_llllllll`. */
export function entryHex(mem: PhysicalMemory, table: number, index: number): string {
  return pteHex(entryAt(mem, table, index));
}

const KINDS: readonly PteKind[] = ['PML4E', 'PDPTE', 'PDE', 'PTE'];

/**
 * The table frames reachable from `root` (root included), found by an independent
 * reading of the format, and the non-root tables among them with no present entry.
 */
export function reachableTables(mem: PhysicalMemory, root: number): { tables: Set<number>; empty: number[] } {
  const tables = new Set<number>();
  const empty: number[] = [];
  const u32 = new Uint32Array(mem.buffer);
  const visit = (table: number, level: number): void => {
    tables.add(table);
    let present = 0;
    for (let i = 0; i < 512; i++) {
      const w = (table - mem.base) / 4 + i * 2;
      const lo = u32[w]!;
      if ((lo & 1) === 0) continue;
      const e = decodePte(lo, u32[w + 1]!, KINDS[level]!);
      if (!e.present) continue;
      present++;
      if (!e.leaf) visit(e.address, level + 1);
    }
    if (present === 0 && level > 0) empty.push(table);
  };
  visit(root, 0);
  return { tables, empty };
}

/** A fresh Translation to pass to walk(). */
export function translation(): Translation {
  return { fault: -1, frame: -1, order: -1, rights: -1, levels: -1 };
}

/** A copy of all of RAM, to show that an operation changed nothing. */
export function snapshot(mem: PhysicalMemory): Uint8Array {
  return new Uint8Array(mem.buffer.slice(0));
}

/** The first byte offset where `a` and `b` differ, or -1 when they are equal (no huge diffs on failure). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  ) {
    return -1;
  }
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return Math.min(a.length, b.length);
}
