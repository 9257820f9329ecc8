/**
 * The kernel's {@link InterruptController} for the `virt` machine, written as a GICv2
 * driver: every operation programs or reads the registers of a {@link createGic} model,
 * the way Fiasco's `gic_v2` driver does; it keeps no interrupt state of its own.
 *
 * @module
 */
import { type InterruptController, TriggerMode } from '@pecan/kernel';
import { createGic, type GicCpuInterface, type GicDistributor } from './gic';
import { GIC_FIRST_SPI, GIC_INTIDS, GIC_SPURIOUS_INTID, Gicc, GiccCtlr, Gicd, GicdCtlr } from './registers';

/** Priority {@link createGicInterruptController} gives every line it configures. */
export const GIC_DEFAULT_PRIORITY = 0xa0;

/** GICC_PMR value the driver programs when it enables a CPU interface: pass priorities 0x00–0xFE. */
export const GIC_DEFAULT_PMR = 0xff;

/** Options for {@link createGicInterruptController}. */
export interface GicInterruptControllerOptions {
  /**
   * Split priority drop from deactivation (GICC_CTLR.EOImode = 1, IHI 0048B §3.2.1):
   * `acknowledge` reads GICC_IAR and at once writes GICC_EOIR, which only drops the
   * running priority, and `endOfInterrupt` writes GICC_DIR, which deactivates. Then an
   * interrupt that user level is still handling does not hold back other interrupts of
   * the same priority on its CPU. Default false: `endOfInterrupt` writes GICC_EOIR.
   */
  readonly splitEoi?: boolean;
}

/** The GICv2 interrupt controller with its register model exposed. */
export interface GicInterruptController extends InterruptController {
  /** The Distributor registers (`VirtMap.GIC_DIST`) and the device inputs. */
  readonly distributor: GicDistributor;
  /** The CPU interfaces (`VirtMap.GIC_CPU`), one per CPU. */
  readonly cpuInterfaces: readonly GicCpuInterface[];
}

const bit = (intid: number): number => (1 << (intid & 31)) >>> 0;
const word = (base: number, intid: number): number => base + 4 * (intid >> 5);

/**
 * Creates the `virt` machine's GICv2 (128 INTIDs, `cpus` CPU interfaces) and the
 * {@link InterruptController} that drives it.
 *
 * - `lines` are the SPIs, INTIDs 32–127 (PL011 = 33, virtio-mmio from 48). PPIs 16–31
 *   (the generic timer's 27 and 30) are per CPU and not in `lines`; drive them through
 *   `distributor.setInput(intid, high, cpu)`.
 * - `configure` writes the trigger mode to GICD_ICFGR (with the line disabled meanwhile,
 *   as §4.3.13 requires), priority {@link GIC_DEFAULT_PRIORITY} to GICD_IPRIORITYR and
 *   CPU 0 to GICD_ITARGETSR; the first call also enables the Distributor and every CPU
 *   interface (GICC_PMR {@link GIC_DEFAULT_PMR}).
 * - `mask`/`unmask` write GICD_ICENABLER/GICD_ISENABLER; `setLine` drives the SPI's input.
 * - `acknowledge` reads GICC_IAR (1023 becomes -1); `endOfInterrupt` writes GICC_EOIR
 *   (or GICC_DIR with {@link GicInterruptControllerOptions.splitEoi}).
 * - `onPending(cpu)` is called when CPU interface `cpu` starts signalling an interrupt:
 *   pending, enabled, targeted at `cpu`, above GICC_PMR and able to preempt.
 *
 * At creation every SPI is configured (edge, priority 0xA0, CPU 0) and left disabled,
 * with the Distributor and CPU interfaces enabled, as boot firmware leaves a GIC.
 *
 * @param cpus - number of CPUs (1–8).
 * @throws RangeError for a bad `cpus`; the methods throw RangeError for a CPU that does not exist.
 */
export function createGicInterruptController(
  cpus = 1,
  options: GicInterruptControllerOptions = {},
): GicInterruptController {
  const gic = createGic(cpus);
  const { distributor, cpuInterfaces } = gic;
  const splitEoi = options.splitEoi ?? false;
  const lines = Object.freeze(
    Array.from({ length: GIC_INTIDS - GIC_FIRST_SPI }, (_, i) => GIC_FIRST_SPI + i),
  );
  const isLine = (line: number): boolean =>
    Number.isInteger(line) && line >= GIC_FIRST_SPI && line < GIC_INTIDS;
  const iface = (cpu: number): GicCpuInterface => {
    const c = cpuInterfaces[cpu];
    if (c === undefined || !Number.isInteger(cpu)) {
      throw new RangeError(`gicv2: CPU ${cpu} is not in 0..${cpus - 1}`);
    }
    return c;
  };
  /** Read-modify-write of the byte of `intid` in a byte-per-INTID register array. */
  const writeByte = (base: number, intid: number, value: number): void => {
    const off = base + (intid & ~3);
    const shift = 8 * (intid & 3);
    const old = distributor.mmioRead32(off);
    distributor.mmioWrite32(off, ((old & ~(0xff << shift)) | (value << shift)) >>> 0);
  };

  const ic: GicInterruptController = {
    name: 'gicv2',
    lines,
    onPending: null,
    distributor,
    cpuInterfaces,
    configure(line, mode) {
      if (!isLine(line)) return false;
      const wasEnabled = (distributor.mmioRead32(word(Gicd.ISENABLER, line)) & bit(line)) !== 0;
      if (wasEnabled) distributor.mmioWrite32(word(Gicd.ICENABLER, line), bit(line));
      const cfg = Gicd.ICFGR + 4 * (line >> 4);
      const edgeBit = (2 << (2 * (line & 15))) >>> 0;
      const old = distributor.mmioRead32(cfg);
      distributor.mmioWrite32(cfg, (mode === TriggerMode.EDGE ? old | edgeBit : old & ~edgeBit) >>> 0);
      writeByte(Gicd.IPRIORITYR, line, GIC_DEFAULT_PRIORITY);
      writeByte(Gicd.ITARGETSR, line, 0x01); // CPU 0 (RAZ/WI on a uniprocessor)
      if (wasEnabled) distributor.mmioWrite32(word(Gicd.ISENABLER, line), bit(line));
      if ((distributor.mmioRead32(Gicd.CTLR) & GicdCtlr.ENABLE) === 0) {
        distributor.mmioWrite32(Gicd.CTLR, GicdCtlr.ENABLE);
      }
      for (const c of cpuInterfaces) {
        if ((c.mmioRead32(Gicc.CTLR) & GiccCtlr.ENABLE) !== 0) continue;
        c.mmioWrite32(Gicc.PMR, GIC_DEFAULT_PMR);
        c.mmioWrite32(Gicc.CTLR, GiccCtlr.ENABLE | (splitEoi ? GiccCtlr.EOI_MODE : 0));
      }
      return true;
    },
    mask(line) {
      if (isLine(line)) distributor.mmioWrite32(word(Gicd.ICENABLER, line), bit(line));
    },
    unmask(line) {
      if (isLine(line)) distributor.mmioWrite32(word(Gicd.ISENABLER, line), bit(line));
    },
    setLine(line, high) {
      if (isLine(line)) distributor.setInput(line, high);
    },
    acknowledge(cpu) {
      const c = iface(cpu);
      const iar = c.mmioRead32(Gicc.IAR);
      const intid = iar & 0x3ff;
      if (intid === GIC_SPURIOUS_INTID) return -1;
      if (splitEoi) c.mmioWrite32(Gicc.EOIR, iar); // priority drop only (EOImode 1)
      return intid;
    },
    endOfInterrupt(cpu, line) {
      const c = iface(cpu);
      if (!isLine(line)) return;
      c.mmioWrite32(splitEoi ? Gicc.DIR : Gicc.EOIR, line);
    },
  };
  gic.onIrq = (cpu) => ic.onPending?.(cpu);
  // Leave the GIC as boot firmware does before the kernel starts: every SPI configured
  // (edge, default priority, CPU 0) but disabled, the Distributor and CPU interfaces on,
  // so binding a line through the Icu only has to enable it.
  for (const line of lines) ic.configure(line, TriggerMode.EDGE);
  return ic;
}
