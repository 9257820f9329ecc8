import {
  type FrameAllocator,
  MemAccess,
  MemType,
  PageStatus,
  type PageTableFormat,
  type PhysicalMemory,
  WalkFault,
} from '@pecan/kernel';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPcRam, createX86PageTables, PC_LAPIC_BASE, PteFlag, X86_USER_LIMIT } from '../src/index';
import {
  CountingAllocator,
  entryAt,
  firstDifference,
  reachableTables,
  snapshot,
  translation,
} from './helpers';

const { READ, WRITE, EXEC } = MemAccess;
const RWX = READ | WRITE | EXEC;
const K4 = 4096;
const M2 = 2 ** 21;
const G1 = 2 ** 30;

let mem: PhysicalMemory;
let alloc: CountingAllocator;
let f: PageTableFormat;
let root: number;

beforeEach(() => {
  mem = createPcRam(16 * 1024 * 1024);
  alloc = new CountingAllocator(mem);
  f = createX86PageTables(mem);
  root = f.createRoot(alloc)!;
});

function walk(va: number, access = 0) {
  return f.walk(root, va, access, translation());
}

/** Physical address `va` translates to, or the fault as a negative number. */
function phys(va: number): number {
  const t = walk(va);
  return t.fault === 0 ? t.frame + (va % 2 ** t.order) : -t.fault;
}

function tablesOk(): void {
  const { tables, empty } = reachableTables(mem, root);
  expect([...alloc.live].sort()).toEqual([...tables].sort());
  expect(empty).toEqual([]);
}

describe('the format', () => {
  it('describes itself', () => {
    expect(f.name).toBe('x86_64 4-level');
    expect(f.pageOrders).toEqual([12, 21, 30]);
    expect(f.vaBits).toBe(48);
  });

  it('createRoot takes one zeroed frame, or returns null on ENOMEM', () => {
    expect(alloc.live.size).toBe(1);
    alloc.budget = 0;
    expect(f.createRoot(alloc)).toBeNull();
    expect(alloc.live.size).toBe(1);
  });
});

describe('virtual addresses (numbers; user = canonical lower half, 0 ≤ va < 2^47)', () => {
  // A VA is the numeric value of the 64-bit linear address. Upper-half canonical
  // addresses are ≥ 2^64 − 2^47 (exactly representable), or in [2^47, 2^48) in the
  // kernel's 48-bit form; non-canonical ones lie between. None is a user address.
  const notUser: [string, number][] = [
    ['0x0000_8000_0000_0000 (first non-canonical, bit 47 set)', 2 ** 47],
    ['0x0000_FFFF_FFFF_F000 (48-bit form of the kernel half)', 2 ** 48 - K4],
    ['0x0001_0000_0000_0000 (non-canonical, above 48 bits)', 2 ** 48],
    ['0xFFFF_8000_0000_0000 (first upper-half canonical, 2^64 − 2^47)', 2 ** 64 - 2 ** 47],
    ['0xFFFF_FFFF_FFFF_F000 (rounded: 2^64)', 2 ** 64],
    ['a negative number', -K4],
    ['a fraction', 0.5],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
  ];

  it('accepts the lower half, both ends included', () => {
    expect(f.isUserAddress(0)).toBe(true);
    expect(f.isUserAddress(X86_USER_LIMIT - 1)).toBe(true);
    expect(f.isUserAddress(2 ** 47 - K4)).toBe(true);
  });

  for (const [name, va] of notUser) {
    it(`rejects ${name}: isUserAddress false, walk BAD_ADDRESS with 0 levels, map false`, () => {
      expect(f.isUserAddress(va)).toBe(false);
      expect(walk(va, READ)).toMatchObject({ fault: WalkFault.BAD_ADDRESS, levels: 0 });
      expect(f.map(root, va, 0x20_0000, 12, READ, alloc)).toBe(false);
      expect(f.unmap(root, va, 12, alloc)).toBe(0);
    });
  }

  it('maps and walks the last user page, 2^47 − 4096', () => {
    expect(f.map(root, 2 ** 47 - K4, 0x30_0000, 12, READ, alloc)).toBe(true);
    expect(phys(2 ** 47 - 1)).toBe(0x30_0fff);
    const t = walk(2 ** 47 - 1);
    expect(t).toMatchObject({ fault: 0, order: 12, levels: 4 });
  });
});

describe('walk faults', () => {
  it('NOT_MAPPED in an empty space after reading one entry', () => {
    expect(walk(0x40_0000, READ)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
  });

  it('NOT_MAPPED next to a mapping, counting the entries read', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    expect(walk(0x40_1000)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 4 });
    expect(walk(0x60_0000)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 3 });
    expect(walk(G1)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 2 });
    expect(walk(2 ** 39)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
  });

  it('PROTECTION for a write to a read-only page and for exec on an XD page; the rights are reported', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, READ, alloc);
    expect(walk(0x40_0000, WRITE)).toMatchObject({ fault: WalkFault.PROTECTION, rights: READ, levels: 4 });
    expect(walk(0x40_0000, EXEC)).toMatchObject({ fault: WalkFault.PROTECTION, rights: READ });
    expect(walk(0x40_0000, READ)).toMatchObject({ fault: 0, rights: READ });
    f.map(root, 0x40_0000, 0x20_0000, 12, READ | EXEC, alloc);
    expect(walk(0x40_0000, EXEC)).toMatchObject({ fault: 0, rights: READ | EXEC });
    expect(walk(0x40_0000, WRITE | EXEC).fault).toBe(WalkFault.PROTECTION);
  });

  it('a faulting walk sets no A or D bit', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, READ, alloc);
    const before = snapshot(mem);
    walk(0x40_0000, WRITE);
    walk(0x40_1000, READ);
    expect(firstDifference(snapshot(mem), before)).toBe(-1);
  });

  it('rights are the AND across levels (SDM §4.6): R/W or U/S clear, or XD set, in a PML4E restricts the page', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    const u32 = new Uint32Array(mem.buffer);
    const w = (root - mem.base) / 4; // PML4 entry 0
    const lo = u32[w]!;
    u32[w] = lo & ~PteFlag.RW;
    expect(walk(0x40_0000, WRITE)).toMatchObject({ fault: WalkFault.PROTECTION, rights: READ | EXEC });
    u32[w] = lo;
    u32[w + 1] = 0x8000_0000;
    expect(walk(0x40_0000, EXEC)).toMatchObject({ fault: WalkFault.PROTECTION, rights: READ | WRITE });
    u32[w + 1] = 0;
    u32[w] = lo & ~PteFlag.US; // a supervisor-only region: no user access at all
    expect(walk(0x40_0000, READ).fault).toBe(WalkFault.PROTECTION);
    u32[w] = lo;
    expect(walk(0x40_0000, RWX).fault).toBe(0);
  });

  it('PS in a PML4E is reserved: the walk reports NOT_MAPPED', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    const u32 = new Uint32Array(mem.buffer);
    const w = (root - mem.base) / 4;
    u32[w] = u32[w]! | PteFlag.PS;
    expect(walk(0x40_0000, READ)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
  });
});

describe('rights mapping (x86 cannot express write-only or exec-only)', () => {
  it('any right makes a readable page; WRITE gives R/W, no EXEC gives XD', () => {
    for (let rights = 1; rights <= 7; rights++) {
      f.map(root, 0x40_0000, 0x20_0000, 12, rights, alloc);
      const { lo, hi } = entryAt(mem, [...reachableTables(mem, root).tables].at(-1)!, 0);
      expect((lo & PteFlag.RW) !== 0).toBe((rights & WRITE) !== 0);
      expect(hi >>> 31 === 1).toBe((rights & EXEC) === 0);
      expect(walk(0x40_0000).rights).toBe(READ | (rights & (WRITE | EXEC)));
    }
  });

  it('rights 0 inside a large page splits it, or with no frame left fails and changes nothing', () => {
    f.map(root, 0x40_0000, 0x80_0000, 21, READ, alloc);
    const before = snapshot(mem);
    alloc.budget = 0;
    expect(f.map(root, 0x40_1000, 0x80_1000, 12, 0, alloc)).toBe(false);
    expect(firstDifference(snapshot(mem), before)).toBe(-1);
    alloc.budget = null;
    expect(f.map(root, 0x40_1000, 0x80_1000, 12, 0, alloc)).toBe(true);
    expect(walk(0x40_1000).fault).toBe(WalkFault.NOT_MAPPED);
    expect(phys(0x40_2000)).toBe(0x80_2000);
    tablesOk();
  });

  it('rights 0 unmaps', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    expect(f.map(root, 0x40_0000, 0x20_0000, 12, 0, alloc)).toBe(true);
    expect(walk(0x40_0000).fault).toBe(WalkFault.NOT_MAPPED);
    tablesOk();
    expect(alloc.live.size).toBe(1);
  });
});

describe('accessed and dirty bits', () => {
  it('set by successful walks, reported and cleared by unmap', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    f.map(root, 0x40_1000, 0x20_1000, 12, RWX, alloc);
    f.map(root, 0x40_2000, 0x20_2000, 12, RWX, alloc);
    walk(0x40_1000, READ);
    walk(0x40_2000, WRITE);
    expect(f.unmap(root, 0x40_0000, 12, alloc)).toBe(0);
    expect(f.unmap(root, 0x40_1000, 12, alloc)).toBe(PageStatus.ACCESSED);
    expect(f.unmap(root, 0x40_2000, 12, alloc)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    expect(f.unmap(root, 0x40_2000, 12, alloc)).toBe(0);
  });

  it('are left alone by a probe (access 0), as on the AArch64 format', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    expect(walk(0x40_0000, 0).fault).toBe(0);
    expect(f.unmap(root, 0x40_0000, 12, alloc)).toBe(0);
  });

  it('survive a remap of the same frame (a rights change), not a remap to another frame', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, READ | WRITE, alloc);
    walk(0x40_0000, WRITE);
    f.map(root, 0x40_0000, 0x20_0000, 12, READ, alloc);
    expect(walk(0x40_0000, WRITE).fault).toBe(WalkFault.PROTECTION);
    expect(f.unmap(root, 0x40_0000, 12, alloc)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    f.map(root, 0x40_0000, 0x20_0000, 12, READ | WRITE, alloc);
    walk(0x40_0000, WRITE);
    f.map(root, 0x40_0000, 0x21_0000, 12, READ | WRITE, alloc);
    expect(f.unmap(root, 0x40_0000, 12, alloc)).toBe(0);
  });
});

describe('large pages', () => {
  it('a 2 MiB page translates every offset, at 3 levels', () => {
    const va = 0x7f00_0020_0000;
    const pa = 0x1_2340_0000;
    expect(f.map(root, va, pa, 21, READ | WRITE, alloc)).toBe(true);
    for (const off of [0, 1, 0xfff, K4, 0x1_0000, 0x12_3456, M2 - K4, M2 - 1]) {
      const t = walk(va + off, READ);
      expect(t).toMatchObject({ fault: 0, frame: pa, order: 21, levels: 3, rights: READ | WRITE });
      expect(phys(va + off)).toBe(pa + off);
    }
    for (let off = 0; off < M2; off += 4099) expect(phys(va + off)).toBe(pa + off);
    expect(walk(va + M2).fault).toBe(WalkFault.NOT_MAPPED);
    expect(walk(va - 1).fault).toBe(WalkFault.NOT_MAPPED);
  });

  it('a 1 GiB page translates every offset, at 2 levels', () => {
    const va = 0x0040_c000_0000;
    const pa = 0x4_4000_0000;
    expect(f.map(root, va, pa, 30, RWX, alloc)).toBe(true);
    expect(alloc.live.size).toBe(2);
    for (const off of [0, 1, K4 - 1, M2, M2 + 5, 0x1234_5678, G1 - K4, G1 - 1]) {
      expect(walk(va + off)).toMatchObject({ fault: 0, frame: pa, order: 30, levels: 2, rights: RWX });
      expect(phys(va + off)).toBe(pa + off);
    }
    for (let off = 0; off < G1; off += 1_000_003) expect(phys(va + off)).toBe(pa + off);
    expect(walk(va + G1).fault).toBe(WalkFault.NOT_MAPPED);
  });

  it('maps device frames outside RAM (LAPIC), as normal or as device memory', () => {
    expect(f.map(root, 0x50_0000, PC_LAPIC_BASE, 12, READ | WRITE, alloc)).toBe(true);
    expect(phys(0x50_0020)).toBe(PC_LAPIC_BASE + 0x20);
    expect(f.map(root, 0x50_0000, PC_LAPIC_BASE, 12, READ | WRITE, alloc, MemType.DEVICE)).toBe(true);
    expect(walk(0x50_0020, WRITE)).toMatchObject({ fault: 0, frame: PC_LAPIC_BASE, rights: READ | WRITE });
    expect(f.unmap(root, 0x50_0000, 12, alloc)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    tablesOk();
  });

  it('a large page replaces the smaller mappings in its range and frees their tables', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    f.map(root, 0x40_5000, 0x20_5000, 12, RWX, alloc);
    expect(alloc.live.size).toBe(4);
    expect(f.map(root, 0x40_0000, 0x80_0000, 21, READ, alloc)).toBe(true);
    expect(alloc.live.size).toBe(3);
    expect(phys(0x40_5000)).toBe(0x80_5000);
    tablesOk();
    // A 1 GiB page over a PD holding a 2 MiB page and a PT: both tables go.
    f.map(root, 0x20_0000, 0x20_0000, 12, RWX, alloc);
    expect(alloc.live.size).toBe(4);
    expect(f.map(root, 0, 0x4000_0000, 30, READ, alloc)).toBe(true);
    expect(alloc.live.size).toBe(2);
    expect(phys(0x40_5000)).toBe(0x4040_5000);
    tablesOk();
  });

  it('a smaller mapping inside a large page splits it: only its own range changes', () => {
    f.map(root, 0x40_0000, 0x80_0000, 21, READ | WRITE, alloc);
    walk(0x40_0000, WRITE); // A and D on the large page
    expect(f.map(root, 0x40_3000, 0x1_0000, 12, READ, alloc)).toBe(true);
    expect(alloc.live.size).toBe(4);
    expect(phys(0x40_3abc)).toBe(0x1_0abc);
    expect(walk(0x40_3000).rights).toBe(READ);
    for (const off of [0, 0x2fff, 0x4000, M2 - 1]) {
      expect(walk(0x40_0000 + off)).toMatchObject({ fault: 0, order: 12, rights: READ | WRITE });
      expect(phys(0x40_0000 + off)).toBe(0x80_0000 + off);
    }
    // The pieces keep the large page's status.
    expect(f.unmap(root, 0x40_1000, 12, alloc)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    tablesOk();
  });

  it('a 4 KiB mapping inside a 1 GiB page splits it twice (a PD and a PT)', () => {
    f.map(root, G1, 0x8000_0000, 30, READ, alloc);
    expect(alloc.live.size).toBe(2);
    expect(f.map(root, G1 + M2 + K4, 0x5000, 12, RWX, alloc)).toBe(true);
    expect(alloc.live.size).toBe(4);
    expect(phys(G1 + M2 + K4)).toBe(0x5000);
    expect(walk(G1 + 3 * M2 + 7)).toMatchObject({ fault: 0, order: 21, frame: 0x8000_0000 + 3 * M2 });
    expect(walk(G1 + M2)).toMatchObject({ fault: 0, order: 12, frame: 0x8000_0000 + M2 });
    expect(phys(G1 + G1 - 1)).toBe(0x8000_0000 + G1 - 1);
    tablesOk();
  });
});

describe('ENOMEM', () => {
  it('map returns false and changes nothing when no table frame is left', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    const before = snapshot(mem);
    alloc.budget = 0;
    expect(f.map(root, 2 ** 40, 0x20_0000, 12, RWX, alloc)).toBe(false);
    alloc.budget = 2; // three tables needed
    expect(f.map(root, 2 ** 40, 0x20_0000, 12, RWX, alloc)).toBe(false);
    expect(firstDifference(snapshot(mem), before)).toBe(-1);
    expect(alloc.live.size).toBe(4);
    alloc.budget = 3;
    expect(f.map(root, 2 ** 40, 0x20_0000, 12, RWX, alloc)).toBe(true);
    tablesOk();
  });

  it('map into a large page that needs two frames for the split fails whole when only one is left', () => {
    f.map(root, G1, 0x8000_0000, 30, READ, alloc);
    walk(G1 + 5);
    const before = snapshot(mem);
    alloc.budget = 1;
    expect(f.map(root, G1 + K4, 0x5000, 12, RWX, alloc)).toBe(false);
    expect(firstDifference(snapshot(mem), before)).toBe(-1);
    expect(alloc.live.size).toBe(2);
  });

  it('map needs no frame where the tables exist, even with none left', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    alloc.budget = 0;
    expect(f.map(root, 0x40_1000, 0x20_1000, 12, RWX, alloc)).toBe(true);
    expect(f.map(root, 0x60_0000, 0x60_0000, 21, RWX, alloc)).toBe(true);
  });
});

describe('unmap', () => {
  it('frees tables that become empty, up to (not including) the root', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    f.map(root, 0x40_1000, 0x20_1000, 12, RWX, alloc);
    expect(alloc.live.size).toBe(4);
    f.unmap(root, 0x40_0000, 12, alloc);
    expect(alloc.live.size).toBe(4);
    f.unmap(root, 0x40_1000, 12, alloc);
    expect(alloc.live.size).toBe(1);
    expect(walk(0x40_1000)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
    tablesOk();
  });

  it('of nothing, or of a page in a region with no tables, returns 0', () => {
    expect(f.unmap(root, 0x40_0000, 12, alloc)).toBe(0);
    expect(f.unmap(root, 0x40_0000, 21, alloc)).toBe(0);
    expect(f.unmap(root, 0, 30, alloc)).toBe(0);
    expect(alloc.live.size).toBe(1);
  });

  it('of a 2 MiB range removes every 4 KiB page in it, with their table, ORing their status', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    f.map(root, 0x5f_f000, 0x20_1000, 12, RWX, alloc);
    f.map(root, 0x60_0000, 0x20_2000, 12, RWX, alloc); // next 2 MiB: stays
    walk(0x40_0000, READ);
    walk(0x5f_f000, WRITE);
    expect(f.unmap(root, 0x40_0000, 21, alloc)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    expect(walk(0x40_0000).fault).toBe(WalkFault.NOT_MAPPED);
    expect(walk(0x5f_f000).fault).toBe(WalkFault.NOT_MAPPED);
    expect(phys(0x60_0000)).toBe(0x20_2000);
    tablesOk();
  });

  it('of a 4 KiB page inside a 2 MiB page splits it: the other 511 pages stay mapped', () => {
    f.map(root, 0x40_0000, 0x80_0000, 21, READ | WRITE, alloc);
    walk(0x40_0000, READ);
    expect(f.unmap(root, 0x41_0000, 12, alloc)).toBe(PageStatus.ACCESSED);
    expect(walk(0x41_0000).fault).toBe(WalkFault.NOT_MAPPED);
    let mapped = 0;
    for (let va = 0x40_0000; va < 0x60_0000; va += K4) if (walk(va).fault === 0) mapped++;
    expect(mapped).toBe(511);
    expect(phys(0x41_1000)).toBe(0x81_1000);
    tablesOk();
  });

  it('of a 4 KiB page inside a 2 MiB page, with no frame for the split, removes the whole 2 MiB page', () => {
    f.map(root, 0x40_0000, 0x80_0000, 21, READ | WRITE, alloc);
    f.map(root, 0x60_0000, 0xa0_0000, 21, READ | WRITE, alloc);
    walk(0x40_0000, WRITE);
    alloc.budget = 0;
    expect(f.unmap(root, 0x41_0000, 12, alloc)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    for (const va of [0x40_0000, 0x41_0000, 0x5f_f000]) expect(walk(va).fault).toBe(WalkFault.NOT_MAPPED);
    expect(phys(0x60_0000)).toBe(0xa0_0000);
    tablesOk();
    // The last large page going frees the PD and PDPT too; phys() above only probed it,
    // so it was never accessed.
    expect(f.unmap(root, 0x6f_0000, 12, alloc)).toBe(0);
    expect(alloc.live.size).toBe(1);
  });

  it('of a 2 MiB page inside a 1 GiB page splits the 1 GiB page into 2 MiB pages', () => {
    f.map(root, 0, 0x4000_0000, 30, READ, alloc);
    expect(f.unmap(root, M2, 21, alloc)).toBe(0);
    expect(walk(M2).fault).toBe(WalkFault.NOT_MAPPED);
    expect(walk(0)).toMatchObject({ fault: 0, order: 21, frame: 0x4000_0000 });
    expect(walk(2 * M2)).toMatchObject({ fault: 0, order: 21, frame: 0x4000_0000 + 2 * M2 });
    tablesOk();
  });
});

/**
 * An allocator that passes through to `inner` and records what went through it, to show
 * which allocator an operation used.
 */
function recording(inner: FrameAllocator): FrameAllocator & { allocated: number[]; freed: number[] } {
  const allocated: number[] = [];
  const freed: number[] = [];
  return {
    allocated,
    freed,
    allocate: () => {
      const frame = inner.allocate();
      if (frame !== null) allocated.push(frame);
      return frame;
    },
    free: (frame) => {
      freed.push(frame);
      inner.free(frame);
    },
  };
}

describe('unmap uses the allocator it is passed (no allocator remembered per root)', () => {
  it('splits a 2 MiB page with one frame from it, and gives the emptied PT, PD and PDPT back to it', () => {
    const mapSpy = recording(alloc);
    f.map(root, 0x40_0000, 0x80_0000, 21, READ | WRITE, mapSpy); // PDPT, PD (root before)
    expect(mapSpy.allocated.length).toBe(2);
    expect(alloc.live.size).toBe(3);
    const spy = recording(alloc);
    expect(f.unmap(root, 0x41_0000, 12, spy)).toBe(0);
    expect(spy.allocated.length).toBe(1);
    expect(spy.freed).toEqual([]);
    expect(alloc.live.size).toBe(4);
    const pt = spy.allocated[0]!;
    tablesOk();
    // Unmapping the whole 2 MiB range removes the PT; the PD and PDPT are then empty.
    expect(f.unmap(root, 0x40_0000, 21, spy)).toBe(0);
    expect(spy.freed.length).toBe(3);
    expect(spy.freed[0]).toBe(pt);
    expect(alloc.live.size).toBe(1);
    expect([...alloc.live]).toEqual([root]);
    expect(walk(0x41_1000)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
    // The allocator passed to map saw nothing of the unmaps.
    expect(mapSpy.allocated.length).toBe(2);
    expect(mapSpy.freed).toEqual([]);
  });

  it('splits a 1 GiB page for a 4 KiB unmap with two frames (a PD and a PT) from it', () => {
    f.map(root, G1, 0x8000_0000, 30, READ, alloc); // root, PDPT
    expect(alloc.live.size).toBe(2);
    const spy = recording(alloc);
    expect(f.unmap(root, G1 + M2 + K4, 12, spy)).toBe(0);
    expect(spy.allocated.length).toBe(2);
    expect(alloc.live.size).toBe(4);
    expect(walk(G1 + M2 + K4).fault).toBe(WalkFault.NOT_MAPPED);
    expect(walk(G1 + M2)).toMatchObject({ fault: 0, order: 12, frame: 0x8000_0000 + M2 });
    expect(walk(G1 + M2 + 2 * K4)).toMatchObject({ fault: 0, order: 12, frame: 0x8000_0000 + M2 + 2 * K4 });
    expect(walk(G1)).toMatchObject({ fault: 0, order: 21, frame: 0x8000_0000 });
    expect(walk(2 * G1 - 1)).toMatchObject({ fault: 0, order: 21, frame: 0x8000_0000 + G1 - M2 });
    tablesOk();
  });

  it('with one frame for a split that needs two, removes the whole 1 GiB page and frees the empty PDPT', () => {
    f.map(root, G1, 0x8000_0000, 30, READ | WRITE, alloc);
    walk(G1 + 5, WRITE);
    const spy = recording(alloc);
    alloc.budget = 1;
    expect(f.unmap(root, G1 + K4, 12, spy)).toBe(PageStatus.ACCESSED | PageStatus.DIRTY);
    // The one frame it got was given back, and so was the PDPT.
    expect(spy.allocated.length).toBe(1);
    expect(spy.freed.length).toBe(2);
    expect(spy.freed[0]).toBe(spy.allocated[0]);
    expect(alloc.live.size).toBe(1);
    expect(walk(G1 + 2 * K4)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
    tablesOk();
  });

  it('without a split allocates nothing, and frees emptied tables (never the root) to its allocator', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    f.map(root, 0x40_1000, 0x20_1000, 12, RWX, alloc);
    const spy = recording(alloc);
    expect(f.unmap(root, 0x40_0000, 12, spy)).toBe(0);
    expect(spy.allocated).toEqual([]);
    expect(spy.freed).toEqual([]);
    expect(f.unmap(root, 0x40_1000, 12, spy)).toBe(0);
    expect(spy.allocated).toEqual([]);
    expect(spy.freed.length).toBe(3); // PT, PD, PDPT; never the root
    expect(spy.freed).not.toContain(root);
    expect(alloc.live.size).toBe(1);
  });
});

describe('destroy', () => {
  it('frees every table frame and the root', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    f.map(root, 2 ** 40, 0x20_0000, 21, RWX, alloc);
    f.map(root, 2 ** 46, 0x4000_0000, 30, RWX, alloc);
    f.map(root, 0x7f_0000_0000, 0x1000, 12, RWX, alloc);
    f.unmap(root, 2 ** 40 + K4, 12, alloc);
    expect(alloc.live.size).toBeGreaterThan(8);
    f.destroy(root, alloc);
    expect(alloc.live.size).toBe(0);
  });
});

describe('robustness: bad frames never throw out of the kernel path', () => {
  it('a root outside RAM or misaligned: walk NOT_MAPPED, map false, unmap 0, destroy frees nothing', () => {
    for (const bad of [mem.size, mem.size + K4, 2 ** 52, -K4, root + 8, Number.NaN]) {
      expect(f.walk(bad, 0x40_0000, READ, translation()).fault).toBe(WalkFault.NOT_MAPPED);
      expect(f.map(bad, 0x40_0000, 0x20_0000, 12, RWX, alloc)).toBe(false);
      expect(f.unmap(bad, 0x40_0000, 12, alloc)).toBe(0);
      f.destroy(bad, alloc);
    }
    expect(alloc.live.size).toBe(1);
  });

  it('a table pointer outside RAM reads as not mapped', () => {
    f.map(root, 0x40_0000, 0x20_0000, 12, RWX, alloc);
    const u32 = new Uint32Array(mem.buffer);
    const w = (root - mem.base) / 4;
    u32[w + 1] = 0x000f_ffff; // the PDPT pointer now points far above RAM
    expect(walk(0x40_0000, READ)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
    expect(f.map(root, 0x40_1000, 0x20_1000, 12, RWX, alloc)).toBe(false);
    expect(f.unmap(root, 0x40_0000, 12, alloc)).toBe(0);
  });

  it('an allocator frame outside RAM is given back and the map fails', () => {
    const inner = new CountingAllocator(mem);
    let handedOut = 0;
    const returned: number[] = [];
    const liar: FrameAllocator = {
      allocate: () => {
        handedOut++;
        return handedOut === 2 ? mem.size + 0x1000 : inner.allocate();
      },
      free: (frame) => {
        returned.push(frame);
        if (frame < mem.size) inner.free(frame);
      },
    };
    const r = f.createRoot(liar)!;
    expect(f.map(r, 0x40_0000, 0x20_0000, 12, RWX, liar)).toBe(false);
    expect(returned).toEqual([mem.size + 0x1000]);
    expect(inner.live.size).toBe(1);
    expect(f.map(r, 0x40_0000, 0x20_0000, 12, RWX, liar)).toBe(true);
  });

  it('invalid arguments: map false, nothing allocated', () => {
    expect(f.map(root, 0x40_0800, 0x20_0000, 12, RWX, alloc)).toBe(false);
    expect(f.map(root, 0x40_0000, 0x20_0800, 12, RWX, alloc)).toBe(false);
    expect(f.map(root, 0x41_0000, 0x20_0000, 21, RWX, alloc)).toBe(false);
    expect(f.map(root, 0x40_0000, 0x21_0000, 21, RWX, alloc)).toBe(false);
    expect(f.map(root, 0x40_0000, 0x20_0000, 16, RWX, alloc)).toBe(false);
    expect(f.map(root, 0x40_0000, 2 ** 52, 12, RWX, alloc)).toBe(false);
    expect(f.map(root, 0x40_0000, -K4, 12, RWX, alloc)).toBe(false);
    expect(f.unmap(root, 0x40_0800, 12, alloc)).toBe(0);
    expect(alloc.live.size).toBe(1);
  });

  it('new tables are zeroed even when the allocator hands out dirty frames', () => {
    alloc.garbage = 0xff;
    const r = f.createRoot(alloc)!;
    expect(f.map(r, 0x40_0000, 0x20_0000, 12, RWX, alloc)).toBe(true);
    expect(f.walk(r, 0x40_1000, READ, translation()).fault).toBe(WalkFault.NOT_MAPPED);
    expect(f.walk(r, 0x60_0000, READ, translation()).fault).toBe(WalkFault.NOT_MAPPED);
    expect(f.walk(r, 2 ** 40, READ, translation()).fault).toBe(WalkFault.NOT_MAPPED);
    expect(reachableTables(mem, r).tables.size).toBe(4);
  });
});
