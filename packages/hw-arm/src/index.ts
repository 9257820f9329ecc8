/**
 * `@pecan/hw-arm`: Pecan's AArch64 hardware back end, a simulated QEMU `virt` machine.
 * So far: the machine's kernel `Platform` ({@link createArmPlatform}: register
 * file, Fiasco's arm64 invoke ABI, exceptions as ESR_EL1/FAR_EL1 syndromes in the
 * {@link ArmExceptionMr} layout, decoded by {@link decodeArmException}, and a cost model
 * calibrated to seL4's Cortex-A57 IPC figures), AArch64 stage-1 translation tables
 * (4 KiB granule, 48-bit VA) in the real VMSAv8-64 descriptor format, and the `virt`
 * physical memory map. Every export is documented where it is declared.
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
export {
  ARM_COSTS,
  ARM_DEFAULT_CPU_HZ,
  ARM_DEFAULT_TIME_SLICE_MS,
  ARM_REGISTERS,
  ArmEc,
  type ArmExceptionFrame,
  ArmExceptionMr,
  ArmFsc,
  type ArmPlatformOptions,
  armEcName,
  armExceptionSyndrome,
  createArmPlatform,
  decodeArmException,
  Esr,
  encodeEsr,
} from './platform';
