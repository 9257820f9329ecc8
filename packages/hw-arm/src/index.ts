/**
 * `@pecan/hw-arm`: Pecan's AArch64 hardware back end, a simulated QEMU `virt` machine.
 * So far: the machine's kernel `Platform` ({@link createArmPlatform}: register
 * file, Fiasco's arm64 invoke ABI, exceptions as ESR_EL1/FAR_EL1 syndromes in the
 * {@link ArmExceptionMr} layout, decoded by {@link decodeArmException}, and a cost model
 * calibrated to seL4's Cortex-A57 IPC figures), AArch64 stage-1 translation tables
 * (4 KiB granule, 48-bit VA) in the real VMSAv8-64 descriptor format with normal and
 * device memory ({@link ARM_MAIR_EL1}), the `virt` physical memory map
 * ({@link virtMemoryMap}; the platform's `memory` is RAM, tables and map), and the GICv2 interrupt controller: a register-level model of
 * the Distributor and CPU interfaces (ARM IHI 0048B, {@link createGic}) and the kernel's
 * `InterruptController` programmed through those registers
 * ({@link createGicInterruptController}; lines = SPIs 32–127). Every export is documented where it is declared.
 *
 * @packageDocumentation
 */

export {
  createVirtDevices,
  VIRT_DEFAULT_RTC_EPOCH_MS,
  VIRT_TIMER_HZ,
  type VirtDeviceOptions,
  type VirtDeviceSet,
  type VirtDevices,
} from './devices';
export {
  createGic,
  createGicInterruptController,
  GIC_DEFAULT_PMR,
  GIC_DEFAULT_PRIORITY,
  GIC_FIRST_SPI,
  GIC_FRAME_BYTES,
  GIC_INTIDS,
  GIC_MAX_CPUS,
  GIC_SPURIOUS_INTID,
  GICC_IAR_CPUID_SHIFT,
  GICC_IIDR_VALUE,
  GICD_IIDR_VALUE,
  type Gic,
  type GicCpuInterface,
  Gicc,
  GiccCtlr,
  type GicDistributor,
  Gicd,
  GicdCtlr,
  type GicInterruptController,
  type GicInterruptControllerOptions,
} from './gic/index';
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
  virtMemoryMap,
} from './memory-map';
export { ARM_MAIR_EL1, createArmPageTables } from './mmu/arm-page-table';
export {
  DESCRIPTOR_BYTES,
  DescBit,
  DescHi,
  DescLo,
  DescType,
  ENTRIES_PER_TABLE,
  MAIR_ATTR_DEVICE_NGNRE,
  MAIR_ATTR_NORMAL_WB,
  MAIR_INDEX_DEVICE,
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
  ArmAbortIss,
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
