/**
 * The PL011 model driven the way an AArch64 console driver drives the `virt` UART,
 * against the PL011 TRM (ARM DDI 0183) §3.2–§3.4 and QEMU's `hw/char/pl011.c`.
 */
import { describe, expect, it } from 'vitest';
import {
  PL011_BASE,
  PL011_INTID,
  Pl011,
  Pl011Cr,
  Pl011Dr,
  Pl011Fr,
  Pl011Int,
  Pl011Lcrh,
  Pl011Reg,
  Pl011Rsr,
} from '../src/index';
import { RecordingIrq } from './recording-irq';

const ENABLED = Pl011Cr.UARTEN | Pl011Cr.TXE | Pl011Cr.RXE;

function pl011(options: { fifoDepth?: 16 | 32; onTransmit?: (b: number) => void } = {}) {
  const irq = new RecordingIrq();
  const u = new Pl011({ irq, ...options });
  const w32 = (off: number, v: number) => u.write(off, 4, v);
  const r32 = (off: number) => u.read(off, 4);
  return { u, irq, w32, r32 };
}

/** The init sequence of a typical driver: disable, 115200 8N1 with FIFOs, enable. */
function initialised(options: { fifoDepth?: 16 | 32 } = {}) {
  const t = pl011(options);
  t.w32(Pl011Reg.CR, 0);
  t.w32(Pl011Reg.IBRD, 13); // 24 MHz / (16 × 115200) = 13.02
  t.w32(Pl011Reg.FBRD, 1);
  t.w32(Pl011Reg.LCR_H, Pl011Lcrh.WLEN_8 | Pl011Lcrh.FEN);
  t.w32(Pl011Reg.ICR, Pl011Int.ALL);
  t.w32(Pl011Reg.CR, ENABLED);
  return t;
}

describe('PL011 placement, identification and reset values (TRM §3.2, §3.3.15–22)', () => {
  it('sits at 0x0900_0000 with a 4 KiB window on INTID 33', () => {
    expect(PL011_BASE).toBe(0x0900_0000);
    expect(PL011_INTID).toBe(33);
    const u = new Pl011();
    expect(u.size).toBe(0x1000);
    expect(u.name).toBe('pl011');
  });

  it('reset: FR 0x90, CR 0x300, IFLS 0x12, everything else 0, line low', () => {
    const { irq, r32 } = pl011();
    expect(r32(Pl011Reg.FR)).toBe(Pl011Fr.TXFE | Pl011Fr.RXFE);
    expect(r32(Pl011Reg.CR)).toBe(0x300);
    expect(r32(Pl011Reg.IFLS)).toBe(0x12);
    for (const reg of [
      Pl011Reg.RSR_ECR,
      Pl011Reg.ILPR,
      Pl011Reg.IBRD,
      Pl011Reg.FBRD,
      Pl011Reg.LCR_H,
      Pl011Reg.IMSC,
      Pl011Reg.RIS,
      Pl011Reg.MIS,
      Pl011Reg.DMACR,
    ]) {
      expect(r32(reg)).toBe(0);
    }
    expect(irq.calls).toEqual([]);
  });

  it('PrimeCell IDs: PeriphID 0x11 0x10 0x34 0x00 (r1p5, 32-deep FIFOs) and PCellID 0x0D 0xF0 0x05 0xB1', () => {
    const { r32 } = pl011();
    const ids = [0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc].map(r32);
    expect(ids).toEqual([0x11, 0x10, 0x34, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
    // With 16-deep FIFOs it reports the revision QEMU's PL011 reports.
    expect(pl011({ fifoDepth: 16 }).r32(0xfe8)).toBe(0x14);
    expect(pl011({ fifoDepth: 16 }).u.fifoDepth).toBe(16);
  });

  it('baud-rate and line-control registers keep their implemented bits', () => {
    const { r32, w32 } = pl011();
    w32(Pl011Reg.IBRD, 0xffff_ffff);
    w32(Pl011Reg.FBRD, 0xffff_ffff);
    w32(Pl011Reg.LCR_H, 0xffff_ffff);
    w32(Pl011Reg.ILPR, 0xffff_ffff);
    w32(Pl011Reg.IFLS, 0xffff_ffff);
    w32(Pl011Reg.DMACR, 0xffff_ffff);
    w32(Pl011Reg.IMSC, 0xffff_ffff);
    w32(Pl011Reg.CR, 0xffff_ffff & ~Pl011Cr.UARTEN);
    expect(r32(Pl011Reg.IBRD)).toBe(0xffff);
    expect(r32(Pl011Reg.FBRD)).toBe(0x3f);
    expect(r32(Pl011Reg.LCR_H)).toBe(0xff);
    expect(r32(Pl011Reg.ILPR)).toBe(0xff);
    expect(r32(Pl011Reg.IFLS)).toBe(0x3f);
    expect(r32(Pl011Reg.DMACR)).toBe(0x7);
    expect(r32(Pl011Reg.IMSC)).toBe(0x7ff);
    expect(r32(Pl011Reg.CR)).toBe(0xff86); // bits 6:3 reserved
  });
});

describe('PL011 transmit and the UARTEN/TXE enables (§3.3.1, §3.3.3, §3.3.8)', () => {
  it('an enabled transmitter sends each DR write to the host at once', () => {
    const { u, r32, w32 } = initialised();
    for (const c of 'ok\n') w32(Pl011Reg.DR, c.charCodeAt(0));
    expect(u.takeOutput()).toBe('ok\n');
    expect(r32(Pl011Reg.FR) & (Pl011Fr.TXFE | Pl011Fr.BUSY | Pl011Fr.TXFF)).toBe(Pl011Fr.TXFE);
  });

  it('while UARTEN or TXE is clear, written data waits in the FIFO (BUSY) and goes out on enable', () => {
    const { u, r32, w32 } = pl011();
    w32(Pl011Reg.LCR_H, Pl011Lcrh.FEN | Pl011Lcrh.WLEN_8);
    // Reset CR has TXE and RXE but not UARTEN: a driver that never enables sends nothing.
    w32(Pl011Reg.DR, 0x61);
    w32(Pl011Reg.DR, 0x62);
    expect(u.transmitted).toEqual([]);
    expect(r32(Pl011Reg.FR) & (Pl011Fr.TXFE | Pl011Fr.BUSY)).toBe(Pl011Fr.BUSY);
    w32(Pl011Reg.CR, Pl011Cr.UARTEN); // TXE now clear: still held
    expect(u.transmitted).toEqual([]);
    w32(Pl011Reg.CR, Pl011Cr.UARTEN | Pl011Cr.TXE);
    expect(u.takeOutput()).toBe('ab');
    expect(r32(Pl011Reg.FR) & (Pl011Fr.TXFE | Pl011Fr.BUSY)).toBe(Pl011Fr.TXFE);
  });

  it('a disabled transmitter fills its FIFO (TXFF) and loses writes beyond it', () => {
    const { u, r32, w32 } = pl011();
    w32(Pl011Reg.LCR_H, Pl011Lcrh.FEN);
    for (let i = 0; i < 40; i++) w32(Pl011Reg.DR, 0x30 + (i % 10));
    expect(r32(Pl011Reg.FR) & Pl011Fr.TXFF).toBe(Pl011Fr.TXFF);
    w32(Pl011Reg.CR, ENABLED);
    expect(u.transmitted.length).toBe(32);
    // FEN clear: the holding register is one byte.
    const t = pl011();
    t.w32(Pl011Reg.DR, 0x41);
    expect(t.r32(Pl011Reg.FR) & (Pl011Fr.TXFF | Pl011Fr.BUSY)).toBe(Pl011Fr.TXFF | Pl011Fr.BUSY);
    t.w32(Pl011Reg.DR, 0x42);
    t.w32(Pl011Reg.CR, ENABLED);
    expect(t.u.takeOutput()).toBe('A');
  });

  it('TX interrupt: clear after enabling with an empty FIFO, set once data has drained, cleared by ICR', () => {
    const { u, irq, r32, w32 } = initialised();
    w32(Pl011Reg.IMSC, Pl011Int.TX);
    expect(r32(Pl011Reg.RIS) & Pl011Int.TX).toBe(0); // TRM: no TX interrupt before data passes
    expect(irq.take()).toEqual([]);
    w32(Pl011Reg.DR, 0x21);
    expect(irq.take()).toEqual([true]);
    expect(r32(Pl011Reg.MIS)).toBe(Pl011Int.TX);
    w32(Pl011Reg.ICR, Pl011Int.TX);
    expect(irq.take()).toEqual([false]);
    expect(r32(Pl011Reg.RIS) & Pl011Int.TX).toBe(0);
    expect(u.takeOutput()).toBe('!');
  });

  it('with FEN clear, a DR write fills the holding register (TX drops) and sending it empties it (TX rises)', () => {
    const { irq, w32 } = pl011();
    w32(Pl011Reg.CR, ENABLED);
    w32(Pl011Reg.IMSC, Pl011Int.TX);
    w32(Pl011Reg.DR, 0x31);
    expect(irq.take()).toEqual([true]);
    w32(Pl011Reg.DR, 0x32);
    expect(irq.take()).toEqual([false, true]);
  });

  it('onTransmit receives the bytes instead of the buffer', () => {
    const seen: number[] = [];
    const t = pl011({ onTransmit: (b) => seen.push(b) });
    t.w32(Pl011Reg.CR, ENABLED);
    t.w32(Pl011Reg.DR, 0x1b5a); // only bits 7:0 are data
    expect(seen).toEqual([0x5a]);
    expect(t.u.transmitted).toEqual([]);
  });
});

describe('PL011 receive, FIFO flags and interrupts (§3.3.3, §3.3.9–13, §3.4)', () => {
  it('received bytes come out of DR in order; FR tracks RXFE/RXFF', () => {
    const { u, r32 } = initialised();
    expect(u.rxFree).toBe(32);
    u.receive('hello');
    expect(r32(Pl011Reg.FR) & (Pl011Fr.RXFE | Pl011Fr.RXFF)).toBe(0);
    let got = '';
    while (!(r32(Pl011Reg.FR) & Pl011Fr.RXFE)) got += String.fromCharCode(r32(Pl011Reg.DR) & 0xff);
    expect(got).toBe('hello');
    u.receive('x'.repeat(32));
    expect(r32(Pl011Reg.FR) & Pl011Fr.RXFF).toBe(Pl011Fr.RXFF);
    expect(u.rxFree).toBe(0);
  });

  it('the receiver takes nothing unless UARTEN and RXE are set', () => {
    const { u, r32, w32 } = pl011();
    expect(u.rxFree).toBe(0);
    u.receive('lost'); // reset CR: UARTEN clear
    expect(r32(Pl011Reg.FR) & Pl011Fr.RXFE).toBe(Pl011Fr.RXFE);
    w32(Pl011Reg.CR, Pl011Cr.UARTEN | Pl011Cr.TXE);
    u.receive('lost');
    expect(r32(Pl011Reg.FR) & Pl011Fr.RXFE).toBe(Pl011Fr.RXFE);
    w32(Pl011Reg.CR, ENABLED);
    u.receive('o');
    expect(r32(Pl011Reg.DR)).toBe(0x6f);
  });

  it('RX at the IFLS level, RT when the line goes idle below it; reads clear each', () => {
    const { u, irq, r32, w32 } = initialised();
    w32(Pl011Reg.IFLS, 0); // RX at ≥ 1/8 full = 4 of 32
    w32(Pl011Reg.IMSC, Pl011Int.RX | Pl011Int.RT);
    u.receive('abc');
    expect(r32(Pl011Reg.RIS) & (Pl011Int.RX | Pl011Int.RT)).toBe(Pl011Int.RT);
    expect(irq.take()).toEqual([true]);
    u.receive('d');
    expect(r32(Pl011Reg.MIS)).toBe(Pl011Int.RX | Pl011Int.RT);
    r32(Pl011Reg.DR); // 3 left: below the level, RX drops; RT stays while data waits
    expect(r32(Pl011Reg.MIS)).toBe(Pl011Int.RT);
    r32(Pl011Reg.DR);
    r32(Pl011Reg.DR);
    expect(irq.take()).toEqual([]);
    expect(r32(Pl011Reg.DR)).toBe(0x64);
    expect(irq.take()).toEqual([false]);
    expect(r32(Pl011Reg.RIS)).toBe(0);
  });

  it('the default IFLS (0x12) raises RX at half full; ICR clears RX and RT while data remains', () => {
    const { u, irq, r32, w32 } = initialised();
    w32(Pl011Reg.IMSC, Pl011Int.RX);
    u.receive('x'.repeat(15));
    expect(irq.take()).toEqual([]); // RT is raw-only here (RTIM clear)
    expect(r32(Pl011Reg.RIS)).toBe(Pl011Int.RT);
    u.receive('x');
    expect(irq.take()).toEqual([true]);
    w32(Pl011Reg.ICR, Pl011Int.RX | Pl011Int.RT);
    expect(irq.take()).toEqual([false]);
    expect(r32(Pl011Reg.RIS)).toBe(0);
  });

  it('with FEN clear, every character raises RX and reading the holding register clears it', () => {
    const { u, irq, r32, w32 } = pl011();
    w32(Pl011Reg.CR, ENABLED);
    w32(Pl011Reg.IMSC, Pl011Int.RX);
    u.receive('k');
    expect(irq.take()).toEqual([true]);
    expect(r32(Pl011Reg.FR) & Pl011Fr.RXFF).toBe(Pl011Fr.RXFF);
    expect(r32(Pl011Reg.DR)).toBe(0x6b);
    expect(irq.take()).toEqual([false]);
  });

  it('overrun: the extra character is lost; RSR.OE, RIS.OE and DR bit 11 report it; ECR and ICR clear', () => {
    const { u, irq, r32, w32 } = pl011();
    w32(Pl011Reg.CR, ENABLED);
    w32(Pl011Reg.IMSC, Pl011Int.OE);
    u.receive('12');
    expect(irq.take()).toEqual([true]);
    expect(r32(Pl011Reg.RSR_ECR)).toBe(Pl011Rsr.OE);
    expect(r32(Pl011Reg.DR)).toBe(Pl011Dr.OE | 0x31);
    u.receive('3'); // a new character is stored: the DR overrun flag is cleared
    expect(r32(Pl011Reg.DR)).toBe(0x33);
    expect(r32(Pl011Reg.RSR_ECR)).toBe(Pl011Rsr.OE); // sticky until ECR
    w32(Pl011Reg.RSR_ECR, 0);
    expect(r32(Pl011Reg.RSR_ECR)).toBe(0);
    expect(irq.take()).toEqual([]);
    w32(Pl011Reg.ICR, Pl011Int.OE);
    expect(irq.take()).toEqual([false]);
  });

  it('IMSC masks: RIS shows raw state, MIS and the line only the unmasked part', () => {
    const { u, irq, r32, w32 } = initialised();
    u.receive('z');
    expect(r32(Pl011Reg.RIS)).toBe(Pl011Int.RT);
    expect(r32(Pl011Reg.MIS)).toBe(0);
    expect(irq.take()).toEqual([]);
    w32(Pl011Reg.IMSC, Pl011Int.RT);
    expect(irq.take()).toEqual([true]);
    w32(Pl011Reg.IMSC, 0);
    expect(irq.take()).toEqual([false]);
    expect(u.irqAsserted).toBe(false);
  });

  it('changing FEN empties both FIFOs', () => {
    const { u, r32, w32 } = initialised();
    u.receive('abc');
    w32(Pl011Reg.LCR_H, Pl011Lcrh.WLEN_8);
    expect(r32(Pl011Reg.FR) & Pl011Fr.RXFE).toBe(Pl011Fr.RXFE);
    expect(r32(Pl011Reg.RIS) & Pl011Int.RT).toBe(0);
  });
});

describe('PL011 loopback (CR.LBE)', () => {
  it('transmitted bytes come back through the receiver; host input is ignored', () => {
    const { u, r32, w32 } = initialised();
    w32(Pl011Reg.CR, ENABLED | Pl011Cr.LBE);
    w32(Pl011Reg.DR, 0x55);
    expect(r32(Pl011Reg.DR)).toBe(0x55);
    expect(u.transmitted).toEqual([0x55]); // as in QEMU, the byte also reaches the host
    u.receive('no');
    expect(u.rxFree).toBe(0);
    expect(r32(Pl011Reg.FR) & Pl011Fr.RXFE).toBe(Pl011Fr.RXFE);
  });

  it('modem outputs loop to the FR inputs and raise the modem interrupts', () => {
    const { r32, w32 } = initialised();
    w32(Pl011Reg.CR, ENABLED | Pl011Cr.LBE | Pl011Cr.RTS | Pl011Cr.DTR | Pl011Cr.OUT1 | Pl011Cr.OUT2);
    const fr = r32(Pl011Reg.FR);
    expect(fr & (Pl011Fr.CTS | Pl011Fr.DSR | Pl011Fr.DCD | Pl011Fr.RI)).toBe(
      Pl011Fr.CTS | Pl011Fr.DSR | Pl011Fr.DCD | Pl011Fr.RI,
    );
    expect(r32(Pl011Reg.RIS) & 0xf).toBe(Pl011Int.CTS | Pl011Int.DSR | Pl011Int.DCD | Pl011Int.RI);
    w32(Pl011Reg.ICR, Pl011Int.ALL);
    w32(Pl011Reg.CR, ENABLED);
    expect(r32(Pl011Reg.FR) & 0x107).toBe(0);
    expect(r32(Pl011Reg.RIS) & 0xf).toBe(0xf);
  });
});

describe('PL011 bus accesses and robustness', () => {
  it('byte and halfword accesses use the register byte lanes; 8-byte accesses are two words', () => {
    const { u, r32 } = initialised();
    u.write(Pl011Reg.DR, 1, 0x41); // earlycon-style writeb
    expect(u.takeOutput()).toBe('A');
    expect(u.read(Pl011Reg.FR, 1)).toBe(Pl011Fr.TXFE | Pl011Fr.RXFE);
    expect(u.read(Pl011Reg.CR, 2)).toBe(0x301);
    expect(u.read(Pl011Reg.CR + 1, 1)).toBe(0x03);
    u.write(Pl011Reg.CR, 2, 0x0301);
    expect(r32(Pl011Reg.CR)).toBe(0x301);
    u.write(Pl011Reg.IMSC + 1, 1, 0x04); // lane 1: IMSC = 0x400 (the other lanes are zero)
    expect(r32(Pl011Reg.IMSC)).toBe(0x400);
    expect(u.read(0xff8, 8)).toBe(0xb1 * 2 ** 32 + 0x05);
    u.write(Pl011Reg.FBRD, 8, 0x0000_0070_0000_0002); // FBRD = 2, then LCR_H = 0x70
    expect(r32(Pl011Reg.FBRD)).toBe(2);
    expect(r32(Pl011Reg.LCR_H)).toBe(0x70);
    u.write(Pl011Reg.IBRD, 8, 7); // 0x24 is not 8-byte aligned: ignored
    expect(r32(Pl011Reg.IBRD)).toBe(13);
  });

  it('unknown, write-only, misaligned and out-of-window accesses read 0 and write nothing', () => {
    const { u, r32 } = initialised();
    for (const off of [0x00c, 0x04c, 0x080, 0xfdc, Pl011Reg.ICR]) expect(r32(off)).toBe(0);
    expect(u.read(Pl011Reg.CR + 1, 4)).toBe(0);
    expect(u.read(0x1000, 4)).toBe(0);
    expect(u.read(0xffe, 4)).toBe(0);
    u.write(Pl011Reg.CR + 2, 4, 0);
    u.write(Pl011Reg.FR, 4, 0);
    expect(r32(Pl011Reg.CR)).toBe(ENABLED);
    expect(r32(Pl011Reg.FR)).toBe(Pl011Fr.TXFE | Pl011Fr.RXFE);
  });

  it('bad widths, offsets and values never throw', () => {
    const { u } = initialised();
    for (const w of [0, 3, 5, Number.NaN] as unknown as (1 | 2 | 4 | 8)[]) {
      expect(u.read(0, w)).toBe(0);
      expect(() => u.write(0, w, 0x41)).not.toThrow();
    }
    for (const off of [-4, 0.5, Number.NaN, 2 ** 60]) {
      expect(u.read(off, 4)).toBe(0);
      expect(() => u.write(off, 4, 1)).not.toThrow();
    }
    for (const v of [Number.NaN, -1, 2 ** 70, Number.POSITIVE_INFINITY]) {
      expect(() => u.write(Pl011Reg.IMSC, 4, v)).not.toThrow();
      expect(() => u.write(Pl011Reg.IMSC, 8, v)).not.toThrow();
    }
    expect(u.transmitted).toEqual([]);
  });

  it('constructor and host misuse throw clear errors', () => {
    expect(() => new Pl011({ fifoDepth: 8 as never })).toThrow(RangeError);
    expect(() => new Pl011({ irq: { set: 1 } as never })).toThrow(TypeError);
    expect(() => new Pl011({ onTransmit: 'x' as never })).toThrow(TypeError);
    expect(() => initialised().u.receive([-1])).toThrow(RangeError);
  });

  it('reset() restores the reset values, empties the FIFOs and lowers the line', () => {
    const { u, irq, r32, w32 } = initialised();
    w32(Pl011Reg.IMSC, Pl011Int.RT);
    u.receive('abc');
    expect(irq.take()).toEqual([true]);
    u.reset();
    expect(irq.take()).toEqual([false]);
    expect(r32(Pl011Reg.CR)).toBe(0x300);
    expect(r32(Pl011Reg.FR)).toBe(0x90);
    expect(r32(Pl011Reg.IMSC)).toBe(0);
  });
});
