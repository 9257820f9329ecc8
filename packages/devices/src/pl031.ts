/**
 * ARM PrimeCell Real Time Clock (PL031): the `virt` machine's RTC, a 4 KiB MMIO window
 * at 0x0901_0000 wired to SPI 2 (INTID 34). A 32-bit counter of seconds, a match
 * register that raises an interrupt when the counter reaches it, and a load register to
 * set the counter.
 *
 * Facts from the ARM PrimeCell Real Time Clock (PL031) Technical Reference Manual,
 * ARM DDI 0224 (chapter 3 "Programmers Model": §3.2 summary of registers, §3.3 register
 * descriptions), cross-checked against QEMU's `hw/rtc/pl031.c`.
 *
 * | Offset      | Name          | Access | Reset | Contents                                   | TRM      |
 * | ----------- | ------------- | ------ | ----- | ------------------------------------------ | -------- |
 * | 0x000       | RTCDR         | RO     | –     | the counter, seconds                       | §3.3.1   |
 * | 0x004       | RTCMR         | RW     | 0     | match value                                | §3.3.2   |
 * | 0x008       | RTCLR         | RW     | 0     | load: writing sets the counter; reads back the last value loaded | §3.3.3 |
 * | 0x00C       | RTCCR         | RW     | 1     | bit 0 RTC start; reads 1, writes ignored   | §3.3.4   |
 * | 0x010       | RTCIMSC       | RW     | 0     | bit 0 match interrupt mask (1 = enabled)   | §3.3.5   |
 * | 0x014       | RTCRIS        | RO     | 0     | bit 0 raw match interrupt                  | §3.3.6   |
 * | 0x018       | RTCMIS        | RO     | 0     | RIS & IMSC                                 | §3.3.7   |
 * | 0x01C       | RTCICR        | WO     | –     | write 1 to bit 0 to clear the interrupt    | §3.3.8   |
 * | 0xFE0–0xFEC | RTCPeriphID0–3| RO     | 0x31, 0x10, 0x14, 0x00 |                   | §3.3.9–12 |
 * | 0xFF0–0xFFC | RTCPCellID0–3 | RO     | 0x0D, 0xF0, 0x05, 0xB1 |                   | §3.3.13–16 |
 *
 * Every other offset reads 0 and ignores writes; writes to read-only registers are
 * ignored and RTCICR reads 0. Registers are 32 bits; narrow, wide and misaligned
 * accesses are handled as described in `bus-access.ts`. Nothing a guest does throws.
 *
 * The counter is `floor(now() / 1000)` plus an offset that RTCLR writes set, modulo
 * 2^32; `now` gives milliseconds since the Unix epoch, so an unloaded counter reads Unix
 * time, as a PL031 whose firmware loaded it from a battery clock would (and as QEMU
 * starts it). The clock is the machine's (virtual time plus an epoch): the model never
 * reads the host clock. RTCCR reads 1 — the counter always runs, as QEMU models it;
 * on silicon the start bit is set once and then sticks until reset.
 *
 * Match interrupt: RTCRIS bit 0 is set when the counter becomes equal to RTCMR — when it
 * counts up to the value, or at once when RTCMR or RTCLR is written so that the two are
 * equal (QEMU behaves the same) — and stays set until RTCICR clears it. The interrupt
 * output is high while `RTCRIS & RTCIMSC` is 1. The model has no timer of its own: it
 * checks for a match on every register access and whenever the machine calls
 * {@link Pl031.tick}, which the machine should do as virtual time advances so the
 * interrupt is raised without the guest touching the device. A match passed between two
 * checks is still caught (the check covers every second since the last one).
 *
 * @module
 */

import { checkClockOption, checkIrqOption, checkNameOption, readMmio32, writeMmio32 } from './bus-access';
import { type AccessWidth, type IrqLine, type MmioDevice, UNCONNECTED } from './device';

/** Physical base of the PL031 on the `virt` machine (`VIRT_RTC`). */
export const PL031_BASE = 0x0901_0000;

/** GIC INTID of the PL031 on the `virt` machine (SPI 2). */
export const PL031_INTID = 34;

/** Size of the PL031 register window. */
export const PL031_SIZE = 0x1000;

/** PL031 register offsets (TRM §3.2). */
export const Pl031Reg = {
  /** Data Register: the counter. */
  DR: 0x000,
  /** Match Register. */
  MR: 0x004,
  /** Load Register. */
  LR: 0x008,
  /** Control Register. */
  CR: 0x00c,
  /** Interrupt Mask Set/Clear Register. */
  IMSC: 0x010,
  /** Raw Interrupt Status Register. */
  RIS: 0x014,
  /** Masked Interrupt Status Register. */
  MIS: 0x018,
  /** Interrupt Clear Register. */
  ICR: 0x01c,
  /** Peripheral Identification Register 0; 1–3 follow at +4, +8, +0xC. */
  PERIPH_ID0: 0xfe0,
  /** PrimeCell Identification Register 0; 1–3 follow at +4, +8, +0xC. */
  PCELL_ID0: 0xff0,
} as const;

const ID_BYTES = [0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1] as const;

/** Options for {@link Pl031}. */
export interface Pl031Options {
  /**
   * The clock: milliseconds since 1970-01-01T00:00:00Z. Must be deterministic
   * (virtual time plus an epoch), never the host's wall clock.
   */
  readonly now: () => number;
  /** The interrupt output RTCINTR; default {@link UNCONNECTED}. */
  readonly irq?: IrqLine;
  /** Device name for traces; default `"pl031"`. */
  readonly name?: string;
}

/**
 * A PL031 RTC as an {@link MmioDevice} with a 4 KiB window. See the module
 * documentation for the register map and the match interrupt.
 */
export class Pl031 implements MmioDevice {
  /** Device name for traces. */
  readonly name: string;
  /** Size of the register window: 4 KiB. */
  readonly size = PL031_SIZE;

  private readonly now: () => number;
  private readonly irq: IrqLine;
  private irqLevel = false;

  /** Seconds added to the clock's seconds (mod 2^32 when read). */
  private offset = 0;
  private mr = 0;
  private lr = 0;
  private imsc = 0;
  private ris = 0;
  /** Clock second up to which matches have been checked. */
  private checkedSecond = 0;

  /** @throws TypeError when an option has the wrong type. */
  constructor(options: Pl031Options) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Pl031: options must be an object with a now() clock');
    }
    checkClockOption('Pl031', options.now);
    checkIrqOption('Pl031', options.irq);
    checkNameOption('Pl031', options.name);
    this.now = options.now;
    this.irq = options.irq ?? UNCONNECTED;
    this.name = options.name ?? 'pl031';
    this.checkedSecond = this.clockSecond();
  }

  // ---- MmioDevice ----

  /** Reads a register; see the module documentation. */
  read(offset: number, width: AccessWidth): number {
    this.checkMatch();
    const value = readMmio32(offset, width, this.size, (off) => this.readRegister(off));
    this.updateIrq();
    return value;
  }

  /** Writes a register; see the module documentation. */
  write(offset: number, width: AccessWidth, value: number): void {
    this.checkMatch();
    writeMmio32(offset, width, value, this.size, (off, v) => this.writeRegister(off, v));
    this.updateIrq();
  }

  // ---- host side ----

  /**
   * Checks whether the counter has reached RTCMR since the last check and raises the
   * interrupt if it did and it is unmasked. The machine calls it as virtual time
   * advances (once per virtual second is enough); how often it is called changes only
   * when the line rises, never what the guest reads.
   */
  tick(): void {
    this.checkMatch();
    this.updateIrq();
  }

  /** The counter's current value (RTCDR), without an access. */
  get counter(): number {
    return (this.clockSecond() + this.offset) >>> 0;
  }

  /** Whether the interrupt output is high. */
  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  /** Returns the registers to their reset values; the counter follows `now` again. */
  reset(): void {
    this.offset = 0;
    this.mr = 0;
    this.lr = 0;
    this.imsc = 0;
    this.ris = 0;
    this.checkedSecond = this.clockSecond();
    this.updateIrq();
  }

  // ---- registers ----

  private clockSecond(): number {
    const ms = this.now();
    return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
  }

  private readRegister(offset: number): number {
    switch (offset) {
      case Pl031Reg.DR:
        return this.counter;
      case Pl031Reg.MR:
        return this.mr;
      case Pl031Reg.LR:
        return this.lr;
      case Pl031Reg.CR:
        return 1;
      case Pl031Reg.IMSC:
        return this.imsc;
      case Pl031Reg.RIS:
        return this.ris;
      case Pl031Reg.MIS:
        return this.ris & this.imsc;
      default:
        if (offset >= Pl031Reg.PERIPH_ID0) return ID_BYTES[(offset - Pl031Reg.PERIPH_ID0) >> 2] ?? 0;
        return 0; // RTCICR is write-only; reserved offsets read 0
    }
  }

  private writeRegister(offset: number, value: number): void {
    switch (offset) {
      case Pl031Reg.MR:
        this.mr = value;
        this.matchNow();
        break;
      case Pl031Reg.LR:
        this.lr = value;
        this.offset = value - this.clockSecond();
        this.checkedSecond = this.clockSecond();
        this.matchNow();
        break;
      case Pl031Reg.IMSC:
        this.imsc = value & 1;
        break;
      case Pl031Reg.ICR:
        this.ris &= ~(value & 1);
        break;
      default:
        // RTCDR, RTCCR, RTCRIS, RTCMIS, the IDs and reserved offsets: writes ignored.
        break;
    }
  }

  /** A write made the counter equal to the match value. */
  private matchNow(): void {
    if (this.counter === this.mr) this.ris = 1;
  }

  /** Sets RIS if the counter passed through RTCMR in a second since the last check. */
  private checkMatch(): void {
    const second = this.clockSecond();
    const elapsed = second - this.checkedSecond;
    if (elapsed <= 0) {
      if (elapsed < 0) this.checkedSecond = second;
      return;
    }
    const before = (this.checkedSecond + this.offset) >>> 0;
    const toMatch = (this.mr - before) >>> 0; // seconds from the last check to the match
    if (toMatch !== 0 && toMatch <= elapsed) this.ris = 1;
    this.checkedSecond = second;
  }

  private updateIrq(): void {
    const level = (this.ris & this.imsc) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
