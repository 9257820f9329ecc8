/**
 * The MC146818A RTC / CMOS model driven the way PC firmware and an OS clock driver use
 * ports 0x70/0x71, against the MC146818A datasheet (address map, registers A–D, data
 * modes, update cycle, interrupts) and QEMU's `hw/rtc/mc146818rtc.c`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  CMOS_IRQ,
  CMOS_NVRAM_BYTES,
  CMOS_PORT,
  CmosReg,
  CmosRegA,
  CmosRegB,
  CmosRegC,
  CmosRtc,
} from '../src/index';
import { RecordingIrq, TestClock } from './recording-irq';

/** Thursday 2024-02-29 13:45:07.250 UTC. */
const T0 = Date.UTC(2024, 1, 29, 13, 45, 7, 250);

function rtc(options: { nvram?: number[] } = {}) {
  const clock = new TestClock(T0);
  const irq = new RecordingIrq();
  const r = new CmosRtc({ now: clock.now, irq, ...options });
  const get = (index: number) => {
    r.write(0, 1, index);
    return r.read(1, 1);
  };
  const set = (index: number, value: number) => {
    r.write(0, 1, index);
    r.write(1, 1, value);
  };
  /** The ten time/date bytes plus the century, in register order. */
  const clockBytes = () =>
    [
      CmosReg.SECONDS,
      CmosReg.MINUTES,
      CmosReg.HOURS,
      CmosReg.DAY_OF_WEEK,
      CmosReg.DAY_OF_MONTH,
      CmosReg.MONTH,
      CmosReg.YEAR,
      CmosReg.CENTURY,
    ].map(get);
  return { r, clock, irq, get, set, clockBytes };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('CMOS RTC placement and power-on state', () => {
  it('index port 0x70, data port 0x71, IRQ 8, 114 bytes of RAM', () => {
    expect(CMOS_PORT).toBe(0x70);
    expect(CMOS_IRQ).toBe(8);
    expect(CMOS_NVRAM_BYTES).toBe(0x80 - 0x0e);
    const { r } = rtc();
    expect(r.portCount).toBe(2);
    expect(r.name).toBe('rtc-cmos');
  });

  it('A = 0x26, B = 0x02 (24 h, BCD), C = 0, D = 0x80 (VRT)', () => {
    const { get, irq } = rtc();
    expect(get(CmosReg.A)).toBe(0x26);
    expect(get(CmosReg.B)).toBe(CmosRegB.HOUR_24);
    expect(get(CmosReg.C)).toBe(0);
    expect(get(CmosReg.D)).toBe(0x80);
    expect(irq.calls).toEqual([]);
  });

  it('never reads the host clock', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('Date.now() called');
    });
    const { r, clockBytes, clock } = rtc();
    clock.advance(1500);
    r.tick();
    expect(clockBytes()[0]).toBe(0x08);
  });
});

describe('CMOS time and date (data modes)', () => {
  it('BCD, 24-hour: 2024-02-29 13:45:07 is 07 45 13, Thursday (5), 29 02 24, century 20', () => {
    const { clockBytes } = rtc();
    expect(clockBytes()).toEqual([0x07, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20]);
  });

  it('binary mode (DM = 1) shows the same time as plain numbers', () => {
    const { set, clockBytes } = rtc();
    set(CmosReg.B, CmosRegB.HOUR_24 | CmosRegB.DM_BINARY);
    expect(clockBytes()).toEqual([7, 45, 13, 5, 29, 2, 24, 20]);
  });

  it('12-hour mode: 1–12 with bit 7 for PM, in BCD and binary', () => {
    const { set, get, clock } = rtc();
    set(CmosReg.B, 0);
    expect(get(CmosReg.HOURS)).toBe(0x81); // 1 PM
    clock.ms = Date.UTC(2024, 1, 29, 0, 30, 0);
    expect(get(CmosReg.HOURS)).toBe(0x12); // 12 AM
    clock.ms = Date.UTC(2024, 1, 29, 12, 30, 0);
    expect(get(CmosReg.HOURS)).toBe(0x92); // 12 PM
    clock.ms = Date.UTC(2024, 1, 29, 23, 0, 0);
    set(CmosReg.B, CmosRegB.DM_BINARY);
    expect(get(CmosReg.HOURS)).toBe(0x80 | 11);
  });

  it('the registers follow the clock: a day boundary rolls every field', () => {
    const { clock, clockBytes } = rtc();
    clock.ms = Date.UTC(2099, 11, 31, 23, 59, 59, 999);
    expect(clockBytes()).toEqual([0x59, 0x59, 0x23, 0x05, 0x31, 0x12, 0x99, 0x20]);
    clock.advance(1);
    expect(clockBytes()).toEqual([0x00, 0x00, 0x00, 0x06, 0x01, 0x01, 0x00, 0x21]);
  });

  it('setting the time under SET: the bytes freeze, take the new time, and run on from it', () => {
    const { r, set, get, clock, clockBytes } = rtc();
    set(CmosReg.B, CmosRegB.SET | CmosRegB.HOUR_24);
    clock.advance(5000); // stopped: still 13:45:07
    expect(get(CmosReg.SECONDS)).toBe(0x07);
    set(CmosReg.SECONDS, 0x30);
    set(CmosReg.MINUTES, 0x15);
    set(CmosReg.HOURS, 0x08);
    set(CmosReg.DAY_OF_MONTH, 0x04);
    set(CmosReg.MONTH, 0x07);
    set(CmosReg.YEAR, 0x26);
    set(CmosReg.CENTURY, 0x20);
    expect(r.time).toBe(Date.UTC(2026, 6, 4, 8, 15, 30));
    set(CmosReg.B, CmosRegB.HOUR_24); // SET off: runs from 08:15:30
    clock.advance(2000);
    expect(clockBytes().slice(0, 3)).toEqual([0x32, 0x15, 0x08]);
    expect(r.time).toBe(Date.UTC(2026, 6, 4, 8, 15, 32, 250));
  });

  it('writing one byte while running moves the clock by that much', () => {
    const { set, get, r } = rtc();
    set(CmosReg.YEAR, 0x25);
    expect(get(CmosReg.YEAR)).toBe(0x25);
    expect(get(CmosReg.MINUTES)).toBe(0x45);
    expect(r.time).toBe(Date.UTC(2025, 1, 28, 13, 45, 7, 250) + 86_400_000); // no 29 Feb in 2025: 1 Mar
  });

  it('a divider reset (DV = 110) stops the clock; DV = 010 restarts it from the held bytes', () => {
    const { set, get, clock } = rtc();
    set(CmosReg.A, 0x66);
    clock.advance(10_000);
    expect(get(CmosReg.SECONDS)).toBe(0x07);
    set(CmosReg.A, 0x26);
    clock.advance(3000);
    expect(get(CmosReg.SECONDS)).toBe(0x10);
  });

  it('UIP reads 1 only in the last 244 µs before the update; it cannot be written', () => {
    const { set, get, clock } = rtc();
    expect(get(CmosReg.A) & CmosRegA.UIP).toBe(0);
    clock.ms = Date.UTC(2024, 1, 29, 13, 45, 7, 999) + 0.9;
    expect(get(CmosReg.A) & CmosRegA.UIP).toBe(CmosRegA.UIP);
    clock.ms = Date.UTC(2024, 1, 29, 13, 45, 7, 999) + 0.7;
    expect(get(CmosReg.A) & CmosRegA.UIP).toBe(0);
    set(CmosReg.A, 0xa6);
    clock.ms = T0;
    expect(get(CmosReg.A)).toBe(0x26);
  });
});

describe('CMOS interrupts (register B enables, register C flags)', () => {
  it('update-ended: UF each second, IRQF and the line with UIE; reading C clears all and lowers it', () => {
    const { r, set, get, irq, clock } = rtc();
    set(CmosReg.B, CmosRegB.HOUR_24 | CmosRegB.UIE);
    expect(irq.take()).toEqual([]);
    clock.advance(700); // 13:45:07.950: no update yet
    r.tick();
    expect(irq.take()).toEqual([]);
    clock.advance(100); // 13:45:08.050
    r.tick();
    expect(irq.take()).toEqual([true]);
    // PF is set too: the reset rate (RS = 6, 1024 Hz) runs whether or not PIE is set.
    expect(get(CmosReg.C)).toBe(CmosRegC.IRQF | CmosRegC.PF | CmosRegC.UF);
    expect(irq.take()).toEqual([false]);
    expect(get(CmosReg.C)).toBe(0);
    clock.advance(1000);
    r.tick();
    expect(irq.take()).toEqual([true]);
  });

  it('flags are set without their enables (polled), and enabling one already set raises the line', () => {
    const { set, get, irq, clock } = rtc();
    clock.advance(1000);
    expect(get(CmosReg.A) & CmosRegA.UIP).toBe(0); // any access brings the flags up to date
    set(CmosReg.B, CmosRegB.HOUR_24 | CmosRegB.UIE);
    expect(irq.take()).toEqual([true]);
    set(CmosReg.B, CmosRegB.HOUR_24);
    expect(irq.take()).toEqual([false]);
    expect(get(CmosReg.C)).toBe(CmosRegC.UF | CmosRegC.PF); // no IRQF: nothing enabled
  });

  it('alarm: AF when hours/minutes/seconds match, 0xC0–0xFF meaning "any"', () => {
    const { r, set, get, irq, clock } = rtc();
    set(CmosReg.SECONDS_ALARM, 0x10);
    set(CmosReg.MINUTES_ALARM, 0x45);
    set(CmosReg.HOURS_ALARM, 0x13);
    set(CmosReg.B, CmosRegB.HOUR_24 | CmosRegB.AIE);
    clock.advance(2000); // 13:45:09
    r.tick();
    expect(irq.take()).toEqual([]);
    clock.advance(1000); // 13:45:10
    r.tick();
    expect(irq.take()).toEqual([true]);
    expect(get(CmosReg.C) & ~CmosRegC.PF).toBe(CmosRegC.IRQF | CmosRegC.AF | CmosRegC.UF);
    expect(irq.take()).toEqual([false]);
    // "Every minute at :30": hours and minutes don't care; caught even across a long gap.
    set(CmosReg.HOURS_ALARM, 0xff);
    set(CmosReg.MINUTES_ALARM, 0xc0);
    set(CmosReg.SECONDS_ALARM, 0x30);
    clock.advance(19_000); // 13:45:29
    r.tick();
    expect(irq.take()).toEqual([]);
    clock.advance(3_600_000); // an hour later: passed :30 many times
    r.tick();
    expect(irq.take()).toEqual([true]);
  });

  it('periodic: PF at the RS rate while PIE is set (RS = 15: 2 Hz; RS = 6: 1024 Hz)', () => {
    const { r, set, get, irq, clock } = rtc();
    clock.ms = Date.UTC(2024, 1, 29, 13, 45, 7, 0);
    r.tick();
    set(CmosReg.A, 0x2f);
    set(CmosReg.B, CmosRegB.HOUR_24 | CmosRegB.PIE);
    clock.advance(499);
    r.tick();
    expect(irq.take()).toEqual([]);
    clock.advance(1);
    r.tick();
    expect(irq.take()).toEqual([true]);
    expect(get(CmosReg.C) & ~CmosRegC.UF).toBe(CmosRegC.IRQF | CmosRegC.PF);
    expect(irq.take()).toEqual([false]);
    set(CmosReg.A, 0x26);
    clock.advance(0.5); // less than 1/1024 s
    r.tick();
    expect(irq.take()).toEqual([]);
    clock.advance(0.5);
    r.tick();
    expect(irq.take()).toEqual([true]);
  });

  it('setting SET clears UIE; C and D ignore writes', () => {
    const { set, get } = rtc();
    set(CmosReg.B, CmosRegB.SET | CmosRegB.UIE | CmosRegB.HOUR_24);
    expect(get(CmosReg.B)).toBe(CmosRegB.SET | CmosRegB.HOUR_24);
    set(CmosReg.C, 0xff);
    set(CmosReg.D, 0x00);
    expect(get(CmosReg.C)).toBe(0);
    expect(get(CmosReg.D)).toBe(0x80);
  });
});

describe('CMOS RAM, index port and bus accesses', () => {
  it('the 114 RAM bytes read back what was written; the initial contents come from options.nvram', () => {
    const { set, get } = rtc({ nvram: [0x11, 0x22] });
    expect(get(0x0e)).toBe(0x11);
    expect(get(0x0f)).toBe(0x22);
    expect(get(0x10)).toBe(0);
    for (let i = 0x0e; i < 0x80; i++) if (i !== CmosReg.CENTURY) set(i, (i * 7) & 0xff);
    for (let i = 0x0e; i < 0x80; i++) if (i !== CmosReg.CENTURY) expect(get(i)).toBe((i * 7) & 0xff);
    // The alarm bytes are plain storage too.
    set(CmosReg.SECONDS_ALARM, 0x42);
    expect(get(CmosReg.SECONDS_ALARM)).toBe(0x42);
  });

  it('index bit 7 is the NMI mask, not part of the index; the index port reads 0xFF', () => {
    const { r } = rtc();
    r.write(0, 1, 0x80 | CmosReg.D);
    expect(r.nmiDisabled).toBe(true);
    expect(r.read(1, 1)).toBe(0x80);
    expect(r.read(0, 1)).toBe(0xff);
    r.write(0, 1, CmosReg.B);
    expect(r.nmiDisabled).toBe(false);
  });

  it('a 16-bit out to 0x70 writes the index, then the data; ports past 0x71 read 0xFF', () => {
    const { r, get } = rtc();
    r.write(0, 2, (0x5a << 8) | 0x20);
    expect(get(0x20)).toBe(0x5a);
    r.write(0, 1, CmosReg.D);
    expect(r.read(0, 2)).toBe(0x80ff);
    expect(r.read(1, 4)).toBe(0xffff_ff80);
    expect(r.read(2, 1)).toBe(0xff);
  });

  it('bad widths, offsets and values never throw', () => {
    const { r, get } = rtc();
    for (const w of [0, 3, 8, Number.NaN] as unknown as (1 | 2 | 4 | 8)[]) {
      expect(r.read(1, w)).toBe(0);
      expect(() => r.write(0, w, 0x20)).not.toThrow();
    }
    for (const off of [-1, 0.5, Number.NaN, 7]) {
      expect(() => r.read(off, 1)).not.toThrow();
      expect(() => r.write(off, 1, 0x20)).not.toThrow();
    }
    // Garbage BCD in the clock bytes does not break anything either.
    for (const reg of [CmosReg.MONTH, CmosReg.HOURS, CmosReg.YEAR]) {
      r.write(0, 1, reg);
      r.write(1, 1, 0xff);
    }
    expect(() => get(CmosReg.SECONDS)).not.toThrow();
    expect(Number.isFinite(r.time)).toBe(true);
  });

  it('constructor misuse throws clear errors', () => {
    expect(() => new CmosRtc({} as never)).toThrow(/now/);
    expect(() => new CmosRtc(undefined as never)).toThrow(TypeError);
    expect(() => new CmosRtc({ now: () => 0, nvram: new Array(115).fill(0) })).toThrow(RangeError);
    expect(() => new CmosRtc({ now: () => 0, nvram: [256] })).toThrow(/not a byte/);
    expect(() => new CmosRtc({ now: () => 0, irq: null as never })).toThrow(TypeError);
  });

  it('reset() restores the power-on registers and RAM and lowers the line', () => {
    const { r, set, get, irq, clock } = rtc({ nvram: [1] });
    set(0x0e, 9);
    set(CmosReg.B, CmosRegB.HOUR_24 | CmosRegB.UIE | CmosRegB.DM_BINARY);
    clock.advance(1000);
    r.tick();
    expect(irq.take()).toEqual([true]);
    r.reset();
    expect(irq.take()).toEqual([false]);
    expect(get(0x0e)).toBe(1);
    expect(get(CmosReg.B)).toBe(CmosRegB.HOUR_24);
    expect(get(CmosReg.SECONDS)).toBe(0x08);
  });
});
