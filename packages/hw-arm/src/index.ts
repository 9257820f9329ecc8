/**
 * `@pecan/hw-arm`: Pecan's AArch64 hardware back end, a simulated QEMU `virt` machine.
 * So far: AArch64 stage-1 translation tables (4 KiB granule, 48-bit VA) in the real
 * VMSAv8-64 descriptor format, and the `virt` physical memory map.
 *
 * @packageDocumentation
 */

export {
  createVirtRam,
  VIRT_RAM_BASE,
  VIRT_RAM_DEFAULT_SIZE,
  VIRT_RAM_MAX_SIZE,
  VIRTIO_MMIO_SLOTS,
  VIRTIO_MMIO_STRIDE,
  VirtIntid,
  VirtMap,
  type VirtRegion,
  virtioMmioBase,
  virtioMmioIntid,
} from './memory-map';
export { createArmPageTables } from './mmu/arm-page-table';
export {
  DESCRIPTOR_BYTES,
  DescBit,
  DescHi,
  DescLo,
  DescType,
  ENTRIES_PER_TABLE,
  MAIR_ATTR_NORMAL_WB,
  MAIR_INDEX_NORMAL,
  Shareability,
  TABLE_BYTES,
  TCR_T0SZ,
} from './mmu/descriptor';
