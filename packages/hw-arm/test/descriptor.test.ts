/**
 * Bit-exact descriptor tests. Every expected value is derived by hand from the Arm
 * Architecture Reference Manual (ARM DDI 0487), D5.3 "VMSAv8-64 translation table format
 * descriptors" (D8.3 in issue I and later):
 * - D5.3.1, level 0-2 descriptors: bits[1:0] 0b11 table, 0b01 block (L1, L2 only);
 *   table address bits 47:12; block OA bits 47:30 (L1) or 47:21 (L2).
 * - D5.3.2, level 3 descriptors: bits[1:0] 0b11 page; OA bits 47:12.
 * - D5.3.3, attribute fields: AttrIndx 4:2, NS 5, AP[2:1] 7:6, SH 9:8, AF 10, nG 11;
 *   DBM 51, Contiguous 52, PXN 53, UXN 54.
 * - D5.4 "Memory access control": AP[1] = EL0 access, AP[2] = read-only; the Access
 *   flag and hardware management of dirty state (DBM, FEAT_HAFDBS).
 *
 * - B2.7.2 "Device memory": instruction fetches from Device memory are not allowed,
 *   and Device memory is always Outer Shareable (SH is ignored).
 * - "MAIR_EL1, Memory Attribute Indirection Register (EL1)": Attr<n> is byte n; 0xFF is
 *   Normal Inner/Outer Write-Back Non-transient RW-Allocate, 0x04 is Device-nGnRE.
 *
 * User leaves of normal memory: AttrIndx 0, SH 0b11 (0x300), AP[1] 1 (0x40), AP[2] 1
 * (0x80), nG 1 (0x800) = lower attributes 0xBC0; PXN always (0x0020_0000 in the high
 * word), UXN without EXEC (0x0040_0000), DBM with WRITE (0x0008_0000).
 *
 * User leaves of device memory: AttrIndx 1 (0x4), SH 0b10 (0x200), AP[1], AP[2], nG =
 * lower attributes 0xAC4 (page 0xAC7, block 0xAC5); PXN and UXN always (0x0060_0000),
 * DBM with WRITE.
 */
import { MemAccess, MemType } from '@pecan/kernel';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ARM_MAIR_EL1,
  createArmPageTables,
  createVirtRam,
  DescBit,
  DescHi,
  DescLo,
  MAIR_ATTR_DEVICE_NGNRE,
  MAIR_ATTR_NORMAL_WB,
  MAIR_INDEX_DEVICE,
  MAIR_INDEX_NORMAL,
  VIRT_RAM_BASE,
} from '../src/index';
import { CountingAllocator, desc, hex64, translation } from './helpers';

const { READ: R, WRITE: W, EXEC: X } = MemAccess;
const MiB = 1024 * 1024;

// L0 index 1, L1 index 2, L2 index 3, L3 index 4.
const VA = 1 * 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21 + 4 * 2 ** 12;
const PA = 0x4012_3000;

describe('descriptor constants (DDI 0487 D5.3.1-D5.3.3)', () => {
  it('places every field at its architectural bit position', () => {
    expect(DescBit).toMatchObject({
      VALID: 0,
      TYPE: 1,
      ATTR_INDX: 2,
      NS: 5,
      AP1: 6,
      AP2: 7,
      SH: 8,
      AF: 10,
      NG: 11,
      OA: 12,
      DBM: 51,
      CONTIGUOUS: 52,
      PXN: 53,
      UXN: 54,
    });
    expect(DescLo.ATTR_INDX_MASK).toBe(0x1c);
    expect(DescLo.NS).toBe(0x20);
    expect(DescLo.AP1_EL0).toBe(0x40);
    expect(DescLo.AP2_RO).toBe(0x80);
    expect(DescLo.SH_INNER).toBe(0x300);
    expect(DescLo.SH_OUTER).toBe(0x200);
    expect(DescLo.AF).toBe(0x400);
    expect(DescLo.NG).toBe(0x800);
    // High word: bit n of the descriptor is bit n - 32 of the word.
    expect(BigInt(DescHi.DBM) << 32n).toBe(1n << 51n);
    expect(BigInt(DescHi.CONTIGUOUS) << 32n).toBe(1n << 52n);
    expect(BigInt(DescHi.PXN) << 32n).toBe(1n << 53n);
    expect(BigInt(DescHi.UXN) << 32n).toBe(1n << 54n);
    expect(BigInt(DescHi.NS_TABLE) << 32n).toBe(1n << 63n);
  });
});

describe('descriptors written by map (DDI 0487 D5.3)', () => {
  let mem = createVirtRam(4 * MiB);
  let alloc = new CountingAllocator(mem);
  let pt = createArmPageTables(mem);
  let root = 0;

  beforeEach(() => {
    mem = createVirtRam(4 * MiB);
    alloc = new CountingAllocator(mem); // bump: root 0x4000_0000, then 0x4000_1000, ...
    pt = createArmPageTables(mem);
    root = pt.createRoot(alloc)!;
    expect(root).toBe(VIRT_RAM_BASE);
  });

  const expectDesc = (table: number, index: number, expected: bigint) =>
    expect(hex64(desc(mem, table, index))).toBe(hex64(expected));

  it('L0, L1 and L2 table descriptors: bits[1:0] = 0b11, next-level table address in 47:12, no attributes (D5.3.1)', () => {
    expect(pt.map(root, VA, PA, 12, R, alloc)).toBe(true);
    expectDesc(root, 1, 0x0000_0000_4000_1003n); // L0[1] -> L1 table at 0x4000_1000
    expectDesc(0x4000_1000, 2, 0x0000_0000_4000_2003n); // L1[2] -> L2 table
    expectDesc(0x4000_2000, 3, 0x0000_0000_4000_3003n); // L2[3] -> L3 table
    expect(alloc.live.size).toBe(4);
  });

  it('L3 page, read-only: 0b11, AP[2:1] = 0b11, DBM 0, SH 0b11, AF 0, nG 1, PXN, UXN (D5.3.2, D5.3.3)', () => {
    pt.map(root, VA, PA, 12, R, alloc);
    expectDesc(0x4000_3000, 4, 0x0060_0000_4012_3bc3n);
  });

  it('L3 page, writable-clean: DBM = 1 with AP[2] = 1 (D5.4, hardware management of dirty state)', () => {
    pt.map(root, VA, PA, 12, R | W, alloc);
    expectDesc(0x4000_3000, 4, 0x0068_0000_4012_3bc3n);
  });

  it('L3 page, a read sets AF (bit 10) only (D5.4, the Access flag)', () => {
    pt.map(root, VA, PA, 12, R | W, alloc);
    expect(pt.walk(root, VA, R, translation()).fault).toBe(0);
    expectDesc(0x4000_3000, 4, 0x0068_0000_4012_3fc3n);
  });

  it('L3 page, writable-dirty after a write: AF = 1, AP[2] = 0, DBM = 1 (D5.4, dirty state)', () => {
    pt.map(root, VA, PA, 12, R | W, alloc);
    expect(pt.walk(root, VA + 8, W, translation()).fault).toBe(0);
    expectDesc(0x4000_3000, 4, 0x0068_0000_4012_3f43n);
  });

  it('L3 page, executable: UXN = 0, PXN = 1 (D5.4, execute-never controls)', () => {
    pt.map(root, VA, PA, 12, R | X, alloc);
    expectDesc(0x4000_3000, 4, 0x0020_0000_4012_3bc3n);
    pt.map(root, VA, PA, 12, R | W | X, alloc);
    expectDesc(0x4000_3000, 4, 0x0028_0000_4012_3bc3n);
  });

  it('L3 page, the full 48-bit output address: OA[47:32] in descriptor bits 47:32 (D5.3.2)', () => {
    pt.map(root, VA, 0xffff_ffff_f000, 12, R, alloc);
    expectDesc(0x4000_3000, 4, 0x0060_ffff_ffff_fbc3n);
  });

  it('L2 2 MiB block: bits[1:0] = 0b01, OA in 47:21 (D5.3.1)', () => {
    const va = 1 * 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21;
    pt.map(root, va, 0x4020_0000, 21, R | W, alloc);
    expectDesc(0x4000_2000, 3, 0x0068_0000_4020_0bc1n);
    expect(alloc.live.size).toBe(3); // root, L1, L2: no L3 table
  });

  it('L1 1 GiB block: bits[1:0] = 0b01, OA in 47:30 (D5.3.1)', () => {
    const va = 1 * 2 ** 39 + 2 * 2 ** 30;
    pt.map(root, va, 0x8000_0000, 30, R | X, alloc);
    expectDesc(0x4000_1000, 2, 0x0020_0000_8000_0bc1n);
    pt.map(root, va, 0xfc_0000_0000, 30, R, alloc);
    expectDesc(0x4000_1000, 2, 0x0060_00fc_0000_0bc1n);
  });

  it('a table above 4 GiB puts its address bits 47:32 in descriptor bits 47:32 (D5.3.1)', () => {
    const high = { buffer: new ArrayBuffer(64 * 1024), base: 2 ** 47, size: 64 * 1024 };
    const highAlloc = new CountingAllocator(high);
    const highPt = createArmPageTables(high);
    const highRoot = highPt.createRoot(highAlloc)!;
    expect(highPt.map(highRoot, VA, PA, 12, R, highAlloc)).toBe(true);
    expect(hex64(desc(high, highRoot, 1))).toBe(hex64(0x0000_8000_0000_1003n));
    expect(highPt.walk(highRoot, VA, R, translation())).toMatchObject({ fault: 0, frame: PA, levels: 4 });
  });

  it('L3 page, dirty then made read-only: the dirty state moves to software bit 55 (D5.3.3, bits 58:55 reserved for software)', () => {
    pt.map(root, VA, PA, 12, R | W, alloc);
    pt.walk(root, VA, W, translation());
    expect(pt.map(root, VA, PA, 12, R, alloc)).toBe(true); // same frame, rights reduced
    expectDesc(0x4000_3000, 4, 0x00e0_0000_4012_3fc3n); // AF, AP[2] = 1, DBM = 0, bit 55
    expect(pt.map(root, VA, PA, 12, R | W, alloc)).toBe(true); // write granted back: writable-dirty
    expectDesc(0x4000_3000, 4, 0x0068_0000_4012_3f43n);
  });

  it('rights 0 clears the descriptor', () => {
    pt.map(root, VA, PA, 12, R, alloc);
    pt.map(root, VA + 0x1000, PA, 12, R, alloc);
    expect(pt.map(root, VA, PA, 12, 0, alloc)).toBe(true);
    expect(desc(mem, 0x4000_3000, 4)).toBe(0n);
    expect(desc(mem, 0x4000_3000, 5)).not.toBe(0n);
  });
});

describe('MAIR_EL1 (DDI 0487, MAIR_EL1 field descriptions)', () => {
  it('Attr0 = 0xFF (Normal WB) and Attr1 = 0x04 (Device-nGnRE): MAIR_EL1 = 0x04FF', () => {
    expect(ARM_MAIR_EL1).toBe(0x04ff);
    expect([MAIR_INDEX_NORMAL, MAIR_ATTR_NORMAL_WB]).toEqual([0, 0xff]);
    expect([MAIR_INDEX_DEVICE, MAIR_ATTR_DEVICE_NGNRE]).toEqual([1, 0x04]);
    expect((ARM_MAIR_EL1 >>> (8 * MAIR_INDEX_NORMAL)) & 0xff).toBe(MAIR_ATTR_NORMAL_WB);
    expect((ARM_MAIR_EL1 >>> (8 * MAIR_INDEX_DEVICE)) & 0xff).toBe(MAIR_ATTR_DEVICE_NGNRE);
  });
});

describe('device-memory descriptors (DDI 0487 D5.3.3, B2.7.2)', () => {
  const { DEVICE, NORMAL } = MemType;
  let mem = createVirtRam(4 * MiB);
  let alloc = new CountingAllocator(mem);
  let pt = createArmPageTables(mem);
  let root = 0;

  beforeEach(() => {
    mem = createVirtRam(4 * MiB);
    alloc = new CountingAllocator(mem);
    pt = createArmPageTables(mem);
    root = pt.createRoot(alloc)!;
  });

  const expectDesc = (table: number, index: number, expected: bigint) =>
    expect(hex64(desc(mem, table, index))).toBe(hex64(expected));

  it('L3 page: AttrIndx 1, SH 0b10, AP[2:1] 0b11, nG, DBM with WRITE; PXN and UXN even with EXEC', () => {
    // 0xAC7 = nG 0x800 | SH 0b10 0x200 | AP[2] 0x80 | AP[1] 0x40 | AttrIndx 1 0x4 | page 0b11.
    pt.map(root, VA, 0x0900_0000, 12, R | W | X, alloc, DEVICE);
    expectDesc(0x4000_3000, 4, 0x0068_0000_0900_0ac7n); // PXN | UXN | DBM
    pt.map(root, VA, 0x0900_0000, 12, R | X, alloc, DEVICE);
    expectDesc(0x4000_3000, 4, 0x0060_0000_0900_0ac7n); // PXN | UXN
    // The same page as normal memory for comparison: AttrIndx 0, SH 0b11, UXN clear with EXEC.
    pt.map(root, VA, 0x0900_0000, 12, R | X, alloc, NORMAL);
    expectDesc(0x4000_3000, 4, 0x0020_0000_0900_0bc3n);
    pt.map(root, VA, 0x0900_0000, 12, R | X, alloc);
    expectDesc(0x4000_3000, 4, 0x0020_0000_0900_0bc3n); // memType defaults to NORMAL
  });

  it('L2 2 MiB block: bits[1:0] 0b01, lower attributes 0xAC4, PXN | UXN | DBM', () => {
    const va = 1 * 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21;
    pt.map(root, va, 0x0800_0000, 21, R | W | X, alloc, DEVICE);
    expectDesc(0x4000_2000, 3, 0x0068_0000_0800_0ac5n);
  });

  it('L1 1 GiB block: bits[1:0] 0b01, lower attributes 0xAC4, PXN | UXN', () => {
    const va = 1 * 2 ** 39 + 2 * 2 ** 30;
    pt.map(root, va, 0, 30, R | X, alloc, DEVICE);
    expectDesc(0x4000_1000, 2, 0x0060_0000_0000_0ac5n);
  });

  it('a device page never walks as executable: EXEC is a PROTECTION fault (B2.7.2)', () => {
    pt.map(root, VA, 0x0900_0000, 12, R | W | X, alloc, DEVICE);
    expect(pt.walk(root, VA, X, translation())).toMatchObject({ fault: 2, rights: R | W });
    expect(pt.walk(root, VA, W, translation())).toMatchObject({
      fault: 0,
      frame: 0x0900_0000,
      rights: R | W,
    });
    expectDesc(0x4000_3000, 4, 0x0068_0000_0900_0e47n); // AF set, writable-dirty (AP[2] = 0)
  });

  it('splitting a device block keeps the memory type in every child (map and unmap)', () => {
    const va = 1 * 2 ** 39 + 2 * 2 ** 30 + 3 * 2 ** 21;
    pt.map(root, va, 0x0800_0000, 21, R | W, alloc, DEVICE);
    // A normal page inside: the L3 table's other 511 pages stay device memory.
    pt.map(root, va + 0x1000, 0x4010_0000, 12, R, alloc, NORMAL);
    expectDesc(0x4000_3000, 0, 0x0068_0000_0800_0ac7n);
    expectDesc(0x4000_3000, 1, 0x0060_0000_4010_0bc3n);
    expectDesc(0x4000_3000, 511, 0x0068_0000_081f_fac7n);

    // 1 GiB device block, 4 KiB unmap: 2 MiB device blocks and an L3 table of device pages.
    const gva = 3 * 2 ** 30;
    pt.map(root, gva, 0, 30, R, alloc, DEVICE);
    pt.unmap(root, gva + 2 * MiB + 0x1000, 12, alloc);
    const l2 = Number(desc(mem, root, 0) & 0xffff_ffff_f000n);
    const l2Table = Number(desc(mem, l2, 3) & 0xffff_ffff_f000n);
    expectDesc(l2Table, 0, 0x0060_0000_0000_0ac5n);
    expectDesc(l2Table, 511, 0x0060_0000_3fe0_0ac5n);
    const l3 = Number(desc(mem, l2Table, 1) & 0xffff_ffff_f000n);
    expectDesc(l3, 0, 0x0060_0000_0020_0ac7n);
    expect(desc(mem, l3, 1)).toBe(0n);
    expectDesc(l3, 2, 0x0060_0000_0020_2ac7n);
  });

  it('an invalid memType makes map return false and changes nothing', () => {
    pt.map(root, VA, PA, 12, R, alloc);
    const before = desc(mem, 0x4000_3000, 4);
    const live = alloc.live.size;
    for (const bad of [2, -1, 0.5, Number.NaN]) {
      expect(pt.map(root, VA, 0x0900_0000, 12, R, alloc, bad as MemType)).toBe(false);
      expect(pt.map(root, VA + 2 ** 30, 0x0900_0000, 12, R, alloc, bad as MemType)).toBe(false);
    }
    expect(desc(mem, 0x4000_3000, 4)).toBe(before);
    expect(alloc.live.size).toBe(live);
  });
});
