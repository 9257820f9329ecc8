/**
 * `@pecan/hw-x86`: the simulated x86-64 PC back end.
 *
 * So far: 4-level paging in the real entry format ({@link createX86PageTables}, the
 * entry bits in {@link PteFlag}) and the PC physical memory layout ({@link createPcRam},
 * {@link pcMemoryMap}). The rest of the back end comes with the back-ends issue. Every
 * export is documented where it is declared.
 *
 * @packageDocumentation
 */

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
