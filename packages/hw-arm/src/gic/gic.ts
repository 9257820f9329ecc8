/**
 * A register-level model of a GICv2 (ARM IHI 0048B) without the Security Extensions:
 * one Distributor and up to eight CPU interfaces, with 128 INTIDs ({@link GIC_INTIDS}).
 *
 * What is modelled (section numbers are IHI 0048B's):
 *
 * - the per-interrupt state machine of §3.2.4 — inactive, pending, active, active and
 *   pending — with level-sensitive interrupts pending while their input is asserted
 *   and edge-triggered ones latching a rising edge;
 * - the Distributor registers of §4.3 (CTLR, TYPER, IIDR, IGROUPR as RAZ/WI,
 *   I[SC]ENABLER, I[SC]PENDR, I[SC]ACTIVER, IPRIORITYR, ITARGETSR, ICFGR, SGIR,
 *   [CS]PENDSGIR), with the SGI/PPI registers banked per CPU;
 * - the CPU interface registers of §4.4 (CTLR with EOImode, PMR, BPR, IAR, EOIR, RPR,
 *   HPPIR, IIDR, DIR), with priority masking, preemption by group priority and the
 *   running-priority stack that GICC_EOIR drops (§3.3).
 *
 * Simplifications, each within what the architecture permits: all 8 priority bits are
 * implemented (BPR minimum 0); interrupt grouping is not (GICD_IGROUPR RAZ/WI, everything
 * is Group 0, GICC_IAR never returns 1022); SGIs can be enabled and disabled; PPI
 * trigger modes are programmable; on equal priority the lowest INTID wins (the tie-break
 * is IMPLEMENTATION DEFINED; this is QEMU's choice). With one CPU, GICD_ITARGETSR is
 * RAZ/WI and every interrupt targets CPU 0 (§4.3.12). Registers are accessed as aligned
 * 32-bit words only.
 *
 * @module
 */
import {
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

/**
 * The GICv2 Distributor as software sees it at `VirtMap.GIC_DIST`, plus the interrupt
 * inputs devices drive.
 */
export interface GicDistributor {
  /** Number of CPU interfaces (1–8). */
  readonly cpus: number;
  /**
   * Reads the 32-bit register at `offset` in the Distributor frame. `cpu` is the
   * accessing processor, which selects the banked copy of the SGI/PPI registers
   * (ISENABLER0, IPRIORITYR0–7, ITARGETSR0–7, ICFGR1, …). Unimplemented offsets read as zero.
   *
   * @throws RangeError for an offset that is unaligned or outside the 64 KiB frame.
   */
  mmioRead32(offset: number, cpu?: number): number;
  /** Writes the 32-bit register at `offset`; see {@link GicDistributor.mmioRead32}. */
  mmioWrite32(offset: number, value: number, cpu?: number): void;
  /**
   * The hardware side: drives the interrupt input of `intid` high or low. A PPI
   * (16–31) is per CPU and needs its `cpu`; SGIs have no input (use GICD_SGIR).
   *
   * @throws RangeError for an SGI or an INTID the model does not implement.
   */
  setInput(intid: number, high: boolean, cpu?: number): void;
  /** Current level of the input of `intid` (for a PPI, of `cpu`'s copy). */
  inputLevel(intid: number, cpu?: number): boolean;
}

/** One GICv2 CPU interface, the frame at `VirtMap.GIC_CPU` as its processor sees it. */
export interface GicCpuInterface {
  /** The CPU this interface belongs to. */
  readonly cpu: number;
  /**
   * Reads the 32-bit register at `offset`. Reading {@link Gicc.IAR} acknowledges
   * the interrupt it returns (a side effect, as on the hardware).
   *
   * @throws RangeError for an offset that is unaligned or outside the 64 KiB frame.
   */
  mmioRead32(offset: number): number;
  /** Writes the 32-bit register at `offset`. */
  mmioWrite32(offset: number, value: number): void;
  /**
   * True while the interface asserts its IRQ output: an interrupt is pending with
   * enough priority to pass GICC_PMR and to preempt the running priority.
   */
  irqAsserted(): boolean;
}

/** A GICv2: its Distributor, its CPU interfaces and the IRQ outputs to the processors. */
export interface Gic {
  readonly distributor: GicDistributor;
  /** One CPU interface per processor, indexed by CPU number. */
  readonly cpuInterfaces: readonly GicCpuInterface[];
  /**
   * Called when CPU interface `cpu` starts signalling an interrupt: its IRQ output is
   * asserted for an INTID it was not asserted for at the previous state change.
   */
  onIrq: ((cpu: number) => void) | null;
}

/** One entry of a CPU interface's running-priority stack: an acknowledged, not yet EOI'd interrupt. */
interface Acked {
  /** The value GICC_IAR returned (INTID, with the source CPU for an SGI). */
  readonly iar: number;
  /** Its group priority at acknowledge time. */
  readonly group: number;
}

/** Per-CPU-interface registers. */
interface CpuRegs {
  ctlr: number;
  pmr: number;
  bpr: number;
  readonly acked: Acked[];
  /** The INTID the IRQ output was last asserted for, or 1023 when it was not. */
  signalled: number;
}

function checkOffset(offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset >= GIC_FRAME_BYTES || (offset & 3) !== 0) {
    throw new RangeError(`GIC register offset 0x${offset.toString(16)} is not an aligned word in the frame`);
  }
}

/** The shared state behind the Distributor and CPU interface facades. */
class GicCore {
  onIrq: ((cpu: number) => void) | null = null;
  private dctlr = 0;
  // Per-interrupt state, indexed by slot(): SPIs at their INTID, SGIs/PPIs banked after GIC_INTIDS.
  private readonly enabled: Uint8Array;
  private readonly latched: Uint8Array;
  private readonly active: Uint8Array;
  private readonly input: Uint8Array;
  private readonly edge: Uint8Array;
  private readonly priority: Uint8Array;
  /** ITARGETSR bytes of the SPIs. */
  private readonly targets = new Uint8Array(GIC_INTIDS);
  /** Pending SGIs: [cpu * 16 + sgi] = bit mask of the source CPUs. */
  private readonly sgiSources: Uint8Array;
  private readonly cpu: CpuRegs[] = [];

  constructor(readonly cpus: number) {
    const slots = GIC_INTIDS + cpus * GIC_FIRST_SPI;
    this.enabled = new Uint8Array(slots);
    this.latched = new Uint8Array(slots);
    this.active = new Uint8Array(slots);
    this.input = new Uint8Array(slots);
    this.edge = new Uint8Array(slots);
    this.priority = new Uint8Array(slots);
    this.sgiSources = new Uint8Array(cpus * 16);
    for (let c = 0; c < cpus; c++) {
      // SGIs are always edge-triggered (GICD_ICFGR0 reads 0xAAAA_AAAA, §4.3.13).
      for (let id = 0; id < 16; id++) this.edge[this.slot(c, id)] = 1;
      // Reset values (§4.4): GICC_CTLR 0, GICC_PMR 0 (everything masked), GICC_BPR the minimum.
      this.cpu.push({ ctlr: 0, pmr: 0, bpr: 0, acked: [], signalled: GIC_SPURIOUS_INTID });
    }
  }

  checkCpu(cpu: number): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus) {
      throw new RangeError(`GIC: CPU ${cpu} is not in 0..${this.cpus - 1}`);
    }
  }

  private slot(cpu: number, id: number): number {
    return id < GIC_FIRST_SPI ? GIC_INTIDS + cpu * GIC_FIRST_SPI + id : id;
  }

  private isPending(cpu: number, id: number): boolean {
    if (id < 16) return this.sgiSources[cpu * 16 + id] !== 0;
    const s = this.slot(cpu, id);
    // §3.2.4: a level-sensitive interrupt is pending while its input is asserted, or
    // after a write to GICD_ISPENDR; an edge-triggered one after a rising edge.
    return this.latched[s] === 1 || (this.edge[s] === 0 && this.input[s] === 1);
  }

  private isTargeted(cpu: number, id: number): boolean {
    if (id < GIC_FIRST_SPI) return true; // banked: an SGI/PPI only ever targets its own CPU
    if (this.cpus === 1) return cpu === 0; // GICD_ITARGETSR RAZ/WI, everything goes to CPU 0
    return (((this.targets[id] ?? 0) >> cpu) & 1) === 1;
  }

  private groupPriority(cpu: number, prio: number): number {
    // §3.3.3: BPR n splits the priority into group priority [7:n+1] and subpriority [n:0].
    const bpr = this.cpu[cpu]?.bpr ?? 0;
    return prio & ((0xff << (bpr + 1)) & 0xff);
  }

  private runningPriority(cpu: number): number {
    let rp = 0xff;
    for (const a of this.cpu[cpu]?.acked ?? []) rp = Math.min(rp, a.group);
    return rp;
  }

  /**
   * The highest-priority pending interrupt for `cpu` that passes GICC_PMR (GICC_HPPIR):
   * its GICC_IAR value, or 1023.
   */
  highestPending(cpu: number): number {
    const regs = this.cpu[cpu];
    if (regs === undefined) return GIC_SPURIOUS_INTID;
    if ((this.dctlr & GicdCtlr.ENABLE) === 0 || (regs.ctlr & GiccCtlr.ENABLE) === 0) {
      return GIC_SPURIOUS_INTID;
    }
    let best = GIC_SPURIOUS_INTID;
    let bestPrio = 0x100;
    for (let id = 0; id < GIC_INTIDS; id++) {
      const s = this.slot(cpu, id);
      if (this.enabled[s] !== 1 || this.active[s] === 1) continue;
      if (!this.isPending(cpu, id) || !this.isTargeted(cpu, id)) continue;
      const p = this.priority[s] ?? 0xff;
      if (p < bestPrio) {
        best = id;
        bestPrio = p;
      }
    }
    // §3.3.2: only a priority higher (numerically lower) than GICC_PMR is signalled.
    if (best === GIC_SPURIOUS_INTID || bestPrio >= regs.pmr) return GIC_SPURIOUS_INTID;
    if (best < 16) {
      const sources = this.sgiSources[cpu * 16 + best] ?? 0;
      const source = 31 - Math.clz32(sources & -sources);
      return best | (source << GICC_IAR_CPUID_SHIFT);
    }
    return best;
  }

  /** What GICC_IAR would return now, without acknowledging: HPPIR if it can preempt, else 1023. */
  private signalled(cpu: number): number {
    const hp = this.highestPending(cpu);
    if (hp === GIC_SPURIOUS_INTID) return hp;
    const id = hp & 0x3ff;
    const prio = this.priority[this.slot(cpu, id)] ?? 0xff;
    // §3.3.3 preemption: the group priority must be higher than the running priority.
    return this.groupPriority(cpu, prio) < this.runningPriority(cpu) ? hp : GIC_SPURIOUS_INTID;
  }

  irqAsserted(cpu: number): boolean {
    return this.signalled(cpu) !== GIC_SPURIOUS_INTID;
  }

  /** Recomputes the IRQ outputs after a state change and reports newly signalled interrupts. */
  private update(): void {
    for (let c = 0; c < this.cpus; c++) {
      const regs = this.cpu[c];
      if (regs === undefined) continue;
      const now = this.signalled(c);
      if (now === regs.signalled) continue;
      regs.signalled = now;
      if (now !== GIC_SPURIOUS_INTID) this.onIrq?.(c);
    }
  }

  // ---------------------------------------------------------------- inputs

  setInput(intid: number, high: boolean, cpu: number): void {
    if (!Number.isInteger(intid) || intid < 16 || intid >= GIC_INTIDS) {
      throw new RangeError(`GIC: INTID ${intid} has no interrupt input (PPIs 16–31, SPIs 32–127)`);
    }
    this.checkCpu(cpu);
    const s = this.slot(cpu, intid);
    const level = high ? 1 : 0;
    // An edge-triggered interrupt latches pending on a rising edge (§3.2.4); while it is
    // already pending further edges coalesce.
    if (this.edge[s] === 1 && level === 1 && this.input[s] === 0) this.latched[s] = 1;
    this.input[s] = level;
    this.update();
  }

  inputLevel(intid: number, cpu: number): boolean {
    if (!Number.isInteger(intid) || intid < 0 || intid >= GIC_INTIDS) return false;
    this.checkCpu(cpu);
    return this.input[this.slot(cpu, intid)] === 1;
  }

  // ---------------------------------------------------------------- Distributor

  distRead(offset: number, cpu: number): number {
    checkOffset(offset);
    this.checkCpu(cpu);
    if (offset === Gicd.CTLR) return this.dctlr;
    if (offset === Gicd.TYPER) return (GIC_INTIDS / 32 - 1) | ((this.cpus - 1) << 5);
    if (offset === Gicd.IIDR) return GICD_IIDR_VALUE;
    const bits = (base: number, get: (id: number) => boolean): number => {
      const first = ((offset - base) >> 2) * 32;
      let v = 0;
      for (let i = 0; i < 32 && first + i < GIC_INTIDS; i++) if (get(first + i)) v |= 1 << i;
      return v >>> 0;
    };
    const bytes = (base: number, get: (id: number) => number): number => {
      const first = offset - base;
      let v = 0;
      for (let i = 0; i < 4 && first + i < GIC_INTIDS; i++) v |= (get(first + i) & 0xff) << (8 * i);
      return v >>> 0;
    };
    const at = (base: number, size: number): boolean => offset >= base && offset < base + size;
    if (at(Gicd.ISENABLER, 0x80) || at(Gicd.ICENABLER, 0x80)) {
      const base = at(Gicd.ISENABLER, 0x80) ? Gicd.ISENABLER : Gicd.ICENABLER;
      return bits(base, (id) => this.enabled[this.slot(cpu, id)] === 1);
    }
    if (at(Gicd.ISPENDR, 0x80) || at(Gicd.ICPENDR, 0x80)) {
      const base = at(Gicd.ISPENDR, 0x80) ? Gicd.ISPENDR : Gicd.ICPENDR;
      return bits(base, (id) => this.isPending(cpu, id));
    }
    if (at(Gicd.ISACTIVER, 0x80) || at(Gicd.ICACTIVER, 0x80)) {
      const base = at(Gicd.ISACTIVER, 0x80) ? Gicd.ISACTIVER : Gicd.ICACTIVER;
      return bits(base, (id) => this.active[this.slot(cpu, id)] === 1);
    }
    if (at(Gicd.IPRIORITYR, 0x400)) {
      return bytes(Gicd.IPRIORITYR, (id) => this.priority[this.slot(cpu, id)] ?? 0);
    }
    if (at(Gicd.ITARGETSR, 0x400)) {
      // §4.3.12: RAZ/WI on a uniprocessor; the SGI/PPI bytes read as the accessing CPU.
      if (this.cpus === 1) return 0;
      return bytes(Gicd.ITARGETSR, (id) => (id < GIC_FIRST_SPI ? 1 << cpu : (this.targets[id] ?? 0)));
    }
    if (at(Gicd.ICFGR, 0x100)) {
      const first = ((offset - Gicd.ICFGR) >> 2) * 16;
      let v = 0;
      for (let i = 0; i < 16 && first + i < GIC_INTIDS; i++) {
        if (this.edge[this.slot(cpu, first + i)] === 1) v |= 2 << (2 * i);
      }
      return v >>> 0;
    }
    if (at(Gicd.CPENDSGIR, 0x10) || at(Gicd.SPENDSGIR, 0x10)) {
      const base = at(Gicd.CPENDSGIR, 0x10) ? Gicd.CPENDSGIR : Gicd.SPENDSGIR;
      return bytes(base, (sgi) => this.sgiSources[cpu * 16 + sgi] ?? 0);
    }
    return 0; // IGROUPR, SGIR (write-only) and reserved offsets: RAZ
  }

  distWrite(offset: number, value: number, cpu: number): void {
    checkOffset(offset);
    this.checkCpu(cpu);
    value >>>= 0;
    const at = (base: number, size: number): boolean => offset >= base && offset < base + size;
    const eachBit = (base: number, fn: (s: number, id: number) => void): void => {
      const first = ((offset - base) >> 2) * 32;
      for (let i = 0; i < 32 && first + i < GIC_INTIDS; i++) {
        if ((value >>> i) & 1) fn(this.slot(cpu, first + i), first + i);
      }
    };
    const eachByte = (base: number, fn: (id: number, byte: number) => void): void => {
      const first = offset - base;
      for (let i = 0; i < 4 && first + i < GIC_INTIDS; i++) fn(first + i, (value >>> (8 * i)) & 0xff);
    };
    if (offset === Gicd.CTLR) {
      this.dctlr = value & GicdCtlr.ENABLE;
    } else if (at(Gicd.ISENABLER, 0x80)) {
      // §4.3.5/§4.3.6: writing 1 sets (clears) the enable bit, writing 0 has no effect.
      eachBit(Gicd.ISENABLER, (s) => {
        this.enabled[s] = 1;
      });
    } else if (at(Gicd.ICENABLER, 0x80)) {
      eachBit(Gicd.ICENABLER, (s) => {
        this.enabled[s] = 0;
      });
    } else if (at(Gicd.ISPENDR, 0x80)) {
      // SGI bits are read-only here (GICD_SPENDSGIR sets them, §4.3.7).
      eachBit(Gicd.ISPENDR, (s, id) => {
        if (id >= 16) this.latched[s] = 1;
      });
    } else if (at(Gicd.ICPENDR, 0x80)) {
      // A level-sensitive interrupt whose input is still asserted stays pending (§4.3.8).
      eachBit(Gicd.ICPENDR, (s, id) => {
        if (id >= 16) this.latched[s] = 0;
      });
    } else if (at(Gicd.ISACTIVER, 0x80)) {
      eachBit(Gicd.ISACTIVER, (s) => {
        this.active[s] = 1;
      });
    } else if (at(Gicd.ICACTIVER, 0x80)) {
      eachBit(Gicd.ICACTIVER, (s) => {
        this.active[s] = 0;
      });
    } else if (at(Gicd.IPRIORITYR, 0x400)) {
      eachByte(Gicd.IPRIORITYR, (id, b) => {
        this.priority[this.slot(cpu, id)] = b;
      });
    } else if (at(Gicd.ITARGETSR, 0x400)) {
      if (this.cpus === 1) return;
      const cpuMask = (1 << this.cpus) - 1;
      eachByte(Gicd.ITARGETSR, (id, b) => {
        if (id >= GIC_FIRST_SPI) this.targets[id] = b & cpuMask;
      });
    } else if (at(Gicd.ICFGR, 0x100)) {
      // Bit 1 of each field is the trigger mode, bit 0 reserved; ICFGR0 (SGIs) is read-only.
      const first = ((offset - Gicd.ICFGR) >> 2) * 16;
      if (first < 16) return;
      for (let i = 0; i < 16 && first + i < GIC_INTIDS; i++) {
        this.edge[this.slot(cpu, first + i)] = (value >>> (2 * i + 1)) & 1;
      }
    } else if (offset === Gicd.SGIR) {
      this.sendSgi(value, cpu);
    } else if (at(Gicd.CPENDSGIR, 0x10) || at(Gicd.SPENDSGIR, 0x10)) {
      const set = at(Gicd.SPENDSGIR, 0x10);
      eachByte(set ? Gicd.SPENDSGIR : Gicd.CPENDSGIR, (sgi, b) => {
        const i = cpu * 16 + sgi;
        const cur = this.sgiSources[i] ?? 0;
        this.sgiSources[i] = (set ? cur | b : cur & ~b) & ((1 << this.cpus) - 1);
      });
    } else {
      return; // RO, reserved, IGROUPR: WI
    }
    this.update();
  }

  /** GICD_SGIR (§4.3.15): TargetListFilter 25:24, CPUTargetList 23:16, SGIINTID 3:0. */
  private sendSgi(value: number, source: number): void {
    const filter = (value >>> 24) & 3;
    const list = (value >>> 16) & 0xff;
    const sgi = value & 0xf;
    for (let t = 0; t < this.cpus; t++) {
      const hit =
        filter === 0 ? ((list >> t) & 1) === 1 : filter === 1 ? t !== source : filter === 2 && t === source;
      if (hit) this.sgiSources[t * 16 + sgi] = (this.sgiSources[t * 16 + sgi] ?? 0) | (1 << source);
    }
  }

  // ---------------------------------------------------------------- CPU interface

  cpuRead(cpu: number, offset: number): number {
    checkOffset(offset);
    const regs = this.cpu[cpu];
    if (regs === undefined) return 0;
    switch (offset) {
      case Gicc.CTLR:
        return regs.ctlr;
      case Gicc.PMR:
        return regs.pmr;
      case Gicc.BPR:
        return regs.bpr;
      case Gicc.IAR:
        return this.acknowledge(cpu, regs);
      case Gicc.RPR:
        return this.runningPriority(cpu);
      case Gicc.HPPIR:
        return this.highestPending(cpu);
      case Gicc.IIDR:
        return GICC_IIDR_VALUE;
      default:
        return 0; // EOIR and DIR are write-only; reserved offsets RAZ
    }
  }

  cpuWrite(cpu: number, offset: number, value: number): void {
    checkOffset(offset);
    const regs = this.cpu[cpu];
    if (regs === undefined) return;
    value >>>= 0;
    switch (offset) {
      case Gicc.CTLR:
        regs.ctlr = value & (GiccCtlr.ENABLE | GiccCtlr.EOI_MODE);
        break;
      case Gicc.PMR:
        regs.pmr = value & 0xff;
        break;
      case Gicc.BPR:
        regs.bpr = value & 7;
        break;
      case Gicc.EOIR:
        this.endOfInterrupt(cpu, regs, value & 0x1fff);
        break;
      case Gicc.DIR:
        // §4.4.15: only meaningful with EOImode 1; otherwise UNPREDICTABLE, ignored here.
        if ((regs.ctlr & GiccCtlr.EOI_MODE) !== 0) this.deactivate(cpu, value & 0x3ff);
        break;
      default:
        return; // RO registers and reserved offsets: WI
    }
    this.update();
  }

  /** GICC_IAR read (§4.4.4): pending → active for the signalled interrupt, or 1023. */
  private acknowledge(cpu: number, regs: CpuRegs): number {
    const iar = this.signalled(cpu);
    if (iar === GIC_SPURIOUS_INTID) return iar;
    const id = iar & 0x3ff;
    const s = this.slot(cpu, id);
    if (id < 16) {
      const i = cpu * 16 + id;
      this.sgiSources[i] = (this.sgiSources[i] ?? 0) & ~(1 << (iar >>> GICC_IAR_CPUID_SHIFT));
    } else {
      // A level-sensitive interrupt whose input is still asserted becomes active and pending.
      this.latched[s] = 0;
    }
    this.active[s] = 1;
    regs.acked.push({ iar, group: this.groupPriority(cpu, this.priority[s] ?? 0xff) });
    this.update();
    return iar;
  }

  /** GICC_EOIR write (§4.4.5): priority drop, and deactivation unless EOImode is 1. */
  private endOfInterrupt(cpu: number, regs: CpuRegs, iar: number): void {
    // An EOI for an interrupt that is not active on this interface is UNPREDICTABLE; ignored.
    let at = -1;
    for (let i = regs.acked.length - 1; i >= 0; i--) {
      if (regs.acked[i]?.iar === iar) {
        at = i;
        break;
      }
    }
    if (at < 0) return;
    regs.acked.splice(at, 1);
    if ((regs.ctlr & GiccCtlr.EOI_MODE) === 0) this.deactivate(cpu, iar & 0x3ff);
  }

  private deactivate(cpu: number, id: number): void {
    if (id < GIC_INTIDS) this.active[this.slot(cpu, id)] = 0;
  }
}

/**
 * Creates a GICv2 with `cpus` CPU interfaces in its reset state: distributor and CPU
 * interfaces disabled, every interrupt disabled, inactive, not pending, priority 0,
 * level-sensitive (SGIs edge), GICC_PMR 0.
 *
 * @throws RangeError unless `cpus` is an integer from 1 to 8.
 */
export function createGic(cpus = 1): Gic {
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > GIC_MAX_CPUS) {
    throw new RangeError(`createGic: ${cpus} CPUs is not in 1..${GIC_MAX_CPUS}`);
  }
  const core = new GicCore(cpus);
  const distributor: GicDistributor = {
    cpus,
    mmioRead32: (offset, cpu = 0) => core.distRead(offset, cpu),
    mmioWrite32: (offset, value, cpu = 0) => core.distWrite(offset, value, cpu),
    setInput: (intid, high, cpu = 0) => core.setInput(intid, high, cpu),
    inputLevel: (intid, cpu = 0) => core.inputLevel(intid, cpu),
  };
  const cpuInterfaces = Array.from(
    { length: cpus },
    (_, cpu): GicCpuInterface => ({
      cpu,
      mmioRead32: (offset) => core.cpuRead(cpu, offset),
      mmioWrite32: (offset, value) => core.cpuWrite(cpu, offset, value),
      irqAsserted: () => core.irqAsserted(cpu),
    }),
  );
  const gic: Gic = {
    distributor,
    cpuInterfaces,
    get onIrq() {
      return core.onIrq;
    },
    set onIrq(fn) {
      core.onIrq = fn;
    },
  };
  return gic;
}
