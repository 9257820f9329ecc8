/**
 * `@pecan/hw-x86`: the simulated x86-64 PC back end.
 *
 * So far: the machine's kernel `Platform` ({@link createX86Platform}: register
 * file, Fiasco's amd64 invoke ABI, exceptions as x86 vectors with error code and CR2 in
 * the {@link X86ExceptionMr} layout, decoded by {@link decodeX86Exception}, a cost
 * model calibrated to seL4's Skylake IPC figures, and its memory: RAM, page tables and
 * the memory map), 4-level paging in the real entry format, with write-back and
 * uncached device memory types ({@link createX86PageTables}, the entry bits in
 * {@link PteFlag}) and the PC
 * physical memory layout ({@link createPcRam}, {@link pcMemoryMap}), and the interrupt
 * path as register-accurate models: the 82093AA I/O APIC ({@link Ioapic}), the local
 * APIC ({@link Lapic}) and the kernel's interrupt controller built on them
 * ({@link createPcInterruptController}: lines are GSIs 0–23, GSI n on vector 0x20 + n).
 * Devices and boot info come with the back-ends issue. Every export is documented where
 * it is declared.
 *
 * @packageDocumentation
 */

export {
  createPcDevices,
  PC_DEFAULT_RTC_EPOCH_MS,
  PC_TIMER_HZ,
  PC_TIMER_VECTOR,
  PC_VIRTIO_GSI_BASE,
  type PcDeviceOptions,
  type PcDeviceSet,
  type PcDevices,
} from './devices';
export {
  type ApicBusDeliver,
  type ApicMessage,
  createPcInterruptController,
  IOAPIC_DEST_SHIFT,
  IOAPIC_PINS,
  IOAPIC_VERSION,
  Ioapic,
  IoapicMmio,
  type IoapicOptions,
  IoapicReg,
  IoDeliveryMode,
  IoRedir,
  LAPIC_SVR_ENABLE,
  LAPIC_VERSION,
  Lapic,
  LapicReg,
  PC_IRQ_VECTOR_BASE,
  type PcInterruptController,
  PcIrq,
  routeApicMessage,
} from './interrupts/index';
export {
  createPcRam,
  PC_APIC_MMIO_SIZE,
  PC_DEFAULT_RAM_SIZE,
  PC_IOAPIC_BASE,
  PC_LAPIC_BASE,
  PC_LEGACY_HOLE_END,
  PC_LEGACY_HOLE_START,
  PC_MAX_LOW_RAM,
  PC_RAM_BASE,
  PC_VIRTIO_MMIO_BASE,
  PC_VIRTIO_MMIO_SLOTS,
  PC_VIRTIO_MMIO_STRIDE,
  type PcMemoryRegion,
  pcMemoryMap,
} from './memory-map';
export {
  type DecodedPte,
  decodePte,
  encodePte,
  PTE_HI_ADDR,
  PTE_HI_XD,
  PTE_LO_ADDR_1G,
  PTE_LO_ADDR_2M,
  PTE_LO_ADDR_4K,
  PTE_LO_FLAGS,
  PTE_XD_BIT,
  PteFlag,
  type PteKind,
  type PteWords,
  pteAddress,
  pteHex,
  pteHigh,
  pteLow,
  X86_PHYS_LIMIT,
} from './paging/pte';
export { createX86PageTables, X86_USER_LIMIT } from './paging/x86-page-table';
export {
  createX86Platform,
  decodeX86Exception,
  X86_COSTS,
  X86_DEFAULT_CPU_HZ,
  X86_DEFAULT_TIME_SLICE_MS,
  X86_IO_PORTS,
  X86_REGISTERS,
  X86_RFLAGS_USER_INITIAL,
  type X86ExceptionFrame,
  X86ExceptionMr,
  X86PfError,
  type X86PlatformOptions,
  X86Vector,
  x86ExceptionCode,
  x86VectorName,
} from './platform';
