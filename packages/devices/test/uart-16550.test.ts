/**
 * The 16550A model driven the way a PC serial driver drives COM1, against the PC16550D
 * datasheet (Table II register summary, Table III reset configuration, Table IV
 * interrupt control functions, §8 register descriptions).
 */
import { describe, expect, it } from 'vitest';
import {
  COM1_IRQ,
  COM1_PORT,
  Uart16550,
  UartFcr,
  UartIer,
  UartIir,
  UartLcr,
  UartLsr,
  UartMcr,
  UartMsr,
  UartReg,
} from '../src/index';
import { RecordingIrq } from './recording-irq';

function uart(options: { onTransmit?: (b: number) => void } = {}) {
  const irq = new RecordingIrq();
  const u = new Uart16550({ irq, ...options });
  const outb = (reg: number, value: number) => u.write(reg, 1, value);
  const inb = (reg: number) => u.read(reg, 1);
  return { u, irq, outb, inb };
}

describe('16550 placement and reset (Table III)', () => {
  it('COM1 is ports 0x3F8–0x3FF on IRQ 4', () => {
    expect(COM1_PORT).toBe(0x3f8);
    expect(COM1_IRQ).toBe(4);
    expect(new Uart16550().portCount).toBe(8);
    expect(new Uart16550().name).toBe('uart16550');
    expect(new Uart16550({ name: 'com2' }).name).toBe('com2');
  });

  it('powers up with IER 0, IIR 0x01, LCR 0, MCR 0, LSR 0x60, MSR 0xB0, SCR 0 and the line low', () => {
    const { irq, inb } = uart();
    expect(inb(UartReg.IER)).toBe(0);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
    expect(inb(UartReg.LCR)).toBe(0);
    expect(inb(UartReg.MCR)).toBe(0);
    expect(inb(UartReg.LSR)).toBe(UartLsr.THRE | UartLsr.TEMT);
    expect(inb(UartReg.MSR)).toBe(UartMsr.DCD | UartMsr.DSR | UartMsr.CTS);
    expect(inb(UartReg.SCR)).toBe(0);
    expect(irq.calls).toEqual([]);
  });
});

describe('16550 line setup: divisor latch and LCR (§8.1, §8.3)', () => {
  it('DLAB exposes DLL/DLM at offsets 0/1; clearing it brings back RBR/THR and IER', () => {
    const { u, inb, outb } = uart();
    expect(u.divisor).toBe(12); // 9600 baud, as QEMU starts
    outb(UartReg.LCR, UartLcr.DLAB);
    outb(UartReg.DLL, 0x01);
    outb(UartReg.DLM, 0x00);
    expect(inb(UartReg.DLL)).toBe(0x01);
    expect(inb(UartReg.DLM)).toBe(0x00);
    outb(UartReg.LCR, UartLcr.WORD_8); // 8N1, DLAB off
    expect(inb(UartReg.LCR)).toBe(0x03);
    expect(u.divisor).toBe(1);
    expect(u.baudRate).toBe(115_200);
    // With DLAB clear, offset 1 is IER again and offset 0 does not touch the divisor.
    outb(UartReg.IER, 0);
    outb(UartReg.THR, 0x41);
    expect(u.divisor).toBe(1);
    expect(u.takeOutput()).toBe('A');
    outb(UartReg.LCR, UartLcr.DLAB);
    outb(UartReg.DLL, 0x80);
    outb(UartReg.DLM, 0x01);
    expect(u.divisor).toBe(0x180);
    expect(u.baudRate).toBe(300);
    outb(UartReg.DLL, 0);
    outb(UartReg.DLM, 0);
    expect(u.baudRate).toBe(0);
  });

  it('DLAB reads of offset 0 do not consume received data', () => {
    const { u, inb, outb } = uart();
    u.receive('x');
    outb(UartReg.LCR, UartLcr.DLAB);
    inb(UartReg.DLL);
    outb(UartReg.LCR, 0x03);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(UartLsr.DR);
    expect(inb(UartReg.RBR)).toBe(0x78);
  });

  it('SCR keeps whatever is written; LSR and MSR ignore writes', () => {
    const { inb, outb } = uart();
    outb(UartReg.SCR, 0x5a);
    expect(inb(UartReg.SCR)).toBe(0x5a);
    outb(UartReg.LSR, 0x00);
    outb(UartReg.MSR, 0x00);
    expect(inb(UartReg.LSR)).toBe(0x60);
    expect(inb(UartReg.MSR)).toBe(0xb0);
  });
});

describe('16550 transmit', () => {
  it('bytes written to THR reach the host in order; takeOutput decodes UTF-8 across calls', () => {
    const { u, outb, inb } = uart();
    for (const b of Buffer.from('hé')) outb(UartReg.THR, b);
    expect(u.transmitted).toEqual([0x68, 0xc3, 0xa9]);
    expect(inb(UartReg.LSR) & (UartLsr.THRE | UartLsr.TEMT)).toBe(0x60);
    expect(u.takeOutput()).toBe('hé');
    expect(u.transmitted).toEqual([]);
    const euro = Buffer.from('€'); // three bytes, split across two takes
    outb(UartReg.THR, euro[0]!);
    expect(u.takeOutput()).toBe('');
    outb(UartReg.THR, euro[1]!);
    outb(UartReg.THR, euro[2]!);
    expect(u.takeOutput()).toBe('€');
  });

  it('an onTransmit callback receives the bytes instead of the buffer', () => {
    const seen: number[] = [];
    const { u, outb } = uart({ onTransmit: (b) => seen.push(b) });
    outb(UartReg.THR, 0x4f);
    outb(UartReg.THR, 0x4b);
    expect(seen).toEqual([0x4f, 0x4b]);
    expect(u.transmitted).toEqual([]);
    expect(u.takeOutput()).toBe('');
  });

  it('THR-empty interrupt: raised by enabling ETBEI, cleared by reading IIR, re-raised by each THR write', () => {
    const { irq, inb, outb } = uart();
    outb(UartReg.IER, UartIer.ETBEI);
    expect(irq.take()).toEqual([true]);
    expect(inb(UartReg.IIR)).toBe(UartIir.THR_EMPTY);
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE); // reading IIR cleared it
    // Writing THR sends the byte; the THR empties again at once and the interrupt returns.
    outb(UartReg.THR, 0x31);
    expect(irq.take()).toEqual([true]);
    // A THR write while the interrupt is pending drops the line and raises it again: an
    // edge-triggered PIC sees one interrupt per byte.
    outb(UartReg.THR, 0x32);
    expect(irq.take()).toEqual([false, true]);
    outb(UartReg.IER, 0);
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
  });
});

describe('16550 receive in 16450 (non-FIFO) mode', () => {
  it('a received byte sets LSR.DR, raises RX data when ERBFI is set, and reading RBR clears both', () => {
    const { u, irq, inb, outb } = uart();
    outb(UartReg.IER, UartIer.ERBFI);
    expect(irq.take()).toEqual([]);
    u.receive('A');
    expect(irq.take()).toEqual([true]);
    expect(inb(UartReg.LSR)).toBe(UartLsr.DR | UartLsr.THRE | UartLsr.TEMT);
    expect(inb(UartReg.IIR)).toBe(UartIir.RX_DATA);
    expect(inb(UartReg.RBR)).toBe(0x41);
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(0);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
  });

  it('without ERBFI the byte is only visible through LSR (polled driver)', () => {
    const { u, irq, inb } = uart();
    u.receive([0x0d]);
    expect(irq.calls).toEqual([]);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(UartLsr.DR);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
    expect(inb(UartReg.RBR)).toBe(0x0d);
  });

  it('overrun: the new byte overwrites the unread one, LSR.OE is set and reading LSR clears it', () => {
    const { u, irq, inb, outb } = uart();
    outb(UartReg.IER, UartIer.ERBFI | UartIer.ELSI);
    expect(u.rxFree).toBe(1);
    u.receive('AB');
    expect(irq.take()).toEqual([true]);
    // Line status outranks received data (Table IV).
    expect(inb(UartReg.IIR)).toBe(UartIir.RX_LINE_STATUS);
    expect(inb(UartReg.LSR)).toBe(UartLsr.DR | UartLsr.OE | UartLsr.THRE | UartLsr.TEMT);
    expect(inb(UartReg.LSR) & UartLsr.OE).toBe(0);
    expect(inb(UartReg.IIR)).toBe(UartIir.RX_DATA);
    expect(inb(UartReg.RBR)).toBe(0x42);
    expect(irq.take()).toEqual([false]);
  });
});

describe('16550 FIFO mode (§8.5, §8.6, §8.11)', () => {
  it('FCR bit 0 enables the FIFOs: IIR bits 7:6 read 11; FCR writes without bit 0 program nothing', () => {
    const { inb, outb } = uart();
    outb(UartReg.FCR, UartFcr.ENABLE | UartFcr.CLEAR_RX | UartFcr.CLEAR_TX | UartFcr.TRIGGER_14);
    expect(inb(UartReg.IIR)).toBe(UartIir.FIFOS_ENABLED | UartIir.NONE);
    outb(UartReg.FCR, UartFcr.TRIGGER_4); // bit 0 clear: FIFOs off
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
  });

  it('holds 16 bytes; the 17th is lost with LSR.OE set and the FIFO contents kept', () => {
    const { u, inb, outb } = uart();
    outb(UartReg.FCR, UartFcr.ENABLE);
    expect(u.rxFree).toBe(16);
    u.receive('0123456789abcdefXYZ');
    expect(u.rxFree).toBe(0);
    expect(inb(UartReg.LSR)).toBe(UartLsr.DR | UartLsr.OE | UartLsr.THRE | UartLsr.TEMT);
    let got = '';
    while (inb(UartReg.LSR) & UartLsr.DR) got += String.fromCharCode(inb(UartReg.RBR));
    expect(got).toBe('0123456789abcdef');
  });

  it('trigger level and character timeout: IIR 0xCC below the level, 0xC4 at it, line follows', () => {
    const { u, irq, inb, outb } = uart();
    outb(UartReg.FCR, UartFcr.ENABLE | UartFcr.TRIGGER_4);
    outb(UartReg.IER, UartIer.ERBFI);
    u.receive('abc');
    // Three bytes, below the 4-byte trigger: the line went idle, so the timeout fires.
    expect(irq.take()).toEqual([true]);
    expect(inb(UartReg.IIR)).toBe(UartIir.FIFOS_ENABLED | UartIir.CHAR_TIMEOUT);
    u.receive('d');
    expect(inb(UartReg.IIR)).toBe(UartIir.FIFOS_ENABLED | UartIir.RX_DATA);
    expect(inb(UartReg.RBR)).toBe(0x61); // 3 left: below the trigger, timeout again
    expect(inb(UartReg.IIR)).toBe(UartIir.FIFOS_ENABLED | UartIir.CHAR_TIMEOUT);
    expect(inb(UartReg.RBR)).toBe(0x62);
    expect(inb(UartReg.RBR)).toBe(0x63);
    expect(irq.take()).toEqual([]);
    expect(inb(UartReg.RBR)).toBe(0x64);
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.IIR)).toBe(UartIir.FIFOS_ENABLED | UartIir.NONE);
    expect(inb(UartReg.RBR)).toBe(0); // empty
  });

  it('FCR trigger levels 1, 4, 8, 14', () => {
    for (const [fcr, level] of [
      [UartFcr.TRIGGER_1, 1],
      [UartFcr.TRIGGER_4, 4],
      [UartFcr.TRIGGER_8, 8],
      [UartFcr.TRIGGER_14, 14],
    ] as const) {
      const { u, inb, outb } = uart();
      outb(UartReg.FCR, UartFcr.ENABLE | fcr);
      outb(UartReg.IER, UartIer.ERBFI);
      u.receive('x'.repeat(level - 1));
      if (level > 1) expect(inb(UartReg.IIR) & UartIir.ID_MASK).toBe(UartIir.CHAR_TIMEOUT);
      u.receive('x');
      expect(inb(UartReg.IIR) & UartIir.ID_MASK).toBe(UartIir.RX_DATA);
    }
  });

  it('FCR bit 1 clears the RX FIFO, and leaving or entering FIFO mode clears it too', () => {
    const { u, irq, inb, outb } = uart();
    outb(UartReg.FCR, UartFcr.ENABLE);
    outb(UartReg.IER, UartIer.ERBFI);
    u.receive('abc');
    expect(irq.take()).toEqual([true]);
    outb(UartReg.FCR, UartFcr.ENABLE | UartFcr.CLEAR_RX);
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(0);
    u.receive('d');
    outb(UartReg.FCR, 0);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(0);
    u.receive('e');
    outb(UartReg.FCR, UartFcr.ENABLE);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(0);
    expect(irq.take()).toEqual([true, false, true, false]);
  });
});

describe('16550 loopback and modem status (§8.8, §8.9)', () => {
  it('loopback sends THR to RBR, nothing to the host, and ignores host input', () => {
    const { u, inb, outb } = uart();
    outb(UartReg.MCR, UartMcr.LOOP);
    outb(UartReg.THR, 0x55);
    expect(u.transmitted).toEqual([]);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(UartLsr.DR);
    expect(u.rxFree).toBe(0);
    u.receive('zz');
    expect(inb(UartReg.RBR)).toBe(0x55);
    expect(inb(UartReg.LSR) & UartLsr.DR).toBe(0);
    outb(UartReg.MCR, 0);
    outb(UartReg.THR, 0x56);
    expect(u.transmitted).toEqual([0x56]);
  });

  it('loopback loops the modem outputs to MSR and records the changes as deltas', () => {
    const { inb, outb } = uart();
    // Linux's 8250 probe: LOOP | OUT2 | RTS must read back as DCD | CTS.
    outb(UartReg.MCR, UartMcr.LOOP | UartMcr.OUT2 | UartMcr.RTS);
    expect(inb(UartReg.MSR) & 0xf0).toBe(UartMsr.DCD | UartMsr.CTS);
    outb(UartReg.MCR, UartMcr.LOOP | UartMcr.OUT1 | UartMcr.DTR);
    // CTS and DCD dropped, DSR and RI rose.
    expect(inb(UartReg.MSR)).toBe(UartMsr.RI | UartMsr.DSR | UartMsr.DCTS | UartMsr.DDSR | UartMsr.DDCD);
    expect(inb(UartReg.MSR)).toBe(UartMsr.RI | UartMsr.DSR); // reading cleared the deltas
    outb(UartReg.MCR, UartMcr.LOOP | UartMcr.DTR); // RI falls: trailing edge
    expect(inb(UartReg.MSR)).toBe(UartMsr.DSR | UartMsr.TERI);
  });

  it('modem-status interrupt (lowest priority) until MSR is read', () => {
    const { irq, inb, outb } = uart();
    outb(UartReg.IER, UartIer.EDSSI);
    outb(UartReg.MCR, UartMcr.LOOP);
    expect(irq.take()).toEqual([true]);
    expect(inb(UartReg.IIR)).toBe(UartIir.MODEM_STATUS);
    inb(UartReg.MSR);
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
  });

  it('MCR keeps bits 4:0', () => {
    const { inb, outb } = uart();
    outb(UartReg.MCR, 0xff);
    expect(inb(UartReg.MCR)).toBe(0x1f);
    outb(UartReg.IER, 0xff);
    expect(inb(UartReg.IER)).toBe(0x0f);
  });
});

describe('16550 bus accesses and robustness', () => {
  it('a 16-bit in/out is two byte cycles; ports outside the UART read 0xFF', () => {
    const { u } = uart();
    u.write(UartReg.LCR, 2, 0x0b_83); // LCR = 0x83 (DLAB), MCR = 0x0B
    expect(u.read(UartReg.LCR, 1)).toBe(0x83);
    expect(u.read(UartReg.MCR, 1)).toBe(0x0b);
    u.write(UartReg.DLL, 2, 0x0001); // DLL = 1, DLM = 0
    expect(u.divisor).toBe(1);
    expect(u.read(UartReg.DLL, 2)).toBe(0x0001);
    expect(u.read(UartReg.SCR, 2)).toBe(0xff00); // SCR, then a port beyond the UART
    expect(u.read(6, 4)).toBe(0xffff_00b0);
  });

  it('bad widths, offsets and values never throw', () => {
    const { u } = uart();
    const widths = [0, 3, 8, 16, Number.NaN] as unknown as (1 | 2 | 4 | 8)[];
    for (const w of widths) {
      expect(u.read(0, w)).toBe(0);
      expect(() => u.write(0, w, 0x41)).not.toThrow();
    }
    for (const off of [-1, 8, 100, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => u.read(off, 1)).not.toThrow();
      expect(() => u.write(off, 1, 0x41)).not.toThrow();
    }
    expect(u.read(8, 1)).toBe(0xff);
    expect(u.read(-1, 1)).toBe(0);
    for (const v of [Number.NaN, -1, 2 ** 60, 0.5]) expect(() => u.write(UartReg.SCR, 1, v)).not.toThrow();
    expect(u.transmitted).toEqual([]);
  });

  it('host misuse and constructor misuse throw clear errors', () => {
    const { u } = uart();
    expect(() => u.receive([0x41, 256])).toThrow(RangeError);
    expect(() => u.receive([Number.NaN])).toThrow(/not a byte/);
    expect(u.read(UartReg.LSR, 1) & UartLsr.DR).toBe(0); // nothing was taken
    expect(() => new Uart16550({ irq: {} as never })).toThrow(TypeError);
    expect(() => new Uart16550({ onTransmit: 5 as never })).toThrow(/onTransmit/);
    expect(() => new Uart16550({ name: '' })).toThrow(TypeError);
    expect(() => new Uart16550(null as never)).toThrow(TypeError);
  });

  it('reset() returns to the power-on state and lowers the line', () => {
    const { u, irq, inb, outb } = uart();
    outb(UartReg.FCR, UartFcr.ENABLE);
    outb(UartReg.IER, UartIer.ERBFI);
    u.receive('q');
    outb(UartReg.SCR, 9);
    expect(irq.take()).toEqual([true]);
    u.reset();
    expect(irq.take()).toEqual([false]);
    expect(inb(UartReg.IIR)).toBe(UartIir.NONE);
    expect(inb(UartReg.LSR)).toBe(0x60);
    expect(inb(UartReg.SCR)).toBe(0);
    expect(u.divisor).toBe(12);
    expect(u.irqAsserted).toBe(false);
  });
});
