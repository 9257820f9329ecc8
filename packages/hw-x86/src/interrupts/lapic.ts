/**
 * The local APIC (xAPIC mode, as QEMU's `pc` emulates it: version 0x14, six LVT
 * entries), reduced to the registers that take external interrupts from the I/O APIC
 * through the CPU's acknowledge and EOI. Timer, LVT, ICR and error registers are not
 * modelled (they read as 0 and ignore writes).
 *
 * References: Intel SDM Vol. 3A, chapter 10 "Advanced Programmable Interrupt Controller
 * (APIC)": §10.4.6 Local APIC ID, §10.4.7 enabling/disabling (SVR), §10.4.8 Local APIC
 * Version Register, §10.6.2 destination modes (physical, logical flat), §10.8.3
 * priority (TPR, PPR), §10.8.4 IRR/ISR/TMR and acceptance, §10.8.5 EOI, §10.9 spurious
 * interrupt.
 *
 * @module
 */

import { IoDeliveryMode } from './ioapic';

/** Byte offsets of the local APIC's registers in its MMIO page (SDM Vol. 3A, Table 10-1). */
export const LapicReg = {
  /** Local APIC ID, bits 31:24. */
  ID: 0x20,
  /** Version (bits 7:0), max LVT entry (bits 23:16); read-only. */
  VERSION: 0x30,
  /** Task priority, bits 7:0. */
  TPR: 0x80,
  /** Processor priority, bits 7:0; read-only (§10.8.3.1). */
  PPR: 0xa0,
  /** End of interrupt; write-only (§10.8.5). */
  EOI: 0xb0,
  /** Logical destination, bits 31:24. */
  LDR: 0xd0,
  /** Destination format, model in bits 31:28 (0xF flat, 0x0 cluster). */
  DFR: 0xe0,
  /** Spurious interrupt vector: vector bits 7:0, APIC software enable bit 8, focus check disable bit 9. */
  SVR: 0xf0,
  /** In-service register: 8 banks at 0x100, 0x110, … 0x170; bank i bit b = vector 32i + b. Read-only. */
  ISR: 0x100,
  /** Trigger-mode register (1 = the vector was accepted level-triggered): 0x180–0x1F0. Read-only. */
  TMR: 0x180,
  /** Interrupt request register: 0x200–0x270. Read-only. */
  IRR: 0x200,
} as const;

/** The version register of QEMU's xAPIC: version 0x14, max LVT entry 5 (six LVTs). */
export const LAPIC_VERSION = 0x0005_0014;

/** SVR bit 8: APIC software enable. */
export const LAPIC_SVR_ENABLE = 0x100;

/** Stride between the 32-bit banks of ISR, TMR and IRR. */
const BANK_STRIDE = 0x10;
const SVR_WRITABLE = 0x3ff;

/** One interrupt message on the APIC bus (the fields of an I/O APIC redirection entry). */
export interface ApicMessage {
  readonly vector: number;
  /** Delivery mode in bits 10:8 as in the redirection entry ({@link IoDeliveryMode}). */
  readonly deliveryMode: number;
  /** Destination mode: false physical (APIC ID), true logical (LDR match). */
  readonly logical: boolean;
  /** 8-bit destination: an APIC ID (0xFF = broadcast) or a logical set. */
  readonly destination: number;
  /** Level-triggered: the accepting APIC sets the vector's TMR bit and broadcasts its EOI. */
  readonly level: boolean;
}

/** A CPU's local APIC. Software reaches it through {@link Lapic.mmioRead32} / {@link Lapic.mmioWrite32}. */
export class Lapic {
  /** Called when an interrupt becomes deliverable to the CPU (its INTR line is raised). */
  onInterrupt: (() => void) | null = null;
  /** Called on the EOI of a level-triggered vector (the EOI message to the I/O APICs). */
  onEoiBroadcast: ((vector: number) => void) | null = null;

  private id: number;
  private tpr = 0;
  private ldr = 0;
  private dfr = 0xffff_ffff;
  /** Reset value: spurious vector 0xFF, software-disabled (§10.4.7.1). */
  private svr = 0xff;
  private readonly isr = new Uint32Array(8);
  private readonly tmr = new Uint32Array(8);
  private readonly irr = new Uint32Array(8);
  /** The vector INTR was last raised for and not yet acknowledged, or -1. */
  private intrVector = -1;

  /** A local APIC with APIC ID `apicId` (QEMU: the CPU index), in its reset state. */
  constructor(apicId: number) {
    this.id = apicId & 0xff;
  }

  /** The APIC ID in the ID register. */
  get apicId(): number {
    return this.id;
  }

  /** Reads the 32-bit register at byte `offset` of the local APIC's MMIO page. */
  mmioRead32(offset: number): number {
    switch (offset) {
      case LapicReg.ID:
        return (this.id << 24) >>> 0;
      case LapicReg.VERSION:
        return LAPIC_VERSION;
      case LapicReg.TPR:
        return this.tpr;
      case LapicReg.PPR:
        return this.ppr();
      case LapicReg.LDR:
        return (this.ldr << 24) >>> 0;
      case LapicReg.DFR:
        return this.dfr;
      case LapicReg.SVR:
        return this.svr;
    }
    const bank = bankOf(offset, LapicReg.ISR) ?? -1;
    if (bank >= 0) return this.isr[bank] ?? 0;
    const tmrBank = bankOf(offset, LapicReg.TMR) ?? -1;
    if (tmrBank >= 0) return this.tmr[tmrBank] ?? 0;
    const irrBank = bankOf(offset, LapicReg.IRR) ?? -1;
    if (irrBank >= 0) return this.irr[irrBank] ?? 0;
    return 0;
  }

  /** Writes the 32-bit register at byte `offset` of the local APIC's MMIO page. */
  mmioWrite32(offset: number, value: number): void {
    switch (offset) {
      case LapicReg.ID:
        this.id = (value >>> 24) & 0xff;
        return;
      case LapicReg.TPR:
        this.tpr = value & 0xff;
        this.signal();
        return;
      case LapicReg.EOI:
        this.eoi();
        return;
      case LapicReg.LDR:
        this.ldr = (value >>> 24) & 0xff;
        return;
      case LapicReg.DFR:
        this.dfr = (value | 0x0fff_ffff) >>> 0;
        return;
      case LapicReg.SVR:
        this.svr = value & SVR_WRITABLE;
        this.signal();
        return;
    }
  }

  /** Whether SVR's software-enable bit is set. */
  get enabled(): boolean {
    return (this.svr & LAPIC_SVR_ENABLE) !== 0;
  }

  /**
   * Whether this APIC is a target of `message`'s destination (SDM §10.6.2): physical
   * mode matches the APIC ID (0xFF: all); logical mode in the flat model matches any set
   * bit of the LDR, in the cluster model the cluster (high nibble) and a member bit.
   */
  matches(message: ApicMessage): boolean {
    const dest = message.destination & 0xff;
    if (!message.logical) return dest === 0xff || dest === this.id;
    if (dest === 0xff) return true;
    if (this.dfr >>> 28 === 0xf) return (this.ldr & dest) !== 0;
    return (this.ldr & 0xf0) === (dest & 0xf0) && (this.ldr & dest & 0x0f) !== 0;
  }

  /**
   * Accepts a fixed interrupt from the bus (SDM §10.8.4): sets the vector's IRR bit (a
   * vector already requested collapses into it) and its TMR bit for a level-triggered
   * message, then raises INTR if the vector's priority class is above the PPR's. Vectors
   * 0–15 are illegal (§10.5.3) and not accepted.
   */
  accept(vector: number, level: boolean): boolean {
    if (vector < 16 || vector > 255) return false;
    setBit(this.irr, vector, true);
    setBit(this.tmr, vector, level);
    this.signal();
    return true;
  }

  /**
   * The CPU's interrupt acknowledge (INTA, SDM §10.8.4): moves the highest IRR vector to
   * the ISR and returns it, if the APIC is software-enabled and that vector's priority
   * class is above the processor priority. Otherwise -1 (the hardware would hand the CPU
   * the spurious vector, §10.9, without touching IRR or ISR).
   */
  acknowledge(): number {
    const v = this.deliverable();
    if (v < 0) return -1;
    this.intrVector = -1;
    setBit(this.irr, v, false);
    setBit(this.isr, v, true);
    return v;
  }

  /** The highest vector in service, or -1. */
  highestInService(): number {
    return highest(this.isr);
  }

  /** Whether `vector`'s bit is set in bank register `reg` ({@link LapicReg.ISR}, TMR or IRR). */
  test(reg: typeof LapicReg.ISR | typeof LapicReg.TMR | typeof LapicReg.IRR, vector: number): boolean {
    const bank = this.mmioRead32(reg + (vector >>> 5) * BANK_STRIDE);
    return ((bank >>> (vector & 31)) & 1) === 1;
  }

  /** PPR (SDM §10.8.3.1): TPR if its class is at least the highest in-service class, else that class. */
  private ppr(): number {
    const isrv = Math.max(this.highestInService(), 0);
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr : isrv & 0xf0;
  }

  /** The vector INTA would take, or -1. */
  private deliverable(): number {
    if (!this.enabled) return -1;
    const v = highest(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr() & 0xf0)) return -1;
    return v;
  }

  /**
   * Raises INTR (calls {@link Lapic.onInterrupt}) if an interrupt is deliverable and it
   * is not the one INTR is already raised for (INTR stays up until the CPU acknowledges,
   * so a request that collapses into the IRR, or a TPR write that changes nothing, does
   * not signal twice).
   */
  private signal(): void {
    const v = this.deliverable();
    if (v === this.intrVector) return;
    this.intrVector = v;
    if (v >= 0) this.onInterrupt?.();
  }

  /**
   * EOI (SDM §10.8.5): clears the highest ISR bit; for a vector accepted level-triggered
   * (TMR set) sends the EOI message to the I/O APICs. Then a request held back by the
   * in-service vector may become deliverable.
   */
  private eoi(): void {
    const v = this.highestInService();
    if (v < 0) return;
    setBit(this.isr, v, false);
    if (this.test(LapicReg.TMR, v)) this.onEoiBroadcast?.(v);
    this.signal();
  }
}

/**
 * The APIC bus: hands `message` to the local APICs it addresses (fixed: every match;
 * lowest priority: the match with the lowest TPR, SDM §10.6.2.4). Other delivery modes
 * (SMI, NMI, INIT, ExtINT) are not modelled and are not accepted.
 */
export function routeApicMessage(lapics: readonly Lapic[], message: ApicMessage): boolean {
  const targets = lapics.filter((l) => l.matches(message));
  if (message.deliveryMode === IoDeliveryMode.FIXED) {
    let accepted = false;
    for (const l of targets) accepted = l.accept(message.vector, message.level) || accepted;
    return accepted;
  }
  if (message.deliveryMode === IoDeliveryMode.LOWEST_PRIORITY) {
    let best: Lapic | undefined;
    for (const l of targets) {
      if (best === undefined || l.mmioRead32(LapicReg.TPR) < best.mmioRead32(LapicReg.TPR)) best = l;
    }
    return best?.accept(message.vector, message.level) ?? false;
  }
  return false;
}

function bankOf(offset: number, base: number): number | undefined {
  const rel = offset - base;
  if (rel < 0 || rel >= 8 * BANK_STRIDE || rel % BANK_STRIDE !== 0) return undefined;
  return rel / BANK_STRIDE;
}

function setBit(banks: Uint32Array, vector: number, on: boolean): void {
  const i = vector >>> 5;
  const bit = 1 << (vector & 31);
  const cur = banks[i] ?? 0;
  banks[i] = on ? cur | bit : cur & ~bit;
}

function highest(banks: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const b = banks[i] ?? 0;
    if (b !== 0) return i * 32 + 31 - Math.clz32(b);
  }
  return -1;
}
