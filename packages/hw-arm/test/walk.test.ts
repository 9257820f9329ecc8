/**
 * Walk, map and unmap semantics of the AArch64 stage-1 tables: faults, the Access flag
 * and dirty state (FEAT_HAFDBS, DDI 0487 D5.4), blocks, replacement, splitting, ENOMEM,
 * and robustness against bad addresses and corrupt tables.
 */
import { type FrameAllocator, MemAccess, PageStatus, type PhysicalMemory, WalkFault } from '@pecan/kernel';
import { beforeEach, describe, expect, it } from 'vitest';
import { createArmPageTables, createVirtRam } from '../src/index';
import {
  CountingAllocator,
  countTables,
  desc,
  hex64,
  indexOf,
  pokeDesc,
  tableAt,
  translation,
} from './helpers';

const { READ: R, WRITE: W, EXEC: X } = MemAccess;
const { ACCESSED, DIRTY } = PageStatus;
const KiB4 = 4096;
const MiB = 1024 * 1024;
const MiB2 = 2 * MiB;
const GiB = 2 ** 30;

let mem: PhysicalMemory;
let alloc: CountingAllocator;
let pt: ReturnType<typeof createArmPageTables>;
let root: number;
const out = translation();

beforeEach(() => {
  mem = createVirtRam(4 * MiB);
  alloc = new CountingAllocator(mem);
  pt = createArmPageTables(mem);
  root = pt.createRoot(alloc)!;
});

/**
 * Snapshot of the live table frames, to check that a failed operation changed nothing
 * (frames the test allocator hands out and takes back are filled by the allocator).
 */
const snapshot = () => {
  const bytes = new Uint8Array(mem.buffer);
  return [...alloc.live].sort().map((frame) => {
    const offset = frame - mem.base;
    return `${frame.toString(16)}:${Buffer.from(bytes.subarray(offset, offset + KiB4)).toString('hex')}`;
  });
};

describe('the format', () => {
  it('describes itself', () => {
    expect(pt.name).toBe('aarch64 stage-1 4K');
    expect(pt.pageOrders).toEqual([12, 21, 30]);
    expect(pt.vaBits).toBe(48);
  });

  it('needs RAM at a 4 KiB-aligned base', () => {
    expect(() =>
      createArmPageTables({ buffer: new ArrayBuffer(8192), base: 0x4000_0800, size: 8192 }),
    ).toThrow(RangeError);
  });

  it('user addresses are exactly the integers in [0, 2^48) (the TTBR0 region)', () => {
    for (const va of [0, 4096, 2 ** 47, 2 ** 48 - 1]) expect(pt.isUserAddress(va)).toBe(true);
    // 2^48 and up: a VA with bits 63:48 set belongs to TTBR1 (the kernel).
    for (const va of [
      2 ** 48,
      2 ** 48 + 4096,
      0xffff_8000_0000_0000,
      2 ** 64,
      -1,
      0.5,
      Number.NaN,
      Infinity,
    ]) {
      expect(pt.isUserAddress(va)).toBe(false);
    }
  });
});

describe('walk faults', () => {
  it('NOT_MAPPED on an empty root, after reading one descriptor', () => {
    expect(pt.walk(root, 0x1000, R, out)).toEqual({
      fault: WalkFault.NOT_MAPPED,
      frame: 0,
      order: 0,
      rights: 0,
      levels: 1,
    });
  });

  it('NOT_MAPPED at each level where the walk meets an invalid descriptor', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R, alloc);
    expect(pt.walk(root, 2 ** 39, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
    expect(pt.walk(root, GiB, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 2 });
    expect(pt.walk(root, MiB2, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 3 });
    expect(pt.walk(root, 0x2000, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 4 });
    expect(pt.walk(root, 0x1000, R, out)).toMatchObject({ fault: 0, levels: 4 });
  });

  it('BAD_ADDRESS for VAs at or above 2^48 and for non-integers, without reading anything', () => {
    pt.map(root, 0, 0x8000_0000, 30, R | W | X, alloc);
    for (const va of [2 ** 48, 2 ** 48 + 0x1000, 0xffff_0000_0000_1000, 2 ** 64, -4096, 0.5, Number.NaN]) {
      expect(pt.walk(root, va, R, out)).toEqual({
        fault: WalkFault.BAD_ADDRESS,
        frame: 0,
        order: 0,
        rights: 0,
        levels: 0,
      });
    }
  });

  it('PROTECTION on a write to a read-only page (AP[2] = 1, DBM = 0), reporting the entry', () => {
    pt.map(root, 0x5000, 0x8000_0000, 12, R | X, alloc);
    expect(pt.walk(root, 0x5008, W, out)).toEqual({
      fault: WalkFault.PROTECTION,
      frame: 0x8000_0000,
      order: 12,
      rights: R | X,
      levels: 4,
    });
    // The failed write set neither AF nor dirty.
    expect(pt.unmap(root, 0x5000, 12, alloc)).toBe(0);
  });

  it('PROTECTION on execute with UXN = 1; execute succeeds with UXN = 0', () => {
    pt.map(root, 0x5000, 0x8000_0000, 12, R | W, alloc);
    pt.map(root, 0x6000, 0x8000_1000, 12, R | X, alloc);
    expect(pt.walk(root, 0x5000, X, out)).toMatchObject({ fault: WalkFault.PROTECTION, rights: R | W });
    expect(pt.walk(root, 0x6000, X, out)).toMatchObject({ fault: 0, rights: R | X });
    expect(pt.walk(root, 0x6000, R | W | X, out)).toMatchObject({ fault: WalkFault.PROTECTION });
  });

  it('reports effective rights: every EL0 mapping is readable (AP[1] = 1)', () => {
    const cases: [number, number][] = [
      [R, R],
      [W, R | W],
      [X, R | X],
      [R | W, R | W],
      [W | X, R | W | X],
      [R | W | X, R | W | X],
    ];
    for (const [i, [rights, effective]] of cases.entries()) {
      const va = (i + 1) * KiB4;
      pt.map(root, va, 0x8000_0000, 12, rights, alloc);
      expect(pt.walk(root, va, R, out)).toMatchObject({ fault: 0, rights: effective });
    }
  });

  it('NOT_MAPPED for reserved encodings: a block at level 0, 0b01 at level 3', () => {
    pokeDesc(mem, root, 3, 0x0060_0000_0000_0bc1n); // "block" at L0
    expect(pt.walk(root, 3 * 2 ** 39, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
    pt.map(root, 0x1000, 0x8000_0000, 12, R, alloc);
    const l3 = tableAt(mem, root, 0x2000, 3);
    pokeDesc(mem, l3, 2, 0x0060_0000_8000_1bc1n); // 0b01 at L3
    expect(pt.walk(root, 0x2000, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 4 });
    expect(pt.unmap(root, 0x2000, 12, alloc)).toBe(0);
  });

  it('never indexes outside RAM: a table descriptor pointing outside it is not mapped', () => {
    pokeDesc(mem, root, 5, 0x0000_0000_0000_1003n); // L0[5] -> "table" at 0x1000, not RAM
    pokeDesc(mem, root, 6, 0x0000_ffff_ffff_f003n); // L0[6] -> far above RAM
    for (const va of [5 * 2 ** 39, 6 * 2 ** 39]) {
      expect(pt.walk(root, va, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 1 });
      expect(pt.map(root, va, 0x8000_0000, 12, R, alloc)).toBe(false);
      expect(pt.unmap(root, va, 12, alloc)).toBe(0);
    }
    // A root outside RAM behaves as an empty space.
    expect(pt.walk(0x1000, 0, R, out)).toMatchObject({ fault: WalkFault.NOT_MAPPED, levels: 0 });
    expect(pt.map(0x1000, 0, 0, 12, R, alloc)).toBe(false);
    expect(pt.unmap(0x1000, 0, 12, alloc)).toBe(0);
  });

  it('honours hierarchical table attributes if present (APTable, UXNTable)', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | W | X, alloc);
    const l0 = desc(mem, root, 0);
    pokeDesc(mem, root, 0, l0 | (1n << 62n)); // APTable[1]: read-only below
    expect(pt.walk(root, 0x1000, W, out)).toMatchObject({ fault: WalkFault.PROTECTION, rights: R | X });
    pokeDesc(mem, root, 0, l0 | (1n << 60n)); // UXNTable
    expect(pt.walk(root, 0x1000, X, out)).toMatchObject({ fault: WalkFault.PROTECTION, rights: R | W });
    pokeDesc(mem, root, 0, l0 | (1n << 61n)); // APTable[0]: no EL0 access below
    expect(pt.walk(root, 0x1000, R, out)).toMatchObject({ fault: WalkFault.PROTECTION, rights: X });
  });
});

describe('Access flag and dirty state (FEAT_HAFDBS, DDI 0487 D5.4)', () => {
  it('a read sets AF: unmap reports ACCESSED', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | W, alloc);
    pt.walk(root, 0x1000, R, out);
    expect(pt.unmap(root, 0x1000, 12, alloc)).toBe(ACCESSED);
  });

  it('an untouched page reports 0; a probe (access 0) translates but sets nothing', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | W, alloc);
    expect(pt.walk(root, 0x1234, 0, out)).toEqual({
      fault: 0,
      frame: 0x8000_0000,
      order: 12,
      rights: R | W,
      levels: 4,
    });
    expect(pt.unmap(root, 0x1000, 12, alloc)).toBe(0);
  });

  it('a write to a writable-clean page makes it dirty: unmap reports ACCESSED | DIRTY', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | W, alloc);
    expect(pt.walk(root, 0x1ff8, W, out).fault).toBe(0);
    const l3 = tableAt(mem, root, 0x1000, 3);
    expect(desc(mem, l3, 1) & (1n << 7n)).toBe(0n); // AP[2] cleared
    expect(pt.unmap(root, 0x1000, 12, alloc)).toBe(ACCESSED | DIRTY);
  });

  it('a read-only page is never dirty', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | X, alloc);
    pt.walk(root, 0x1000, W, out);
    pt.walk(root, 0x1000, X, out);
    expect(pt.unmap(root, 0x1000, 12, alloc)).toBe(ACCESSED);
  });

  it('remapping the same frame (a rights change) keeps AF and the dirty state', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | W, alloc);
    pt.walk(root, 0x1000, W, out);
    pt.map(root, 0x1000, 0x8000_0000, 12, R | X, alloc);
    expect(pt.walk(root, 0x1000, W, out).fault).toBe(WalkFault.PROTECTION);
    expect(pt.unmap(root, 0x1000, 12, alloc)).toBe(ACCESSED | DIRTY);
    pt.map(root, MiB2, 0x8020_0000, 21, R, alloc);
    pt.walk(root, MiB2, R, out);
    pt.map(root, MiB2, 0x8020_0000, 21, R | W, alloc);
    expect(pt.unmap(root, MiB2, 21, alloc)).toBe(ACCESSED);
  });

  it('mapping another frame resets the state: AF = 0 and writable-clean', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R | W, alloc);
    pt.walk(root, 0x1000, W, out);
    pt.map(root, 0x1000, 0x8000_1000, 12, R | W, alloc);
    expect(pt.unmap(root, 0x1000, 12, alloc)).toBe(0);
  });

  it('blocks track AF and dirty too', () => {
    pt.map(root, MiB2, 0x8000_0000, 21, R | W, alloc);
    pt.map(root, GiB, 0x8000_0000, 30, R | W, alloc);
    pt.walk(root, MiB2 + 0x12_3456, W, out);
    pt.walk(root, GiB + 0x1234_5678, R, out);
    expect(pt.unmap(root, MiB2, 21, alloc)).toBe(ACCESSED | DIRTY);
    expect(pt.unmap(root, GiB, 30, alloc)).toBe(ACCESSED);
  });
});

describe('blocks', () => {
  it('a 2 MiB block translates every page and offset in it, with 3 levels', () => {
    const va = 5 * GiB + 7 * MiB2;
    expect(pt.map(root, va, 0x1_4020_0000, 21, R | X, alloc)).toBe(true);
    for (let page = 0; page < 512; page++) {
      const offset = page * KiB4 + ((page * 37) % KiB4);
      expect(pt.walk(root, va + offset, R, out)).toEqual({
        fault: 0,
        frame: 0x1_4020_0000,
        order: 21,
        rights: R | X,
        levels: 3,
      });
    }
    expect(pt.walk(root, va - 1, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(pt.walk(root, va + MiB2, R, out).fault).toBe(WalkFault.NOT_MAPPED);
  });

  it('a 1 GiB block translates every page and offset in it, with 2 levels', () => {
    const va = 3 * 2 ** 39 + 9 * GiB;
    expect(pt.map(root, va, 0xab_c000_0000, 30, R | W, alloc)).toBe(true);
    for (let page = 0; page < GiB / KiB4; page++) {
      const r = pt.walk(root, va + page * KiB4 + (page % KiB4), R, out);
      if (r.fault !== 0 || r.frame !== 0xab_c000_0000 || r.order !== 30 || r.levels !== 2) {
        throw new Error(`page ${page}: ${JSON.stringify(r)}`);
      }
    }
    expect(out.rights).toBe(R | W);
    expect(pt.walk(root, va - 1, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(pt.walk(root, va + GiB, R, out).fault).toBe(WalkFault.NOT_MAPPED);
  });
});

describe('map replaces what was there', () => {
  it('a 4 KiB map inside a 2 MiB block splits the block: only that page changes', () => {
    pt.map(root, MiB2, 0x8000_0000, 21, R | W, alloc);
    pt.walk(root, MiB2, W, out);
    expect(pt.map(root, MiB2 + 0x3000, 0x9000_0000, 12, R, alloc)).toBe(true);
    expect(alloc.live.size).toBe(4);
    expect(pt.walk(root, MiB2 + 0x3000, 0, out)).toMatchObject({
      fault: 0,
      frame: 0x9000_0000,
      order: 12,
      rights: R,
    });
    for (const page of [0, 2, 4, 511]) {
      expect(pt.walk(root, MiB2 + page * KiB4, 0, out)).toMatchObject({
        fault: 0,
        frame: 0x8000_0000 + page * KiB4,
        order: 12,
        rights: R | W,
      });
    }
    // The other pages inherited the block's AF and dirty state; the new page is fresh.
    expect(pt.unmap(root, MiB2 + 0x4000, 12, alloc)).toBe(ACCESSED | DIRTY);
    expect(pt.unmap(root, MiB2 + 0x3000, 12, alloc)).toBe(0);
    expect(alloc.live.size).toBe(countTables(mem, root));
  });

  it('remapping one page of a block to its own frame keeps the inherited state', () => {
    pt.map(root, MiB2, 0x8000_0000, 21, R | W, alloc);
    pt.walk(root, MiB2 + 0x10, R, out);
    pt.map(root, MiB2 + 0x3000, 0x8000_3000, 12, R, alloc); // write-protect one page
    expect(pt.walk(root, MiB2 + 0x3000, W, out).fault).toBe(WalkFault.PROTECTION);
    expect(pt.unmap(root, MiB2 + 0x3000, 12, alloc)).toBe(ACCESSED);
  });

  it('a 2 MiB map over 4 KiB pages frees their L3 table', () => {
    pt.map(root, MiB2, 0x8000_0000, 12, R, alloc);
    pt.map(root, MiB2 + 0x1000, 0x8000_1000, 12, R, alloc);
    expect(alloc.live.size).toBe(4);
    expect(pt.map(root, MiB2, 0x9000_0000, 21, R, alloc)).toBe(true);
    expect(alloc.live.size).toBe(3);
    expect(countTables(mem, root)).toBe(3);
    expect(pt.walk(root, MiB2 + 0x1000, R, out)).toMatchObject({ fault: 0, frame: 0x9000_0000, order: 21 });
  });

  it('a 1 GiB map over tables frees the whole sub-tree', () => {
    pt.map(root, GiB, 0x8000_0000, 12, R, alloc);
    pt.map(root, GiB + 5 * MiB2, 0x8000_0000, 12, R, alloc);
    pt.map(root, GiB + 9 * MiB2, 0x8000_0000, 21, R, alloc);
    expect(alloc.live.size).toBe(5); // root, L1, L2, two L3
    expect(pt.map(root, GiB, 0xc000_0000, 30, R, alloc)).toBe(true);
    expect(alloc.live.size).toBe(2);
    expect(countTables(mem, root)).toBe(2);
  });

  it('a 2 MiB map inside a 1 GiB block splits it into 2 MiB blocks', () => {
    pt.map(root, GiB, 0x8000_0000, 30, R, alloc);
    expect(pt.map(root, GiB + MiB2, 0x1_0000_0000, 21, R, alloc)).toBe(true);
    expect(pt.walk(root, GiB, R, out)).toMatchObject({ fault: 0, frame: 0x8000_0000, order: 21 });
    expect(pt.walk(root, GiB + MiB2, R, out)).toMatchObject({ fault: 0, frame: 0x1_0000_0000, order: 21 });
    expect(pt.walk(root, GiB + 2 * MiB2, R, out)).toMatchObject({ fault: 0, frame: 0x8040_0000, order: 21 });
  });

  it('a 4 KiB map inside a 1 GiB block splits twice', () => {
    pt.map(root, GiB, 0x8000_0000, 30, R, alloc);
    expect(pt.map(root, GiB + 0x5000, 0x1_0000_0000, 12, R | W, alloc)).toBe(true);
    expect(alloc.live.size).toBe(4);
    expect(pt.walk(root, GiB + 0x4000, R, out)).toMatchObject({ fault: 0, frame: 0x8000_4000, order: 12 });
    expect(pt.walk(root, GiB + 0x5000, R, out)).toMatchObject({ fault: 0, frame: 0x1_0000_0000, order: 12 });
    expect(pt.walk(root, GiB + MiB2, R, out)).toMatchObject({ fault: 0, frame: 0x8020_0000, order: 21 });
  });

  it('rights 0 unmaps exactly the range, as unmap does', () => {
    pt.map(root, MiB2, 0x8000_0000, 21, R, alloc);
    expect(pt.map(root, MiB2 + 0x1000, 0, 12, 0, alloc)).toBe(true);
    expect(pt.walk(root, MiB2 + 0x1000, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(pt.walk(root, MiB2, R, out)).toMatchObject({ fault: 0, order: 12 });
    expect(pt.map(root, 7 * GiB, 0, 30, 0, alloc)).toBe(true); // nothing there: nothing to do
  });
});

describe('ENOMEM: map returns false with nothing changed', () => {
  it('when the allocator runs dry part-way through a new path (root + 2 of 3 tables)', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R, alloc);
    alloc.allowMore(2);
    const before = snapshot();
    const live = alloc.live.size;
    expect(pt.map(root, 7 * 2 ** 39, 0x8000_0000, 12, R, alloc)).toBe(false);
    expect(snapshot()).toEqual(before);
    expect(alloc.live.size).toBe(live);
    expect(alloc.failures).toBe(1);
  });

  it('when replacing a block needs a table: the block stays', () => {
    pt.map(root, MiB2, 0x8000_0000, 21, R | W, alloc);
    alloc.allowMore(0);
    const before = snapshot();
    expect(pt.map(root, MiB2, 0x9000_0000, 12, R, alloc)).toBe(false);
    expect(snapshot()).toEqual(before);
    expect(pt.walk(root, MiB2 + 0x5000, R, out)).toMatchObject({ fault: 0, frame: 0x8000_0000, order: 21 });
  });

  it('createRoot returns null', () => {
    alloc.allowMore(0);
    expect(pt.createRoot(alloc)).toBeNull();
  });

  it('a frame handed out outside RAM is given back and counts as ENOMEM', () => {
    const bad = new CountingAllocator({
      buffer: new ArrayBuffer(64 * 1024),
      base: 0x1000_0000,
      size: 64 * 1024,
    });
    expect(pt.createRoot(bad)).toBeNull();
    expect(pt.map(root, 0x1000, 0, 12, R, bad)).toBe(false);
    expect(bad.live.size).toBe(0);
  });

  it('works with an allocator that does not zero its frames', () => {
    const dirtyMem = createVirtRam(MiB);
    new Uint8Array(dirtyMem.buffer).fill(0xa5);
    const dirty = new CountingAllocator(dirtyMem, { dirty: true });
    const dpt = createArmPageTables(dirtyMem);
    const droot = dpt.createRoot(dirty)!;
    expect(dpt.map(droot, 0x1000, 0x8000_0000, 12, R, dirty)).toBe(true);
    expect(dpt.walk(droot, 0x2000, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(dpt.walk(droot, 2 ** 39, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(dpt.walk(droot, 0x1000, R, out)).toMatchObject({ fault: 0, frame: 0x8000_0000 });
  });
});

describe('unmap', () => {
  it('clears exactly that page and returns 0 for what is not mapped', () => {
    pt.map(root, 0x1000, 0x8000_0000, 12, R, alloc);
    pt.map(root, 0x2000, 0x8000_1000, 12, R, alloc);
    expect(pt.unmap(root, 0x3000, 12, alloc)).toBe(0);
    expect(pt.unmap(root, 2 ** 40, 12, alloc)).toBe(0);
    expect(pt.unmap(root, 2 ** 48, 12, alloc)).toBe(0);
    pt.unmap(root, 0x1000, 12, alloc);
    expect(pt.walk(root, 0x1000, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(pt.walk(root, 0x2000, R, out).fault).toBe(0);
    expect(alloc.live.size).toBe(4);
    pt.unmap(root, 0x2000, 12, alloc);
    expect(alloc.live.size).toBe(1); // tables that became empty are freed, never the root
    expect(desc(mem, root, 0)).toBe(0n);
  });

  it('a 4 KiB unmap inside a 2 MiB block splits it into an L3 table that inherits AF and dirty state', () => {
    pt.map(root, MiB2, 0x4020_0000, 21, R | W, alloc);
    pt.walk(root, MiB2 + 0x5000, W, out); // block: AF = 1, AP[2] = 0
    expect(pt.unmap(root, MiB2 + 0x1000, 12, alloc)).toBe(ACCESSED | DIRTY);
    expect(alloc.live.size).toBe(4);
    const l3 = tableAt(mem, root, MiB2, 3);
    // Pages: bits[1:0] 0b11, lower attributes 0xF40 (AF set, AP[2] clear), DBM | PXN | UXN.
    expect(hex64(desc(mem, l3, 0))).toBe(hex64(0x0068_0000_4020_0f43n));
    expect(desc(mem, l3, 1)).toBe(0n);
    expect(hex64(desc(mem, l3, 511))).toBe(hex64(0x0068_0000_403f_ff43n));
    for (let page = 0; page < 512; page++) {
      const r = pt.walk(root, MiB2 + page * KiB4, 0, out);
      if (page === 1) expect(r.fault).toBe(WalkFault.NOT_MAPPED);
      else expect(r).toMatchObject({ fault: 0, frame: 0x4020_0000 + page * KiB4, order: 12, rights: R | W });
    }
    expect(pt.unmap(root, MiB2 + 0x2000, 12, alloc)).toBe(ACCESSED | DIRTY);
  });

  it('a 4 KiB unmap inside a 1 GiB block splits twice (L2 blocks, then one L3 table)', () => {
    pt.map(root, GiB, 0x8000_0000, 30, R | X, alloc);
    expect(pt.unmap(root, GiB + MiB2 + 0x3000, 12, alloc)).toBe(0);
    expect(alloc.live.size).toBe(4);
    const l2 = tableAt(mem, root, GiB, 2);
    expect(hex64(desc(mem, l2, 0))).toBe(hex64(0x0020_0000_8000_0bc1n));
    expect(hex64(desc(mem, l2, 2))).toBe(hex64(0x0020_0000_8040_0bc1n));
    expect(desc(mem, l2, 1) & 3n).toBe(3n);
    expect(pt.walk(root, GiB + 0x12_3456, X, out)).toMatchObject({
      fault: 0,
      frame: 0x8000_0000,
      order: 21,
      levels: 3,
    });
    expect(pt.walk(root, GiB + MiB2 + 0x2000, X, out)).toMatchObject({
      fault: 0,
      frame: 0x8020_2000,
      order: 12,
    });
    expect(pt.walk(root, GiB + MiB2 + 0x3000, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(pt.walk(root, GiB + 100 * MiB2, R, out)).toMatchObject({
      fault: 0,
      frame: 0x8000_0000 + 100 * MiB2,
    });
  });

  it('a 2 MiB unmap inside a 1 GiB block splits once', () => {
    pt.map(root, GiB, 0x8000_0000, 30, R, alloc);
    pt.walk(root, GiB, R, out);
    expect(pt.unmap(root, GiB + 4 * MiB2, 21, alloc)).toBe(ACCESSED);
    expect(alloc.live.size).toBe(3);
    expect(pt.walk(root, GiB + 4 * MiB2, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(pt.walk(root, GiB + 5 * MiB2, R, out)).toMatchObject({ fault: 0, order: 21 });
  });

  it('falls back to removing the whole block when the split cannot get a frame, leaking nothing', () => {
    pt.map(root, MiB2, 0x4020_0000, 21, R | W, alloc);
    pt.walk(root, MiB2, R, out);
    alloc.allowMore(0);
    expect(pt.unmap(root, MiB2 + 0x1000, 12, alloc)).toBe(ACCESSED);
    expect(pt.walk(root, MiB2, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(alloc.live.size).toBe(countTables(mem, root));

    pt.map(root, GiB, 0x8000_0000, 30, R, alloc);
    alloc.allowMore(1); // the double split needs two frames
    expect(pt.unmap(root, GiB + 0x1000, 12, alloc)).toBe(0);
    expect(pt.walk(root, GiB + MiB2, R, out).fault).toBe(WalkFault.NOT_MAPPED);
    expect(alloc.live.size).toBe(countTables(mem, root));
  });

  it('a 2 MiB unmap over 4 KiB pages reports all of them and frees the L3 table', () => {
    pt.map(root, MiB2, 0x8000_0000, 12, R | W, alloc);
    pt.map(root, MiB2 + 0x7000, 0x8000_7000, 12, R | W, alloc);
    pt.walk(root, MiB2, R, out);
    pt.walk(root, MiB2 + 0x7000, W, out);
    expect(alloc.live.size).toBe(4);
    expect(pt.unmap(root, MiB2, 21, alloc)).toBe(ACCESSED | DIRTY);
    expect(alloc.live.size).toBe(1); // the L3 table, then the empty L2 and L1 tables
    expect(pt.walk(root, MiB2 + 0x7000, R, out).fault).toBe(WalkFault.NOT_MAPPED);
  });

  it('a 1 GiB unmap over tables frees the sub-tree', () => {
    pt.map(root, 0, 0x8000_0000, 12, R, alloc);
    pt.map(root, 3 * MiB2, 0x8000_0000, 21, R, alloc);
    pt.walk(root, 3 * MiB2, R, out);
    pt.map(root, 5 * GiB, 0x8000_0000, 30, R, alloc);
    expect(alloc.live.size).toBe(4); // root, L1, L2, L3
    expect(pt.unmap(root, 0, 30, alloc)).toBe(ACCESSED);
    expect(alloc.live.size).toBe(2); // root and L1 stay: L1 still maps 5 GiB
  });

  it('refuses arguments outside the contract without throwing or changing anything', () => {
    pt.map(root, MiB2, 0x8000_0000, 21, R, alloc);
    const before = snapshot();
    expect(pt.unmap(root, MiB2, 13, alloc)).toBe(0);
    expect(pt.unmap(root, MiB2 + 0x1000, 21, alloc)).toBe(0);
    expect(pt.map(root, 0x1000, 0x8000_0000, 20, R, alloc)).toBe(false);
    expect(pt.map(root, 0x1800, 0x8000_0000, 12, R, alloc)).toBe(false);
    expect(pt.map(root, 0x1000, 0x8000_0800, 12, R, alloc)).toBe(false);
    expect(pt.map(root, MiB2, 0x8000_1000, 21, R, alloc)).toBe(false);
    expect(pt.map(root, 2 ** 48, 0x8000_0000, 12, R, alloc)).toBe(false);
    expect(pt.map(root, 0, 2 ** 48, 12, R, alloc)).toBe(false);
    expect(pt.map(root, 0, -4096, 12, R, alloc)).toBe(false);
    expect(pt.map(root, 0, Number.NaN, 12, R, alloc)).toBe(false);
    expect(snapshot()).toEqual(before);
  });
});

describe('unmap uses the allocator it is given', () => {
  /** Wraps `alloc`, logging what unmap takes from and gives back to it. */
  const spy = () => {
    const log = { allocated: [] as number[], freed: [] as number[] };
    const wrapped: FrameAllocator = {
      allocate: () => {
        const frame = alloc.allocate();
        if (frame !== null) log.allocated.push(frame);
        return frame;
      },
      free: (frame) => {
        log.freed.push(frame);
        alloc.free(frame);
      },
    };
    return { log, wrapped };
  };

  it('splitting a 2 MiB block takes one frame from it; emptying the tables gives L3, L2, L1 back to it', () => {
    pt.map(root, MiB2, 0x4020_0000, 21, R, alloc);
    const l1 = tableAt(mem, root, MiB2, 1);
    const l2 = tableAt(mem, root, MiB2, 2);
    expect(alloc.live.size).toBe(3);
    const a = spy();
    expect(pt.unmap(root, MiB2 + 0x1000, 12, a.wrapped)).toBe(0);
    expect(a.log.allocated).toHaveLength(1);
    expect(a.log.freed).toEqual([]);
    const l3 = a.log.allocated[0]!;
    expect(tableAt(mem, root, MiB2, 3)).toBe(l3);
    expect(alloc.live.size).toBe(4);

    // Unmap the other 511 pages, each with a fresh spy: nothing allocated, and only the
    // last one frees the L3, L2 and L1 tables (bottom-up), never the root.
    const frees: number[][] = [];
    for (let page = 0; page < 512; page++) {
      if (page === 1) continue;
      const b = spy();
      pt.unmap(root, MiB2 + page * KiB4, 12, b.wrapped);
      expect(b.log.allocated).toEqual([]);
      if (b.log.freed.length > 0) frees.push(b.log.freed);
    }
    expect(frees).toEqual([[l3, l2, l1]]);
    expect([...alloc.live]).toEqual([root]);
  });

  it('splitting a 1 GiB block for a 4 KiB unmap takes two frames from it', () => {
    pt.map(root, GiB, 0x8000_0000, 30, R, alloc);
    const a = spy();
    pt.unmap(root, GiB + 0x1000, 12, a.wrapped);
    expect(a.log.allocated).toHaveLength(2);
    expect(a.log.allocated).toEqual([tableAt(mem, root, GiB, 2), tableAt(mem, root, GiB, 3)]);
    expect(alloc.live.size).toBe(4); // root, L1, the new L2 and L3
    expect(alloc.live.size).toBe(countTables(mem, root));
  });

  it('a sub-table under an unmapped range goes back to it', () => {
    pt.map(root, MiB2, 0x8000_0000, 12, R, alloc);
    pt.map(root, 3 * MiB2, 0x8000_0000, 12, R, alloc); // keeps L1 and L2 alive
    const l3 = tableAt(mem, root, MiB2, 3);
    const a = spy();
    pt.unmap(root, MiB2, 21, a.wrapped);
    expect(a.log).toEqual({ allocated: [], freed: [l3] });
    expect(alloc.live.size).toBe(4);
  });

  it('the format keeps no allocator per root: map with one allocator, unmap with another over other frames', () => {
    // Two allocators over disjoint halves of RAM, each its own frame accounting.
    const low = new CountingAllocator(mem, { first: mem.base + MiB }); // clear of `root`
    const high = new CountingAllocator(mem, { first: mem.base + 2 * MiB });
    const r = pt.createRoot(low)!;
    pt.map(r, MiB2, 0x4020_0000, 21, R, low);
    expect([low.live.size, high.live.size]).toEqual([3, 0]);
    pt.unmap(r, MiB2 + 0x1000, 12, high);
    expect([low.live.size, high.live.size]).toEqual([3, 1]); // the split's L3 table came from `high`
    expect(tableAt(mem, r, MiB2, 3)).toBeGreaterThanOrEqual(mem.base + 2 * MiB);
  });
});

describe('destroy', () => {
  it('frees every table frame and the root', () => {
    for (let i = 0; i < 20; i++) pt.map(root, i * 2 ** 39 + i * GiB + i * MiB2 + i * KiB4, 0, 12, R, alloc);
    pt.map(root, 0, 0, 30, R, alloc);
    pt.map(root, 5 * 2 ** 39, 0, 21, R, alloc);
    pt.unmap(root, 0x1000, 12, alloc); // splits the 1 GiB block
    expect(alloc.live.size).toBe(countTables(mem, root));
    pt.destroy(root, alloc);
    expect(alloc.live.size).toBe(0);
  });

  it('the indices used are the architectural ones: VA 47:39, 38:30, 29:21, 20:12', () => {
    const va = 0x1ff * 2 ** 39 + 0x155 * 2 ** 30 + 0x0aa * 2 ** 21 + 0x123 * 2 ** 12;
    pt.map(root, va, 0x8000_0000, 12, R, alloc);
    expect(desc(mem, root, 0x1ff) & 3n).toBe(3n);
    for (let level = 1; level <= 3; level++) {
      const table = tableAt(mem, root, va, level);
      expect(desc(mem, table, indexOf(va, level)) & 3n).toBe(3n);
    }
    expect(indexOf(va, 1)).toBe(0x155);
  });
});
