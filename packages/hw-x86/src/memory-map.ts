/**
 * The physical memory layout of the simulated PC, as QEMU's `pc` machine builds it:
 * RAM from physical 0 up to the RAM size (QEMU keeps at most 3.5 GiB below 4 GiB;
 * Pecan's RAM stays below that, so there is no high-memory part), with the legacy
 * hole 0xA_0000–0xF_FFFF (VGA window, option ROMs, BIOS) reserved inside it, and the
 * interrupt controllers' MMIO pages below 4 GiB.
 */

import type { PhysicalMemory } from '@pecan/kernel';

/** Physical address of RAM's first byte on a PC. */
export const PC_RAM_BASE = 0;
/** Default RAM size: 128 MiB. */
export const PC_DEFAULT_RAM_SIZE = 128 * 1024 * 1024;
/** Largest RAM below 4 GiB on QEMU `pc` (its traditional 3.5 GiB low-memory split). */
export const PC_MAX_LOW_RAM = 0xe000_0000;
/** Start of the legacy hole (VGA memory at 0xA_0000). */
export const PC_LEGACY_HOLE_START = 0x000a_0000;
/** End of the legacy hole, exclusive (ROMs and BIOS up to 0xF_FFFF): extended memory starts here. */
export const PC_LEGACY_HOLE_END = 0x0010_0000;
/** Physical base of the virtio-mmio window (QEMU `microvm`'s, the PC without PCI). */
export const PC_VIRTIO_MMIO_BASE = 0xfeb0_0000;
/** Bytes per virtio-mmio transport. */
export const PC_VIRTIO_MMIO_STRIDE = 0x200;
/** Number of virtio-mmio transports, hence of disks. */
export const PC_VIRTIO_MMIO_SLOTS = 8;
/** Physical address of the IOAPIC's MMIO page. */
export const PC_IOAPIC_BASE = 0xfec0_0000;
/** Physical address of the local APIC's MMIO page. */
export const PC_LAPIC_BASE = 0xfee0_0000;
/** Size of each interrupt controller's MMIO window (one page). */
export const PC_APIC_MMIO_SIZE = 0x1000;

/** One region of the PC's physical address space. */
export interface PcMemoryRegion {
  /** Physical address of the first byte. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** `ram`: usable RAM; `reserved`: RAM hidden by the legacy hole; `mmio`: device registers. */
  readonly kind: 'ram' | 'reserved' | 'mmio';
  /** What lives there. */
  readonly name: string;
}

/**
 * The regions of a PC with `ramSize` bytes of RAM, in address order: conventional RAM,
 * the legacy hole, extended RAM, then the virtio-mmio window and the IOAPIC and LAPIC
 * pages.
 */
export function pcMemoryMap(ramSize: number = PC_DEFAULT_RAM_SIZE): readonly PcMemoryRegion[] {
  checkRamSize(ramSize);
  return [
    { base: PC_RAM_BASE, size: PC_LEGACY_HOLE_START, kind: 'ram', name: 'conventional memory' },
    {
      base: PC_LEGACY_HOLE_START,
      size: PC_LEGACY_HOLE_END - PC_LEGACY_HOLE_START,
      kind: 'reserved',
      name: 'legacy hole (VGA, ROMs)',
    },
    { base: PC_LEGACY_HOLE_END, size: ramSize - PC_LEGACY_HOLE_END, kind: 'ram', name: 'extended memory' },
    {
      base: PC_VIRTIO_MMIO_BASE,
      size: PC_VIRTIO_MMIO_SLOTS * PC_VIRTIO_MMIO_STRIDE,
      kind: 'mmio',
      name: 'virtio-mmio',
    },
    { base: PC_IOAPIC_BASE, size: PC_APIC_MMIO_SIZE, kind: 'mmio', name: 'IOAPIC' },
    { base: PC_LAPIC_BASE, size: PC_APIC_MMIO_SIZE, kind: 'mmio', name: 'LAPIC' },
  ];
}

/**
 * Allocates the PC's RAM: one zeroed buffer of `sizeBytes` placed at physical 0. The
 * buffer also backs the legacy hole, which the frame allocator must skip (see
 * {@link pcMemoryMap}). Throws a RangeError for a size that is not a multiple of 4 KiB,
 * does not reach above the legacy hole, or exceeds {@link PC_MAX_LOW_RAM}.
 */
export function createPcRam(sizeBytes: number = PC_DEFAULT_RAM_SIZE): PhysicalMemory {
  checkRamSize(sizeBytes);
  return { buffer: new ArrayBuffer(sizeBytes), base: PC_RAM_BASE, size: sizeBytes };
}

function checkRamSize(size: number): void {
  if (!Number.isInteger(size) || size % 4096 !== 0 || size <= PC_LEGACY_HOLE_END || size > PC_MAX_LOW_RAM) {
    throw new RangeError(
      `PC RAM size ${size}: must be a multiple of 4 KiB, above 1 MiB and at most ${PC_MAX_LOW_RAM} bytes`,
    );
  }
}
