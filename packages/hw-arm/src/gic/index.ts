/**
 * The `virt` machine's GICv2: a register model ({@link createGic}) and the kernel's
 * interrupt controller driving it ({@link createGicInterruptController}).
 *
 * @module
 */
export {
  createGicInterruptController,
  GIC_DEFAULT_PMR,
  GIC_DEFAULT_PRIORITY,
  type GicInterruptController,
  type GicInterruptControllerOptions,
} from './controller';
export { createGic, type Gic, type GicCpuInterface, type GicDistributor } from './gic';
export {
  GIC_FIRST_SPI,
  GIC_FRAME_BYTES,
  GIC_INTIDS,
  GIC_MAX_CPUS,
  GIC_SPURIOUS_INTID,
  GICC_IAR_CPUID_SHIFT,
  GICC_IIDR_VALUE,
  GICD_IIDR_VALUE,
  Gicc,
  GiccCtlr,
  Gicd,
  GicdCtlr,
} from './registers';
