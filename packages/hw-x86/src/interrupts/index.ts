export {
  createPcInterruptController,
  PC_IRQ_VECTOR_BASE,
  type PcInterruptController,
  PcIrq,
} from './controller';
export {
  type ApicBusDeliver,
  IOAPIC_DEST_SHIFT,
  IOAPIC_PINS,
  IOAPIC_VERSION,
  Ioapic,
  IoapicMmio,
  type IoapicOptions,
  IoapicReg,
  IoDeliveryMode,
  IoRedir,
} from './ioapic';
export {
  type ApicMessage,
  LAPIC_SVR_ENABLE,
  LAPIC_VERSION,
  Lapic,
  LapicReg,
  routeApicMessage,
} from './lapic';
