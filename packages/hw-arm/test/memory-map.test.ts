/**
 * The QEMU `virt` memory map, against QEMU's hw/arm/virt.c (`base_memmap[]`,
 * `a15irqmap[]`) and include/hw/arm/virt.h (`NUM_VIRTIO_TRANSPORTS`).
 */
import { describe, expect, it } from 'vitest';
import {
  createVirtRam,
  VIRT_RAM_BASE,
  VIRT_RAM_DEFAULT_SIZE,
  VIRTIO_MMIO_SLOTS,
  VirtIntid,
  VirtMap,
  virtioMmioBase,
  virtioMmioIntid,
  virtMemoryMap,
} from '../src/index';

describe('QEMU virt memory map', () => {
  it('places devices as hw/arm/virt.c does', () => {
    expect(VIRT_RAM_BASE).toBe(0x4000_0000);
    expect(VirtMap.GIC_DIST).toEqual({ base: 0x0800_0000, size: 0x1_0000 });
    expect(VirtMap.GIC_CPU).toEqual({ base: 0x0801_0000, size: 0x1_0000 });
    expect(VirtMap.UART).toEqual({ base: 0x0900_0000, size: 0x1000 });
    expect(VirtMap.RTC).toEqual({ base: 0x0901_0000, size: 0x1000 });
    expect(VirtMap.VIRTIO_MMIO).toEqual({ base: 0x0a00_0000, size: 0x200 });
  });

  it('numbers interrupts as GIC INTIDs (SPI n = 32 + n, PPI n = 16 + n)', () => {
    expect(VirtIntid.UART).toBe(33);
    expect(VirtIntid.RTC).toBe(34);
    expect(VirtIntid.VIRTIO_MMIO_0).toBe(48);
    expect(VirtIntid.TIMER_PHYS).toBe(30);
    expect(VirtIntid.TIMER_VIRT).toBe(27);
  });

  it('has 32 virtio-mmio transports, 0x200 apart, on consecutive SPIs', () => {
    expect(VIRTIO_MMIO_SLOTS).toBe(32);
    expect(virtioMmioBase(0)).toBe(0x0a00_0000);
    expect(virtioMmioBase(1)).toBe(0x0a00_0200);
    expect(virtioMmioBase(31)).toBe(0x0a00_3e00);
    expect(virtioMmioIntid(31)).toBe(79);
    expect(() => virtioMmioBase(32)).toThrow(RangeError);
    expect(() => virtioMmioIntid(-1)).toThrow(RangeError);
  });

  it('creates RAM at 0x4000_0000, 128 MiB by default', () => {
    const ram = createVirtRam();
    expect(ram.base).toBe(0x4000_0000);
    expect(ram.size).toBe(VIRT_RAM_DEFAULT_SIZE);
    expect(ram.size).toBe(128 * 1024 * 1024);
    expect(ram.buffer.byteLength).toBe(ram.size);
    expect(createVirtRam(64 * 1024).size).toBe(64 * 1024);
    for (const bad of [0, -4096, 4097, 1.5, Number.NaN, 256 * 2 ** 30]) {
      expect(() => createVirtRam(bad)).toThrow(RangeError);
    }
  });

  it('virtMemoryMap lists the device windows, then RAM, in address order', () => {
    expect(virtMemoryMap(64 * 1024 * 1024)).toEqual([
      { base: 0x0800_0000, size: 0x1_0000, kind: 'mmio', name: 'GICv2 distributor' },
      { base: 0x0801_0000, size: 0x1_0000, kind: 'mmio', name: 'GICv2 CPU interface' },
      { base: 0x0900_0000, size: 0x1000, kind: 'mmio', name: 'PL011 UART' },
      { base: 0x0901_0000, size: 0x1000, kind: 'mmio', name: 'PL031 RTC' },
      { base: 0x0a00_0000, size: 0x4000, kind: 'mmio', name: 'virtio-mmio (32 transports)' },
      { base: 0x4000_0000, size: 64 * 1024 * 1024, kind: 'ram', name: 'RAM' },
    ]);
    expect(virtMemoryMap().at(-1)!.size).toBe(VIRT_RAM_DEFAULT_SIZE);
    // The virtio window covers every transport.
    const virtio = virtMemoryMap()[4]!;
    expect(virtioMmioBase(VIRTIO_MMIO_SLOTS - 1) + 0x200).toBe(virtio.base + virtio.size);
    for (const bad of [0, 4097, Number.NaN, 256 * 2 ** 30])
      expect(() => virtMemoryMap(bad)).toThrow(RangeError);
  });
});
