/**
 * The physical memory map of QEMU's `virt` machine (AArch64), as Pecan's ARM back end
 * imitates it. Values checked against QEMU's `hw/arm/virt.c` (`base_memmap[]` and
 * `a15irqmap[]`) and `include/hw/arm/virt.h` (`NUM_VIRTIO_TRANSPORTS`).
 *
 * Interrupt numbers are GIC INTIDs: SPI n is INTID 32 + n, PPI n is INTID 16 + n.
 * {@link virtMemoryMap} lists the regions as the kernel's boot info reports them.
 *
 * @module
 */
import type { MemoryRegion, PhysicalMemory } from '@pecan/kernel';

/** One MiB. */
const MiB = 1024 * 1024;

/** A region of the physical address map. */
export interface VirtRegion {
  /** Physical base address. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
}

/** Physical address of the first byte of RAM on QEMU `virt` (1 GiB, `VIRT_MEM`). */
export const VIRT_RAM_BASE = 0x4000_0000;

/** Default RAM size of a Pecan `virt` machine: 128 MiB (as QEMU's default `-m`). */
export const VIRT_RAM_DEFAULT_SIZE = 128 * MiB;

/**
 * Highest RAM size QEMU `virt` places below its legacy high-memory boundary
 * (255 GiB, `LEGACY_RAMLIMIT_GB`).
 */
export const VIRT_RAM_MAX_SIZE = 255 * 1024 * MiB;

/** Device regions of QEMU `virt` (`base_memmap[]` in hw/arm/virt.c). */
export const VirtMap = {
  /** GICv2 distributor (`VIRT_GIC_DIST`). */
  GIC_DIST: { base: 0x0800_0000, size: 0x1_0000 },
  /** GICv2 CPU interface (`VIRT_GIC_CPU`). */
  GIC_CPU: { base: 0x0801_0000, size: 0x1_0000 },
  /** PL011 UART (`VIRT_UART`). */
  UART: { base: 0x0900_0000, size: 0x1000 },
  /** PL031 real-time clock (`VIRT_RTC`). */
  RTC: { base: 0x0901_0000, size: 0x1000 },
  /** The first virtio-mmio transport (`VIRT_MMIO`); the others follow every {@link VIRTIO_MMIO_STRIDE} bytes. */
  VIRTIO_MMIO: { base: 0x0a00_0000, size: 0x200 },
} as const satisfies Record<string, VirtRegion>;

/** Distance between consecutive virtio-mmio transports. */
export const VIRTIO_MMIO_STRIDE = 0x200;

/** Number of virtio-mmio transports (`NUM_VIRTIO_TRANSPORTS`). */
export const VIRTIO_MMIO_SLOTS = 32;

/** GIC interrupt IDs of the `virt` devices (`a15irqmap[]`, plus the generic timer PPIs). */
export const VirtIntid = {
  /** PL011 UART: SPI 1. */
  UART: 32 + 1,
  /** PL031 RTC: SPI 2. */
  RTC: 32 + 2,
  /** virtio-mmio transport 0: SPI 16; transport n is SPI 16 + n. */
  VIRTIO_MMIO_0: 32 + 16,
  /** EL1 physical timer (CNTP): PPI 14. */
  TIMER_PHYS: 16 + 14,
  /** Virtual timer (CNTV): PPI 11. */
  TIMER_VIRT: 16 + 11,
} as const;

/**
 * Physical base address of virtio-mmio transport `slot`.
 *
 * @param slot - 0 to {@link VIRTIO_MMIO_SLOTS} - 1.
 * @throws RangeError when `slot` is not a valid transport number.
 */
export function virtioMmioBase(slot: number): number {
  checkSlot(slot);
  return VirtMap.VIRTIO_MMIO.base + slot * VIRTIO_MMIO_STRIDE;
}

/**
 * GIC INTID of virtio-mmio transport `slot`.
 *
 * @param slot - 0 to {@link VIRTIO_MMIO_SLOTS} - 1.
 * @throws RangeError when `slot` is not a valid transport number.
 */
export function virtioMmioIntid(slot: number): number {
  checkSlot(slot);
  return VirtIntid.VIRTIO_MMIO_0 + slot;
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= VIRTIO_MMIO_SLOTS) {
    throw new RangeError(`virtio-mmio slot ${slot} is not in 0..${VIRTIO_MMIO_SLOTS - 1}`);
  }
}

/**
 * The physical memory map of a `virt` machine with `ramSize` bytes of RAM, in address
 * order: the device MMIO windows Pecan models or reserves ({@link VirtMap}: GIC
 * distributor, GIC CPU interface, PL011 UART, PL031 RTC, and the
 * {@link VIRTIO_MMIO_SLOTS} virtio-mmio transports as one window), then RAM at
 * {@link VIRT_RAM_BASE}. `virt` has no firmware holes inside RAM, so there is no
 * `reserved` region.
 *
 * @param ramSize - as for {@link createVirtRam}; defaults to {@link VIRT_RAM_DEFAULT_SIZE}.
 * @throws RangeError for a size {@link createVirtRam} refuses.
 */
export function virtMemoryMap(ramSize: number = VIRT_RAM_DEFAULT_SIZE): readonly MemoryRegion[] {
  checkRamSize(ramSize);
  return [
    { ...VirtMap.GIC_DIST, kind: 'mmio', name: 'GICv2 distributor' },
    { ...VirtMap.GIC_CPU, kind: 'mmio', name: 'GICv2 CPU interface' },
    { ...VirtMap.UART, kind: 'mmio', name: 'PL011 UART' },
    { ...VirtMap.RTC, kind: 'mmio', name: 'PL031 RTC' },
    {
      base: VirtMap.VIRTIO_MMIO.base,
      size: VIRTIO_MMIO_SLOTS * VIRTIO_MMIO_STRIDE,
      kind: 'mmio',
      name: `virtio-mmio (${VIRTIO_MMIO_SLOTS} transports)`,
    },
    { base: VIRT_RAM_BASE, size: ramSize, kind: 'ram', name: 'RAM' },
  ];
}

/**
 * Creates the RAM of a `virt` machine: a zeroed buffer placed at {@link VIRT_RAM_BASE}.
 *
 * @param sizeBytes - RAM size; a positive multiple of 4 KiB, at most {@link VIRT_RAM_MAX_SIZE}
 *   (and what the host can allocate). Defaults to {@link VIRT_RAM_DEFAULT_SIZE}.
 * @throws RangeError for a size that is not a positive multiple of 4 KiB or is too large.
 */
export function createVirtRam(sizeBytes: number = VIRT_RAM_DEFAULT_SIZE): PhysicalMemory {
  checkRamSize(sizeBytes);
  return { buffer: new ArrayBuffer(sizeBytes), base: VIRT_RAM_BASE, size: sizeBytes };
}

function checkRamSize(size: number): void {
  if (!Number.isInteger(size) || size <= 0 || size % 4096 !== 0 || size > VIRT_RAM_MAX_SIZE) {
    throw new RangeError(
      `virt RAM size ${size}: must be a positive multiple of 4 KiB (4096 bytes), at most 255 GiB (${VIRT_RAM_MAX_SIZE} bytes)`,
    );
  }
}
