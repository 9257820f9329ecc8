/**
 * Bit-exact entry formats, against Intel SDM Vol. 3A §4.5 "4-Level Paging and 5-Level
 * Paging". Table numbers are those of current editions (the ones with 5-level paging);
 * older editions number the same tables one lower (e.g. the 4 KiB PTE is Table 4-19).
 */
import { MemAccess, MemType, type PhysicalMemory } from '@pecan/kernel';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createPcRam,
  createX86PageTables,
  decodePte,
  encodePte,
  PC_LAPIC_BASE,
  PTE_XD_BIT,
  PteFlag,
  pteAddress,
  pteHex,
} from '../src/index';
import { CountingAllocator, entryHex, translation } from './helpers';

const { READ, WRITE, EXEC } = MemAccess;
const F = PteFlag;

/** The 64-bit value of an entry, via BigInt (tests only), from its halves. */
function big(e: { lo: number; hi: number }): bigint {
  return (BigInt(e.hi) << 32n) | BigInt(e.lo);
}

describe('entry bits (SDM Vol. 3A §4.5, Tables 4-15 to 4-20)', () => {
  it('places each flag at the bit position the SDM gives', () => {
    const positions: [number, number][] = [
      [F.P, 0],
      [F.RW, 1],
      [F.US, 2],
      [F.PWT, 3],
      [F.PCD, 4],
      [F.A, 5],
      [F.D, 6],
      [F.PS, 7],
      [F.PAT_4K, 7],
      [F.G, 8],
      [F.PAT_LARGE, 12],
    ];
    for (const [mask, bit] of positions) expect(mask).toBe(2 ** bit);
    expect(PTE_XD_BIT).toBe(63);
    expect(big(encodePte(0, 0, true))).toBe(1n << 63n);
  });

  it('holds physical address bits 12–51 (MAXPHYADDR 52) across both halves', () => {
    const e = encodePte(0x000f_ffff_ffff_f000, 0);
    expect(pteHex(e)).toBe('0x000fffff_fffff000');
    expect(big(e)).toBe(0x000f_ffff_ffff_f000n);
    expect(pteAddress(e.lo, e.hi, 12)).toBe(0x000f_ffff_ffff_f000);
  });
});

describe('pure encoders, one per entry format', () => {
  it('Table 4-15: Format of a PML4 Entry (PML4E) that References a Page-Directory-Pointer Table', () => {
    expect(pteHex(encodePte(0x0012_3000, F.P | F.RW | F.US))).toBe('0x00000000_00123007');
  });

  it('Table 4-16: Format of a Page-Directory-Pointer-Table Entry (PDPTE) that Maps a 1-GByte Page', () => {
    // 1 GiB page at 5 GiB, read-only, execute-disable: PS (bit 7) set, address bits 30–51.
    const e = encodePte(0x1_4000_0000, F.P | F.US | F.PS, true);
    expect(pteHex(e)).toBe('0x80000001_40000085');
    expect(decodePte(e.lo, e.hi, 'PDPTE')).toMatchObject({ leaf: true, order: 30, address: 0x1_4000_0000 });
  });

  it('Table 4-17: Format of a Page-Directory-Pointer-Table Entry (PDPTE) that References a Page Directory', () => {
    const e = encodePte(0x0045_6000, F.P | F.RW | F.US);
    expect(pteHex(e)).toBe('0x00000000_00456007');
    expect(decodePte(e.lo, e.hi, 'PDPTE')).toMatchObject({ leaf: false, order: null, address: 0x45_6000 });
  });

  it('Table 4-18: Format of a Page-Directory Entry that Maps a 2-MByte Page', () => {
    // 2 MiB page at 6 MiB, writable and executable: address bits 21–51, PS set, PAT (bit 12) 0.
    const e = encodePte(0x0060_0000, F.P | F.RW | F.US | F.PS);
    expect(pteHex(e)).toBe('0x00000000_00600087');
    expect(decodePte(e.lo, e.hi, 'PDE')).toMatchObject({ leaf: true, order: 21, writable: true });
  });

  it('Table 4-19: Format of a Page-Directory Entry that References a Page Table', () => {
    expect(pteHex(encodePte(0x0078_9000, F.P | F.RW | F.US))).toBe('0x00000000_00789007');
  });

  it('Table 4-20: Format of a Page-Table Entry that Maps a 4-KByte Page', () => {
    const e = encodePte(0x0020_3000, F.P | F.RW | F.US, true);
    expect(pteHex(e)).toBe('0x80000000_00203007');
    expect(decodePte(e.lo, e.hi, 'PTE')).toMatchObject({
      present: true,
      writable: true,
      user: true,
      accessed: false,
      dirty: false,
      leaf: true,
      global: false,
      executeDisable: true,
      order: 12,
      address: 0x20_3000,
    });
    // Bit 7 of a PTE is PAT, not PS: it does not make a PTE a large page.
    expect(decodePte(e.lo | F.PAT_4K, e.hi, 'PTE').order).toBe(12);
  });
});

describe('entries as map() writes them into simulated RAM', () => {
  // va 0x0000_0080_4020_1000 has index 1 at every level: PML4 (bits 39–47), PDPT
  // (30–38), PD (21–29), PT (12–20); so each entry sits at byte 8 of its table.
  const VA = 0x0000_0080_4020_1000;
  const ROOT = 0x10_0000;
  let mem: PhysicalMemory;
  let alloc: CountingAllocator;
  const pt = () => createX86PageTables(mem);

  beforeEach(() => {
    mem = createPcRam(8 * 1024 * 1024);
    alloc = new CountingAllocator(mem, ROOT);
  });

  it('4 KiB page: PML4E (Table 4-15), PDPTE→PD (4-17), PDE→PT (4-19), PTE (Table 4-20)', () => {
    const f = pt();
    const root = f.createRoot(alloc)!;
    expect(root).toBe(ROOT);
    expect(f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc)).toBe(true);
    // Intermediate entries: P | R/W | U/S, no XD; the leaf decides the rights.
    expect(entryHex(mem, 0x10_0000, 1)).toBe('0x00000000_00101007');
    expect(entryHex(mem, 0x10_1000, 1)).toBe('0x00000000_00102007');
    expect(entryHex(mem, 0x10_2000, 1)).toBe('0x00000000_00103007');
    // Leaf: P | R/W | U/S, XD because EXEC was not asked for.
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_00203007');
    // Nothing else in any table.
    expect(entryHex(mem, 0x10_3000, 0)).toBe('0x00000000_00000000');
    expect(entryHex(mem, 0x10_3000, 2)).toBe('0x00000000_00000000');
  });

  it('4 KiB page: a read sets A (bit 5) in all four entries, a write also D (bit 6) in the PTE only (§4.8)', () => {
    const f = pt();
    const root = f.createRoot(alloc)!;
    f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc);
    expect(f.walk(root, VA, READ, translation()).fault).toBe(0);
    expect(entryHex(mem, 0x10_0000, 1)).toBe('0x00000000_00101027');
    expect(entryHex(mem, 0x10_1000, 1)).toBe('0x00000000_00102027');
    expect(entryHex(mem, 0x10_2000, 1)).toBe('0x00000000_00103027');
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_00203027');
    expect(f.walk(root, VA + 8, WRITE, translation()).fault).toBe(0);
    expect(entryHex(mem, 0x10_2000, 1)).toBe('0x00000000_00103027');
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_00203067');
  });

  it('Table 4-18: a 2 MiB page is a PDE with PS = 1 and address bits 21–51', () => {
    const f = pt();
    const root = f.createRoot(alloc)!;
    expect(f.map(root, 0x0000_0080_4040_0000, 0x60_0000, 21, READ | EXEC, alloc)).toBe(true);
    // PD index 2: P | U/S | PS, read-only, executable (no XD).
    expect(entryHex(mem, 0x10_2000, 2)).toBe('0x00000000_00600085');
  });

  it('Table 4-16: a 1 GiB page is a PDPTE with PS = 1 and address bits 30–51', () => {
    const f = pt();
    const root = f.createRoot(alloc)!;
    expect(f.map(root, 0x0000_0080_8000_0000, 0x1_4000_0000, 30, READ | WRITE | EXEC, alloc)).toBe(true);
    // PDPT index 2: P | R/W | U/S | PS, address 0x1_4000_0000 spans both halves.
    expect(entryHex(mem, 0x10_1000, 2)).toBe('0x00000001_40000087');
    expect(f.map(root, 0x0000_0080_8000_0000, 0x1_4000_0000, 30, READ, alloc)).toBe(true);
    expect(entryHex(mem, 0x10_1000, 2)).toBe('0x80000001_40000085');
  });

  it('Table 4-20: the highest frame (bits 12–51 all set) and XD share the high half', () => {
    const f = pt();
    const root = f.createRoot(alloc)!;
    f.map(root, VA, 0x000f_ffff_ffff_f000, 12, READ, alloc);
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x800fffff_fffff005');
    const t = f.walk(root, VA + 0xabc, READ, translation());
    expect(t).toMatchObject({ fault: 0, frame: 0x000f_ffff_ffff_f000, order: 12, rights: READ, levels: 4 });
  });
});

describe('memory types as map() writes them (SDM Vol. 3A §4.9; §11.12.3, Table 11-11)', () => {
  // With the power-up IA32_PAT, PAT:PCD:PWT = 0:0:0 selects PAT entry 0 (WB) and 0:1:1
  // entry 3 (UC, strong uncacheable). PCD is bit 4 and PWT bit 3 in every leaf; PAT is
  // bit 7 of a PTE (Table 4-20) and bit 12 of a 2 MiB or 1 GiB leaf (Tables 4-18, 4-16).
  // Same layout as above: va index 1 at every level, tables bump-allocated from 1 MiB.
  const VA = 0x0000_0080_4020_1000;
  const VA_2M = 0x0000_0080_4040_0000; // PD index 2
  const VA_1G = 0x0000_0080_8000_0000; // PDPT index 2
  const ROOT = 0x10_0000;
  let mem: PhysicalMemory;
  let alloc: CountingAllocator;
  let f: ReturnType<typeof createX86PageTables>;
  let root: number;

  beforeEach(() => {
    mem = createPcRam(8 * 1024 * 1024);
    alloc = new CountingAllocator(mem, ROOT);
    f = createX86PageTables(mem);
    root = f.createRoot(alloc)!;
  });

  it('Table 4-20: a DEVICE 4 KiB page (the LAPIC) is a PTE with PCD = PWT = 1 and PAT (bit 7) = 0, i.e. UC', () => {
    expect(f.map(root, VA, PC_LAPIC_BASE, 12, READ | WRITE, alloc, MemType.DEVICE)).toBe(true);
    // P | R/W | U/S | PWT | PCD = 0x1f; XD because EXEC was not asked for.
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_fee0001f');
    expect(decodePte(0xfee0_001f, 0x8000_0000, 'PTE')).toMatchObject({
      cacheDisable: true,
      writeThrough: true,
      order: 12,
      address: PC_LAPIC_BASE,
    });
    // The tables on the way are in RAM: write-back, PCD = PWT = 0.
    expect(entryHex(mem, 0x10_0000, 1)).toBe('0x00000000_00101007');
    expect(entryHex(mem, 0x10_1000, 1)).toBe('0x00000000_00102007');
    expect(entryHex(mem, 0x10_2000, 1)).toBe('0x00000000_00103007');
    // The walk is unaffected by the memory type.
    const t = f.walk(root, VA + 0x20, READ, translation());
    expect(t).toMatchObject({ fault: 0, frame: PC_LAPIC_BASE, order: 12, rights: READ | WRITE, levels: 4 });
  });

  it('Table 4-18: a DEVICE 2 MiB page is a PDE with PS = 1, PCD = PWT = 1 and PAT (bit 12) = 0', () => {
    expect(f.map(root, VA_2M, 0x60_0000, 21, READ | EXEC, alloc, MemType.DEVICE)).toBe(true);
    // P | U/S | PWT | PCD | PS = 0x9d; executable, so no XD.
    expect(entryHex(mem, 0x10_2000, 2)).toBe('0x00000000_0060009d');
  });

  it('Table 4-16: a DEVICE 1 GiB page is a PDPTE with PS = 1, PCD = PWT = 1 and PAT (bit 12) = 0', () => {
    expect(f.map(root, VA_1G, 0x1_4000_0000, 30, READ | WRITE | EXEC, alloc, MemType.DEVICE)).toBe(true);
    // P | R/W | U/S | PWT | PCD | PS = 0x9f.
    expect(entryHex(mem, 0x10_1000, 2)).toBe('0x00000001_4000009f');
  });

  it('NORMAL (explicit or by default) is write-back at every size: PAT = PCD = PWT = 0', () => {
    expect(f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc, MemType.NORMAL)).toBe(true);
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_00203007');
    expect(f.map(root, VA_2M, 0x60_0000, 21, READ | WRITE, alloc, MemType.NORMAL)).toBe(true);
    expect(entryHex(mem, 0x10_2000, 2)).toBe('0x80000000_00600087');
    expect(f.map(root, VA_1G, 0x1_4000_0000, 30, READ | WRITE, alloc)).toBe(true);
    expect(entryHex(mem, 0x10_1000, 2)).toBe('0x80000001_40000087');
  });

  it('remapping the same frame changes the memory type and keeps A and D (§4.8)', () => {
    f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc, MemType.DEVICE);
    expect(f.walk(root, VA, WRITE, translation()).fault).toBe(0);
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_0020307f');
    expect(f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc, MemType.NORMAL)).toBe(true);
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_00203067');
    expect(f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc, MemType.DEVICE)).toBe(true);
    expect(entryHex(mem, 0x10_3000, 1)).toBe('0x80000000_0020307f');
  });

  it('splitting a DEVICE 2 MiB page for a 4 KiB mapping leaves 511 DEVICE PTEs (Table 4-20)', () => {
    f.map(root, VA_2M, 0x60_0000, 21, READ | WRITE, alloc, MemType.DEVICE);
    expect(f.map(root, VA_2M + 0x3000, 0x20_3000, 12, READ, alloc)).toBe(true);
    // The PDE now points at the new PT (frame 0x10_3000), with table flags only.
    expect(entryHex(mem, 0x10_2000, 2)).toBe('0x00000000_00103007');
    // The pieces: PS gone (bit 7 of a PTE is PAT, kept 0), PCD | PWT kept.
    expect(entryHex(mem, 0x10_3000, 0)).toBe('0x80000000_0060001f');
    expect(entryHex(mem, 0x10_3000, 2)).toBe('0x80000000_0060201f');
    expect(entryHex(mem, 0x10_3000, 511)).toBe('0x80000000_007ff01f');
    // The new mapping has its own (normal) type.
    expect(entryHex(mem, 0x10_3000, 3)).toBe('0x80000000_00203005');
  });

  it('splitting a DEVICE 1 GiB page for a 2 MiB unmap leaves 511 DEVICE 2 MiB PDEs (Table 4-18)', () => {
    f.map(root, VA_1G, 0x1_4000_0000, 30, READ, alloc, MemType.DEVICE);
    expect(f.unmap(root, VA_1G + 2 ** 21, 21, alloc)).toBe(0);
    expect(alloc.live.size).toBe(3);
    expect(entryHex(mem, 0x10_1000, 2)).toBe('0x00000000_00102007');
    // P | U/S | PWT | PCD | PS = 0x9d, XD (read-only).
    expect(entryHex(mem, 0x10_2000, 0)).toBe('0x80000001_4000009d');
    expect(entryHex(mem, 0x10_2000, 1)).toBe('0x00000000_00000000');
    expect(entryHex(mem, 0x10_2000, 2)).toBe('0x80000001_4040009d');
    expect(entryHex(mem, 0x10_2000, 511)).toBe('0x80000001_7fe0009d');
  });

  it('a split moves PAT from bit 12 of a large leaf to bit 7 of the PTEs', () => {
    // Pecan never sets PAT itself; a PDE with PAT = 1 (entry 4) is written by hand.
    f.map(root, VA_2M, 0x60_0000, 21, READ | WRITE, alloc);
    const u32 = new Uint32Array(mem.buffer);
    const w = (0x10_2000 + 2 * 8) / 4;
    u32[w] = u32[w]! | PteFlag.PAT_LARGE;
    expect(entryHex(mem, 0x10_2000, 2)).toBe('0x80000000_00601087');
    expect(f.map(root, VA_2M + 0x3000, 0x20_3000, 12, READ, alloc)).toBe(true);
    expect(entryHex(mem, 0x10_3000, 0)).toBe('0x80000000_00600087');
    expect(entryHex(mem, 0x10_3000, 511)).toBe('0x80000000_007ff087');
  });

  it('a memory type that is not a MemType makes map return false and changes nothing', () => {
    f.map(root, VA, 0x20_3000, 12, READ, alloc);
    const before = entryHex(mem, 0x10_3000, 1);
    for (const bad of [2, -1, 0.5, Number.NaN, 3]) {
      const memType = bad as MemType;
      expect(f.map(root, VA, 0x20_3000, 12, READ | WRITE, alloc, memType)).toBe(false);
      expect(f.map(root, VA, 0x20_3000, 12, 0, alloc, memType)).toBe(false);
      expect(f.map(root, VA_1G, 0x4000_0000, 30, READ, alloc, memType)).toBe(false);
    }
    expect(entryHex(mem, 0x10_3000, 1)).toBe(before);
    expect(alloc.live.size).toBe(4);
  });
});
