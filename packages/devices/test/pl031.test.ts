/**
 * The PL031 model driven the way Linux's rtc-pl031 driver uses the `virt` RTC, against
 * the PL031 TRM (ARM DDI 0224) §3.2–§3.3 and QEMU's `hw/rtc/pl031.c`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PL031_BASE, PL031_INTID, Pl031, Pl031Reg } from '../src/index';
import { RecordingIrq, TestClock } from './recording-irq';

/** 2024-02-29 13:45:07.250 UTC: Unix second 1709214307. */
const T0 = Date.UTC(2024, 1, 29, 13, 45, 7, 250);
const T0_SECONDS = 1_709_214_307;

function pl031() {
  const clock = new TestClock(T0);
  const irq = new RecordingIrq();
  const rtc = new Pl031({ now: clock.now, irq });
  const r32 = (off: number) => rtc.read(off, 4);
  const w32 = (off: number, v: number) => rtc.write(off, 4, v);
  return { rtc, clock, irq, r32, w32 };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('PL031 placement, identification and reset', () => {
  it('sits at 0x0901_0000 with a 4 KiB window on INTID 34', () => {
    expect(PL031_BASE).toBe(0x0901_0000);
    expect(PL031_INTID).toBe(34);
    const { rtc } = pl031();
    expect(rtc.size).toBe(0x1000);
    expect(rtc.name).toBe('pl031');
  });

  it('PeriphID 0x31 0x10 0x14 0x00, PCellID 0x0D 0xF0 0x05 0xB1 (§3.3)', () => {
    const { r32 } = pl031();
    const ids = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map(r32);
    expect(ids).toEqual([0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
  });

  it('reset: RTCDR counts Unix seconds from the clock, RTCCR reads 1, the rest 0, line low', () => {
    const { r32, irq } = pl031();
    expect(r32(Pl031Reg.DR)).toBe(T0_SECONDS);
    expect(r32(Pl031Reg.CR)).toBe(1);
    for (const reg of [Pl031Reg.MR, Pl031Reg.LR, Pl031Reg.IMSC, Pl031Reg.RIS, Pl031Reg.MIS, Pl031Reg.ICR]) {
      expect(r32(reg)).toBe(0);
    }
    expect(irq.calls).toEqual([]);
  });

  it('never reads the host clock', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('Date.now() called');
    });
    const { r32, clock, rtc } = pl031();
    clock.advance(2000);
    rtc.tick();
    expect(r32(Pl031Reg.DR)).toBe(T0_SECONDS + 2);
  });
});

describe('PL031 counter: RTCDR and RTCLR (§3.3.1, §3.3.3)', () => {
  it('advances once per second of the clock', () => {
    const { r32, clock, rtc } = pl031();
    clock.advance(749); // .999
    expect(r32(Pl031Reg.DR)).toBe(T0_SECONDS);
    clock.advance(1);
    expect(r32(Pl031Reg.DR)).toBe(T0_SECONDS + 1);
    clock.advance(3600_000);
    expect(rtc.counter).toBe(T0_SECONDS + 3601);
  });

  it('a load sets the counter, which then keeps counting; RTCLR reads back the value loaded', () => {
    const { r32, w32, clock } = pl031();
    w32(Pl031Reg.LR, 1000);
    expect(r32(Pl031Reg.DR)).toBe(1000);
    expect(r32(Pl031Reg.LR)).toBe(1000);
    clock.advance(5000);
    expect(r32(Pl031Reg.DR)).toBe(1005);
    expect(r32(Pl031Reg.LR)).toBe(1000);
  });

  it('the counter wraps at 2^32', () => {
    const { r32, w32, clock } = pl031();
    w32(Pl031Reg.LR, 0xffff_ffff);
    clock.advance(2000);
    expect(r32(Pl031Reg.DR)).toBe(1);
  });

  it('writes to RTCDR, RTCCR, RTCRIS and RTCMIS are ignored', () => {
    const { r32, w32 } = pl031();
    w32(Pl031Reg.DR, 5);
    w32(Pl031Reg.CR, 0);
    w32(Pl031Reg.RIS, 1);
    w32(Pl031Reg.MIS, 1);
    expect(r32(Pl031Reg.DR)).toBe(T0_SECONDS);
    expect(r32(Pl031Reg.CR)).toBe(1);
    expect(r32(Pl031Reg.RIS)).toBe(0);
  });
});

describe('PL031 match interrupt (§3.3.2, §3.3.5–8)', () => {
  it('rises when the counter reaches RTCMR (seen by tick()), RTCICR clears it', () => {
    const { r32, w32, clock, irq, rtc } = pl031();
    w32(Pl031Reg.MR, T0_SECONDS + 2);
    w32(Pl031Reg.IMSC, 1);
    expect(irq.take()).toEqual([]);
    clock.advance(1000);
    rtc.tick();
    expect(irq.take()).toEqual([]);
    expect(r32(Pl031Reg.RIS)).toBe(0);
    clock.advance(1000);
    rtc.tick();
    expect(irq.take()).toEqual([true]);
    expect(r32(Pl031Reg.RIS)).toBe(1);
    expect(r32(Pl031Reg.MIS)).toBe(1);
    w32(Pl031Reg.ICR, 1);
    expect(irq.take()).toEqual([false]);
    expect(r32(Pl031Reg.RIS)).toBe(0);
    // Passing the match value again does not re-raise it; the next match is 2^32 s away.
    clock.advance(10_000);
    rtc.tick();
    expect(irq.take()).toEqual([]);
  });

  it('a match passed between two checks is still caught; a register read also checks', () => {
    const { r32, w32, clock, irq } = pl031();
    w32(Pl031Reg.IMSC, 1);
    w32(Pl031Reg.MR, T0_SECONDS + 5);
    clock.advance(60_000); // no tick() in between
    expect(r32(Pl031Reg.RIS)).toBe(1);
    expect(irq.take()).toEqual([true]);
  });

  it('writing RTCMR or RTCLR so that they are equal matches at once', () => {
    const { r32, w32, irq } = pl031();
    w32(Pl031Reg.IMSC, 1);
    w32(Pl031Reg.MR, T0_SECONDS);
    expect(irq.take()).toEqual([true]);
    w32(Pl031Reg.ICR, 1);
    expect(irq.take()).toEqual([false]);
    w32(Pl031Reg.MR, 500);
    expect(irq.take()).toEqual([]);
    w32(Pl031Reg.LR, 500);
    expect(irq.take()).toEqual([true]);
    expect(r32(Pl031Reg.DR)).toBe(500);
  });

  it('a load moves the counter past the match without matching; counting up to it after a load does', () => {
    const { r32, w32, clock, rtc } = pl031();
    w32(Pl031Reg.MR, 100);
    w32(Pl031Reg.LR, 200); // jumps over 100
    clock.advance(5000);
    rtc.tick();
    expect(r32(Pl031Reg.RIS)).toBe(0);
    w32(Pl031Reg.LR, 98);
    clock.advance(2000);
    expect(r32(Pl031Reg.RIS)).toBe(1);
  });

  it('the mask gates only the line: RIS is raw, MIS and the line follow IMSC', () => {
    const { r32, w32, clock, irq, rtc } = pl031();
    w32(Pl031Reg.MR, T0_SECONDS + 1);
    clock.advance(1000);
    rtc.tick();
    expect(r32(Pl031Reg.RIS)).toBe(1);
    expect(r32(Pl031Reg.MIS)).toBe(0);
    expect(irq.take()).toEqual([]);
    w32(Pl031Reg.IMSC, 0xffff_ffff);
    expect(r32(Pl031Reg.IMSC)).toBe(1);
    expect(irq.take()).toEqual([true]);
    w32(Pl031Reg.IMSC, 0);
    expect(irq.take()).toEqual([false]);
    expect(rtc.irqAsserted).toBe(false);
  });

  it('matches across the 2^32 wrap', () => {
    const { r32, w32, clock } = pl031();
    w32(Pl031Reg.LR, 0xffff_fffe);
    w32(Pl031Reg.MR, 1);
    clock.advance(2000);
    expect(r32(Pl031Reg.RIS)).toBe(0);
    clock.advance(1000);
    expect(r32(Pl031Reg.RIS)).toBe(1);
  });
});

describe('PL031 bus accesses and robustness', () => {
  it('narrow reads take byte lanes; 8-byte accesses are two words; misaligned and unknown offsets read 0', () => {
    const { rtc, r32, w32 } = pl031();
    w32(Pl031Reg.LR, 0x1234_5678);
    expect(rtc.read(Pl031Reg.DR, 1)).toBe(0x78);
    expect(rtc.read(Pl031Reg.DR + 2, 2)).toBe(0x1234);
    expect(rtc.read(Pl031Reg.DR, 8)).toBe(0 * 2 ** 32 + 0x1234_5678); // RTCDR, RTCMR
    rtc.write(Pl031Reg.LR, 8, 0x0000_0000_0000_0042); // RTCLR = 0x42, then RTCCR (ignored)
    expect(r32(Pl031Reg.DR)).toBe(0x42);
    expect(r32(Pl031Reg.CR)).toBe(1);
    rtc.write(Pl031Reg.MR, 8, 0x43); // 0x004 is not 8-byte aligned: ignored
    expect(r32(Pl031Reg.MR)).toBe(0);
    expect(rtc.read(Pl031Reg.DR + 1, 4)).toBe(0);
    for (const off of [0x020, 0x100, 0xfdc]) expect(r32(off)).toBe(0);
    expect(rtc.read(0x1000, 4)).toBe(0);
  });

  it('bad widths, offsets, values or clock readings never throw', () => {
    let ms = Number.NaN;
    const rtc = new Pl031({ now: () => ms });
    for (const w of [0, 3, Number.NaN] as unknown as (1 | 2 | 4 | 8)[]) {
      expect(rtc.read(0, w)).toBe(0);
      expect(() => rtc.write(Pl031Reg.LR, w, 1)).not.toThrow();
    }
    for (const off of [-4, 0.5, Number.NaN]) {
      expect(() => rtc.read(off, 4)).not.toThrow();
      expect(() => rtc.write(off, 4, 1)).not.toThrow();
    }
    for (const v of [Number.NaN, 2 ** 70, -1]) expect(() => rtc.write(Pl031Reg.LR, 4, v)).not.toThrow();
    expect(rtc.read(Pl031Reg.DR, 4)).toBe(0xffff_ffff); // the last load, -1, with the NaN clock read as 0
    ms = 0;
    expect(() => rtc.tick()).not.toThrow();
  });

  it('constructor misuse throws clear errors', () => {
    expect(() => new Pl031({} as never)).toThrow(/now/);
    expect(() => new Pl031(null as never)).toThrow(TypeError);
    expect(() => new Pl031({ now: () => 0, irq: 3 as never })).toThrow(TypeError);
    expect(() => new Pl031({ now: () => 0, name: 7 as never })).toThrow(TypeError);
  });

  it('reset() returns the counter to the clock and clears the registers and the line', () => {
    const { rtc, r32, w32, irq } = pl031();
    w32(Pl031Reg.IMSC, 1);
    w32(Pl031Reg.LR, 7);
    w32(Pl031Reg.MR, 7);
    expect(irq.take()).toEqual([true]);
    rtc.reset();
    expect(irq.take()).toEqual([false]);
    expect(r32(Pl031Reg.DR)).toBe(T0_SECONDS);
    expect(r32(Pl031Reg.MR)).toBe(0);
    expect(r32(Pl031Reg.IMSC)).toBe(0);
  });
});
