import { describe, expect, it } from 'vitest';
import {
  createPcRam,
  createX86PageTables,
  PC_DEFAULT_RAM_SIZE,
  PC_IOAPIC_BASE,
  PC_LAPIC_BASE,
  PC_LEGACY_HOLE_END,
  PC_LEGACY_HOLE_START,
  PC_MAX_LOW_RAM,
  pcMemoryMap,
} from '../src/index';

describe('PC memory map (QEMU pc; reference facts "PC (x86-64)")', () => {
  it('places 128 MiB of RAM at physical 0 by default', () => {
    const ram = createPcRam();
    expect(ram.base).toBe(0);
    expect(ram.size).toBe(128 * 1024 * 1024);
    expect(ram.size).toBe(PC_DEFAULT_RAM_SIZE);
    expect(ram.buffer.byteLength).toBe(ram.size);
  });

  it('has the legacy hole, the virtio-mmio window, the IOAPIC and the LAPIC where a PC (microvm for virtio) has them', () => {
    expect(PC_LEGACY_HOLE_START).toBe(0xa_0000);
    expect(PC_LEGACY_HOLE_END).toBe(0x10_0000);
    expect(PC_IOAPIC_BASE).toBe(0xfec0_0000);
    expect(PC_LAPIC_BASE).toBe(0xfee0_0000);
    expect(pcMemoryMap(32 * 1024 * 1024)).toEqual([
      { base: 0, size: 0xa_0000, kind: 'ram', name: 'conventional memory' },
      { base: 0xa_0000, size: 0x6_0000, kind: 'reserved', name: 'legacy hole (VGA, ROMs)' },
      { base: 0x10_0000, size: 31 * 1024 * 1024, kind: 'ram', name: 'extended memory' },
      { base: 0xfeb0_0000, size: 0x1000, kind: 'mmio', name: 'virtio-mmio' },
      { base: 0xfec0_0000, size: 0x1000, kind: 'mmio', name: 'IOAPIC' },
      { base: 0xfee0_0000, size: 0x1000, kind: 'mmio', name: 'LAPIC' },
    ]);
  });

  it('rejects RAM sizes that are unaligned, too small or above the 3.5 GiB low-memory split', () => {
    for (const bad of [0, 4096, PC_LEGACY_HOLE_END, 2 * 1024 * 1024 + 1, PC_MAX_LOW_RAM + 4096, Number.NaN]) {
      expect(() => createPcRam(bad)).toThrow(RangeError);
    }
  });

  it("works as the page-table format's physical memory", () => {
    expect(createX86PageTables(createPcRam(2 * 1024 * 1024)).name).toBe('x86_64 4-level');
  });
});
