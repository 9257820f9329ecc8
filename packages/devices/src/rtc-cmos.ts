/**
 * Motorola MC146818A real-time clock and CMOS RAM, as the PC decodes it: an index port
 * (0x70) selects one of 128 bytes and a data port (0x71) reads or writes it; the
 * interrupt output is ISA IRQ 8.
 *
 * Facts from the Motorola MC146818A datasheet (sections "Address Map", "Time, Calendar
 * and Alarm Locations", "Control Registers" A–D, "Update Cycle", "Interrupts" and the
 * periodic-rate table), cross-checked against QEMU's `hw/rtc/mc146818rtc.c` and
 * `mc146818rtc_regs.h`.
 *
 * | Ports | Read                              | Write                                           |
 * | ----- | --------------------------------- | ----------------------------------------------- |
 * | 0x70  | 0xFF (the index is write-only)    | bits 6:0 select a register; bit 7 = NMI disable |
 * | 0x71  | the selected register             | the selected register                           |
 *
 * | Index     | Register                                   | Notes                                 |
 * | --------- | ------------------------------------------ | ------------------------------------- |
 * | 0x00      | seconds                                    | 0–59                                  |
 * | 0x01      | seconds alarm                              | 0xC0–0xFF = "don't care"              |
 * | 0x02      | minutes                                    | 0–59                                  |
 * | 0x03      | minutes alarm                              |                                       |
 * | 0x04      | hours                                      | 0–23, or 1–12 with bit 7 = PM         |
 * | 0x05      | hours alarm                                |                                       |
 * | 0x06      | day of week                                | 1–7, Sunday = 1                       |
 * | 0x07      | day of month                               | 1–31                                  |
 * | 0x08      | month                                      | 1–12                                  |
 * | 0x09      | year                                       | 0–99                                  |
 * | 0x0A      | register A: UIP 7 (RO), DV 6:4, RS 3:0     | reset 0x26                            |
 * | 0x0B      | register B: SET 7, PIE 6, AIE 5, UIE 4, SQWE 3, DM 2, 24/12 1, DSE 0 | reset 0x02 |
 * | 0x0C      | register C (RO): IRQF 7, PF 6, AF 5, UF 4  | reading clears it                     |
 * | 0x0D      | register D (RO): VRT 7                     | always 0x80 (battery good)            |
 * | 0x0E–0x7F | 114 bytes of battery-backed RAM            | read back what was written            |
 * | 0x32      | century (PC convention, inside the RAM)    | kept with the clock like 0x00–0x09    |
 *
 * Time and calendar bytes are BCD unless register B's DM bit selects binary; hours are
 * 24-hour when bit 1 is set, otherwise 1–12 with bit 7 marking PM. Changing DM or 24/12
 * does not convert stored bytes (the datasheet requires setting them before the time);
 * while the clock runs the bytes are recomputed from the clock on every read anyway.
 *
 * The time comes from the `now` option, milliseconds since the Unix epoch (UTC): the
 * machine passes virtual time plus a configured epoch so runs are deterministic; the
 * model never reads the host clock. Writing the time bytes sets an offset from `now`.
 * The clock stops while SET (register B bit 7) is 1 or the divider (register A DV) is in
 * reset (DV = 11x); stopped, the bytes hold what was last shown or written, and when the
 * clock restarts it continues from them. UIP reads 1 during the last 244 µs of each
 * second, before the bytes change, as in QEMU (the model updates them atomically).
 *
 * Interrupts: register C's flags are set as time advances — UF at each update (once a
 * second, while the clock runs), AF at an update whose hours/minutes/seconds match the
 * alarm bytes, PF at each edge of the periodic rate RS (none for RS = 0; 256 Hz, 128 Hz,
 * then 8192 Hz down to 2 Hz for RS = 1, 2, 3–15) while the divider runs. IRQF is
 * `(PF & PIE) | (AF & AIE) | (UF & UIE)`, and the interrupt output is high while IRQF is
 * set; reading register C returns the flags, clears all of them and lowers the line.
 * Setting SET clears UIE, as on the chip. The model has no timer: it brings the flags up
 * to date on every register access and whenever the machine calls {@link CmosRtc.tick}
 * (which it should do as virtual time advances, so that an enabled interrupt is raised
 * without the guest touching the ports).
 *
 * Simplifications: the square-wave output, daylight-saving switching (DSE) and the
 * divider's other time bases (DV ≠ 010) are not modelled — any DV other than a divider
 * reset runs the clock at the normal rate. Bytes written to registers C and D are
 * ignored (read-only); UIP in register A is read-only. The power-on values of A, B, D
 * are those PC firmware leaves (QEMU's), and the RAM starts zeroed or as the `nvram`
 * option says.
 *
 * Accesses: byte-wide ISA ports; wider accesses are split into byte cycles (so a 16-bit
 * `out` to 0x70 writes the index and then the data byte), and offsets outside the two
 * ports read 0xFF. Nothing a guest does throws.
 *
 * @module
 */

import {
  checkClockOption,
  checkIrqOption,
  checkNameOption,
  readPortBytes,
  writePortBytes,
} from './bus-access';
import { type AccessWidth, type IrqLine, type PortDevice, UNCONNECTED } from './device';

/** The PC's RTC index port (the data port is {@link CMOS_PORT} + 1). */
export const CMOS_PORT = 0x70;

/** ISA IRQ of the RTC on the PC. */
export const CMOS_IRQ = 8;

/** Number of bytes of battery-backed RAM after the clock registers (0x0E–0x7F). */
export const CMOS_NVRAM_BYTES = 114;

/** Indices of the MC146818 registers and the PC's century byte. */
export const CmosReg = {
  SECONDS: 0x00,
  SECONDS_ALARM: 0x01,
  MINUTES: 0x02,
  MINUTES_ALARM: 0x03,
  HOURS: 0x04,
  HOURS_ALARM: 0x05,
  DAY_OF_WEEK: 0x06,
  DAY_OF_MONTH: 0x07,
  MONTH: 0x08,
  YEAR: 0x09,
  /** Register A: UIP, divider, rate select. */
  A: 0x0a,
  /** Register B: SET, interrupt enables, data mode, 24/12. */
  B: 0x0b,
  /** Register C: interrupt flags, read to clear. */
  C: 0x0c,
  /** Register D: valid RAM and time. */
  D: 0x0d,
  /** First byte of general-purpose RAM. */
  NVRAM_FIRST: 0x0e,
  /** Century, in the RAM at the PC's conventional index (ACPI FADT `CENTURY`). */
  CENTURY: 0x32,
} as const;

/** Register A bits. */
export const CmosRegA = {
  /** Update in progress (read-only). */
  UIP: 0x80,
  /** Divider field, bits 6:4. */
  DV_MASK: 0x70,
  /** DV = 010: 32.768 kHz time base, running. */
  DV_32KHZ: 0x20,
  /** Rate select field, bits 3:0. */
  RS_MASK: 0x0f,
} as const;

/** Register B bits. */
export const CmosRegB = {
  /** Daylight-saving enable (stored, not modelled). */
  DSE: 0x01,
  /** 24-hour mode. */
  HOUR_24: 0x02,
  /** Data mode: binary instead of BCD. */
  DM_BINARY: 0x04,
  /** Square-wave enable (stored, not modelled). */
  SQWE: 0x08,
  /** Update-ended interrupt enable. */
  UIE: 0x10,
  /** Alarm interrupt enable. */
  AIE: 0x20,
  /** Periodic interrupt enable. */
  PIE: 0x40,
  /** Stop updates so the time can be set. */
  SET: 0x80,
} as const;

/** Register C flags. */
export const CmosRegC = {
  /** Update-ended flag. */
  UF: 0x10,
  /** Alarm flag. */
  AF: 0x20,
  /** Periodic flag. */
  PF: 0x40,
  /** Interrupt request: an enabled flag is set. */
  IRQF: 0x80,
} as const;

/** Register D: valid RAM and time (battery good). */
export const CMOS_REG_D_VRT = 0x80;

/** Options for {@link CmosRtc}. */
export interface CmosRtcOptions {
  /**
   * The clock: milliseconds since 1970-01-01T00:00:00Z. Must be deterministic
   * (virtual time plus an epoch), never the host's wall clock.
   */
  readonly now: () => number;
  /** The interrupt output (IRQ 8 on the PC); default {@link UNCONNECTED}. */
  readonly irq?: IrqLine;
  /** Device name for traces; default `"rtc-cmos"`. */
  readonly name?: string;
  /**
   * Initial contents of the RAM at 0x0E onwards (at most {@link CMOS_NVRAM_BYTES}
   * bytes), e.g. what firmware would have stored. The century byte (0x32) is always
   * taken from the clock.
   */
  readonly nvram?: ArrayLike<number>;
}

/** The time-of-day bytes the clock keeps, in the order they are computed. */
const CLOCK_REGS = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32] as const;
const SECONDS_PER_DAY = 86_400;
/** UIP is set this long before each update (QEMU's UIP_HOLD_LENGTH: 8 cycles of 32.768 kHz). */
const UIP_MS = (8 * 1000) / 32_768;

/**
 * An MC146818A RTC with 128 bytes of CMOS as a {@link PortDevice} of 2 ports. See the
 * module documentation for the register map and what is simplified.
 */
export class CmosRtc implements PortDevice {
  /** Device name for traces. */
  readonly name: string;
  /** The index and data ports. */
  readonly portCount = 2;

  private readonly now: () => number;
  private readonly irq: IrqLine;
  private readonly initialNvram: Uint8Array;
  private irqLevel = false;

  private readonly cmos = new Uint8Array(128);
  private index = 0;
  private nmiDisable = false;
  /** Seconds added to the clock's time while running. */
  private offset = 0;
  /** Clock time (ms) up to which the interrupt flags have been brought. */
  private lastMs = 0;

  /** @throws TypeError or RangeError when an option is malformed. */
  constructor(options: CmosRtcOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('CmosRtc: options must be an object with a now() clock');
    }
    checkClockOption('CmosRtc', options.now);
    checkIrqOption('CmosRtc', options.irq);
    checkNameOption('CmosRtc', options.name);
    this.initialNvram = new Uint8Array(CMOS_NVRAM_BYTES);
    if (options.nvram !== undefined) {
      const init = options.nvram;
      if (typeof init !== 'object' || init === null || typeof init.length !== 'number') {
        throw new TypeError('CmosRtc: options.nvram must be an array-like of bytes');
      }
      if (init.length > CMOS_NVRAM_BYTES) {
        throw new RangeError(
          `CmosRtc: options.nvram has ${init.length} bytes; the CMOS RAM holds ${CMOS_NVRAM_BYTES}`,
        );
      }
      for (let i = 0; i < init.length; i++) {
        const b = init[i];
        if (b === undefined || !Number.isInteger(b) || b < 0 || b > 0xff) {
          throw new RangeError(`CmosRtc: options.nvram[${i}] = ${String(b)} is not a byte (0–255)`);
        }
        this.initialNvram[i] = b;
      }
    }
    this.now = options.now;
    this.irq = options.irq ?? UNCONNECTED;
    this.name = options.name ?? 'rtc-cmos';
    this.powerOn();
  }

  // ---- PortDevice ----

  /** `in` from the index (0) or data (1) port. */
  read(offset: number, width: AccessWidth): number {
    return readPortBytes(offset, width, this.portCount, (port) => (port === 0 ? 0xff : this.readData()));
  }

  /** `out` to the index (0) or data (1) port. */
  write(offset: number, width: AccessWidth, value: number): void {
    writePortBytes(offset, width, value, this.portCount, (port, byte) => {
      if (port === 0) {
        this.index = byte & 0x7f;
        this.nmiDisable = (byte & 0x80) !== 0;
      } else {
        this.writeData(byte);
      }
    });
  }

  // ---- host side ----

  /**
   * Brings the interrupt flags up to the clock's current time, raising the interrupt
   * output if an enabled one became set. The machine calls it as virtual time advances
   * (at least as often as the fastest periodic rate it wants to deliver); calling it
   * more often, or not at all, never changes what the guest reads, only when the line
   * rises.
   */
  tick(): void {
    this.catchUp();
    this.updateIrq();
  }

  /** Whether the last write to the index port set bit 7 (NMI disabled on the PC). */
  get nmiDisabled(): boolean {
    return this.nmiDisable;
  }

  /** Whether the interrupt output is high. */
  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  /**
   * The time the RTC currently holds, in milliseconds since the Unix epoch (whole
   * seconds; the clock's fraction of a second while running).
   */
  get time(): number {
    if (this.running) return this.clockMs() + this.offset * 1000;
    return this.parseClockBytes() * 1000;
  }

  /**
   * Returns the RTC to its power-on state: the clock follows `now` again with no offset,
   * A/B/C/D take their reset values and the RAM its initial contents.
   */
  reset(): void {
    this.powerOn();
    this.updateIrq();
  }

  // ---- registers ----

  private powerOn(): void {
    this.cmos.fill(0);
    this.cmos.set(this.initialNvram, CmosReg.NVRAM_FIRST);
    this.cmos[CmosReg.A] = 0x26;
    this.cmos[CmosReg.B] = CmosRegB.HOUR_24;
    this.cmos[CmosReg.C] = 0;
    this.cmos[CmosReg.D] = CMOS_REG_D_VRT;
    this.index = 0;
    this.nmiDisable = false;
    this.offset = 0;
    this.lastMs = this.clockMs();
    this.render();
  }

  private reg(index: number): number {
    return this.cmos[index] ?? 0;
  }

  /** The clock in ms, with a non-finite reading taken as 0 (never throws). */
  private clockMs(): number {
    const ms = this.now();
    return Number.isFinite(ms) ? ms : 0;
  }

  private get dividerReset(): boolean {
    return (this.reg(CmosReg.A) & 0x60) === 0x60;
  }

  private get running(): boolean {
    return (this.reg(CmosReg.B) & CmosRegB.SET) === 0 && !this.dividerReset;
  }

  private readData(): number {
    this.catchUp();
    const i = this.index;
    let value: number;
    if (i === CmosReg.A) {
      value = this.reg(i) | (this.updateInProgress() ? CmosRegA.UIP : 0);
    } else if (i === CmosReg.C) {
      value = this.reg(i);
      this.cmos[CmosReg.C] = 0;
    } else {
      if (this.running && isClockReg(i)) this.render();
      value = this.reg(i);
    }
    this.updateIrq();
    return value;
  }

  private writeData(value: number): void {
    this.catchUp();
    const i = this.index;
    const wasRunning = this.running;
    if (isClockReg(i)) {
      if (wasRunning) this.render(); // the other bytes must be current before one changes
      this.cmos[i] = value;
      if (wasRunning) this.setOffsetFromBytes();
    } else if (i === CmosReg.A || i === CmosReg.B) {
      if (wasRunning) this.render(); // freeze the bytes at the moment the clock stops
      if (i === CmosReg.A) {
        this.cmos[i] = value & ~CmosRegA.UIP;
      } else {
        this.cmos[i] = (value & CmosRegB.SET) !== 0 ? value & ~CmosRegB.UIE : value;
      }
      if (!wasRunning && this.running) this.setOffsetFromBytes();
      this.recomputeIrqf();
    } else if (i !== CmosReg.C && i !== CmosReg.D) {
      this.cmos[i] = value;
    }
    this.updateIrq();
  }

  /** UIP: the last 244 µs before the bytes change, while the clock runs. */
  private updateInProgress(): boolean {
    if (!this.running) return false;
    const frac = this.clockMs() - Math.floor(this.clockMs() / 1000) * 1000;
    return frac >= 1000 - UIP_MS;
  }

  /** Current RTC time in whole seconds while running. */
  private seconds(): number {
    return Math.floor(this.clockMs() / 1000) + this.offset;
  }

  /** Writes the clock bytes for the current time, in the current format. */
  private render(): void {
    const bytes = this.clockBytes(this.seconds());
    CLOCK_REGS.forEach((reg, k) => {
      this.cmos[reg] = bytes[k] ?? 0;
    });
  }

  private encode(n: number): number {
    if ((this.reg(CmosReg.B) & CmosRegB.DM_BINARY) !== 0) return n & 0xff;
    return ((Math.floor(n / 10) % 10) << 4) | (n % 10);
  }

  private decode(b: number): number {
    if ((this.reg(CmosReg.B) & CmosRegB.DM_BINARY) !== 0) return b;
    return (b >> 4) * 10 + (b & 0x0f);
  }

  private encodeHour(hour: number): number {
    if ((this.reg(CmosReg.B) & CmosRegB.HOUR_24) !== 0) return this.encode(hour);
    return this.encode(hour % 12 || 12) | (hour >= 12 ? 0x80 : 0);
  }

  /** The bytes of {@link CLOCK_REGS} for `seconds` since the epoch. */
  private clockBytes(seconds: number): number[] {
    const d = new Date(seconds * 1000);
    if (Number.isNaN(d.getTime())) return [0, 0, 0, 0, 0, 0, 0, 0];
    const year = d.getUTCFullYear();
    return [
      this.encode(d.getUTCSeconds()),
      this.encode(d.getUTCMinutes()),
      this.encodeHour(d.getUTCHours()),
      this.encode(d.getUTCDay() + 1),
      this.encode(d.getUTCDate()),
      this.encode(d.getUTCMonth() + 1),
      this.encode(((year % 100) + 100) % 100),
      this.encode(Math.floor(year / 100)),
    ];
  }

  /** The time the clock bytes spell, in seconds since the epoch. */
  private parseClockBytes(): number {
    const rawHour = this.reg(CmosReg.HOURS);
    let hour = this.decode(rawHour & 0x7f);
    if ((this.reg(CmosReg.B) & CmosRegB.HOUR_24) === 0)
      hour = (hour % 12) + ((rawHour & 0x80) !== 0 ? 12 : 0);
    const year = this.decode(this.reg(CmosReg.CENTURY)) * 100 + this.decode(this.reg(CmosReg.YEAR));
    const d = new Date(0);
    d.setUTCFullYear(
      year,
      this.decode(this.reg(CmosReg.MONTH)) - 1,
      this.decode(this.reg(CmosReg.DAY_OF_MONTH)),
    );
    d.setUTCHours(hour, this.decode(this.reg(CmosReg.MINUTES)), this.decode(this.reg(CmosReg.SECONDS)), 0);
    const ms = d.getTime();
    return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
  }

  /** Makes the running clock continue from what the bytes say now. */
  private setOffsetFromBytes(): void {
    this.offset = this.parseClockBytes() - Math.floor(this.clockMs() / 1000);
  }

  /** Sets register C's flags for everything that happened between `lastMs` and now. */
  private catchUp(): void {
    const nowMs = this.clockMs();
    const lastMs = this.lastMs;
    this.lastMs = nowMs;
    if (!(nowMs > lastMs)) return;
    let flags = 0;
    const a = this.reg(CmosReg.A);
    const rs = a & CmosRegA.RS_MASK;
    if (rs !== 0 && !this.dividerReset) {
      // Period in cycles of the 32.768 kHz time base: RS 1 and 2 alias RS 8 and 9.
      const periodMs = ((rs <= 2 ? 2 ** (rs + 6) : 2 ** (rs - 1)) * 1000) / 32_768;
      if (Math.floor(nowMs / periodMs) > Math.floor(lastMs / periodMs)) flags |= CmosRegC.PF;
    }
    if (this.running) {
      const from = Math.floor(lastMs / 1000) + this.offset;
      const to = Math.floor(nowMs / 1000) + this.offset;
      if (to > from) {
        flags |= CmosRegC.UF;
        if ((this.reg(CmosReg.C) & CmosRegC.AF) === 0 && this.alarmBetween(from, to)) flags |= CmosRegC.AF;
      }
    }
    if (flags !== 0) {
      this.cmos[CmosReg.C] = this.reg(CmosReg.C) | flags;
      this.recomputeIrqf();
    }
  }

  /** Whether an update at a second in (from, to] matches the alarm bytes. */
  private alarmBetween(from: number, to: number): boolean {
    const alarmS = this.reg(CmosReg.SECONDS_ALARM);
    const alarmM = this.reg(CmosReg.MINUTES_ALARM);
    const alarmH = this.reg(CmosReg.HOURS_ALARM);
    const dontCare = (b: number): boolean => (b & 0xc0) === 0xc0;
    // Hours, minutes and seconds repeat daily, so one day of updates covers every case.
    const last = Math.min(to, from + SECONDS_PER_DAY);
    for (let t = from + 1; t <= last; t++) {
      const sod = ((t % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
      if (!dontCare(alarmS) && this.encode(sod % 60) !== alarmS) continue;
      if (!dontCare(alarmM) && this.encode(Math.floor(sod / 60) % 60) !== alarmM) continue;
      if (!dontCare(alarmH) && this.encodeHour(Math.floor(sod / 3600)) !== alarmH) continue;
      return true;
    }
    return false;
  }

  private recomputeIrqf(): void {
    const c = this.reg(CmosReg.C) & (CmosRegC.PF | CmosRegC.AF | CmosRegC.UF);
    const enabled = c & this.reg(CmosReg.B) & (CmosRegB.PIE | CmosRegB.AIE | CmosRegB.UIE);
    this.cmos[CmosReg.C] = c | (enabled !== 0 ? CmosRegC.IRQF : 0);
  }

  private updateIrq(): void {
    const level = (this.reg(CmosReg.C) & CmosRegC.IRQF) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}

function isClockReg(index: number): boolean {
  return (CLOCK_REGS as readonly number[]).includes(index);
}
