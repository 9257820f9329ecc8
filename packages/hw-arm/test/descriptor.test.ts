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
 * User leaves: AttrIndx 0, SH 0b11 (0x300), AP[1] 1 (0x40), AP[2] 1 (0x80), nG 1 (0x800)
 * = lower attributes 0xBC0; PXN always (0x0020_0000 in the high word), UXN without
 * EXEC (0x0040_0000), DBM with WRITE (0x0008_0000).
 */
import { MemAccess } from '@pecan/kernel';
import { beforeEach, describe, expect, it } from 'vitest';
import { createArmPageTables, createVirtRam, DescBit, DescHi, DescLo, VIRT_RAM_BASE } from '../src/index';
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
