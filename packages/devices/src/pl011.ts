/**
 * ARM PrimeCell UART (PL011): the `virt` machine's serial port, a 4 KiB MMIO window at
 * 0x0900_0000 wired to SPI 1 (INTID 33).
 *
 * Facts from the ARM PrimeCell UART (PL011) Technical Reference Manual, ARM DDI 0183
 * (chapter 3 "Programmers Model": §3.2 summary of registers, §3.3 register
 * descriptions, §3.4 interrupts), cross-checked against QEMU's `hw/char/pl011.c`.
 *
 * | Offset      | Name        | Access | Reset  | Contents                                    | TRM    |
 * | ----------- | ----------- | ------ | ------ | ------------------------------------------- | ------ |
 * | 0x000       | UARTDR      | RW     | –      | data 7:0; on read FE 8, PE 9, BE 10, OE 11  | §3.3.1 |
 * | 0x004       | UARTRSR/ECR | RW     | 0      | FE 0, PE 1, BE 2, OE 3; any write clears    | §3.3.2 |
 * | 0x018       | UARTFR      | RO     | 0x90   | CTS 0, DSR 1, DCD 2, BUSY 3, RXFE 4, TXFF 5, RXFF 6, TXFE 7, RI 8 | §3.3.3 |
 * | 0x020       | UARTILPR    | RW     | 0      | IrDA low-power divisor 7:0 (no effect)      | §3.3.4 |
 * | 0x024       | UARTIBRD    | RW     | 0      | integer baud divisor 15:0 (no effect)       | §3.3.5 |
 * | 0x028       | UARTFBRD    | RW     | 0      | fractional baud divisor 5:0 (no effect)     | §3.3.6 |
 * | 0x02C       | UARTLCR_H   | RW     | 0      | BRK 0, PEN 1, EPS 2, STP2 3, FEN 4, WLEN 6:5, SPS 7 | §3.3.7 |
 * | 0x030       | UARTCR      | RW     | 0x300  | UARTEN 0, SIREN 1, SIRLP 2, LBE 7, TXE 8, RXE 9, DTR 10, RTS 11, Out1 12, Out2 13, RTSEn 14, CTSEn 15 | §3.3.8 |
 * | 0x034       | UARTIFLS    | RW     | 0x12   | TXIFLSEL 2:0, RXIFLSEL 5:3                  | §3.3.9 |
 * | 0x038       | UARTIMSC    | RW     | 0      | interrupt mask, bits 10:0 as RIS            | §3.3.10|
 * | 0x03C       | UARTRIS     | RO     | 0      | RI 0, CTS 1, DCD 2, DSR 3, RX 4, TX 5, RT 6, FE 7, PE 8, BE 9, OE 10 | §3.3.11|
 * | 0x040       | UARTMIS     | RO     | 0      | RIS & IMSC                                  | §3.3.12|
 * | 0x044       | UARTICR     | WO     | –      | write 1 to clear a RIS bit                  | §3.3.13|
 * | 0x048       | UARTDMACR   | RW     | 0      | RXDMAE 0, TXDMAE 1, DMAONERR 2 (stored only)| §3.3.14|
 * | 0xFE0–0xFEC | UARTPeriphID0–3 | RO | 0x11, 0x10, 0x34 (0x14 with 16-deep FIFOs), 0x00 | §3.3.15–18 |
 * | 0xFF0–0xFFC | UARTPCellID0–3  | RO | 0x0D, 0xF0, 0x05, 0xB1 | §3.3.19–22 |
 *
 * Every other offset (including the test registers at 0x080–0x08C) reads 0 and ignores
 * writes. Registers are 32 bits; narrow, wide and misaligned accesses are handled as
 * described in `bus-access.ts` (a byte or halfword read of UARTDR pops the FIFO like a
 * word read). Nothing a guest does throws.
 *
 * Interrupts (§3.4): the combined UARTINTR output is high while `(RIS & IMSC) != 0`.
 * - RX (bit 4): set when a character arriving makes the receive FIFO hold at least the
 *   RXIFLSEL level (with FEN = 0: any character); cleared when reads take it below that
 *   level, or by ICR.
 * - TX (bit 5): set when the transmit FIFO drains to at most the TXIFLSEL level (with
 *   FEN = 0: when the holding register empties) — only after data passed through it, so
 *   it is clear after reset even with an empty FIFO, as the TRM warns; cleared when
 *   writes fill the FIFO above that level, or by ICR.
 * - RT (bit 6): receive timeout, set when the receive FIFO holds data and the line has
 *   gone idle; cleared when reads empty the FIFO, or by ICR.
 * - OE (bit 10): set on an overrun; cleared by ICR.
 * - Modem bits 3:0: set when the corresponding modem input changes (loopback only, see
 *   below); cleared by ICR.
 *
 * Enables (§3.3.8): the transmitter sends only while UARTEN and TXE are both 1. Data
 * written to UARTDR while they are not stays in the transmit FIFO (FR.BUSY set, TXFE
 * clear — the TRM defines BUSY as set "regardless of whether the UART is enabled"), up to
 * its depth; further writes are lost; enabling the transmitter sends what is held. The
 * receiver takes characters from the line only while UARTEN and RXE are both 1;
 * characters sent by the host at other times are lost, as on a disabled receiver.
 *
 * Simplifications:
 * - No baud-rate timing: an enabled transmitter empties its FIFO within the UARTDR
 *   write, so TX goes high as each write completes (QEMU does the same).
 * - The 32-bit-period receive timeout has no clock: the line counts as idle when a
 *   {@link Pl011.receive} call returns, so RT is set then if the FIFO holds data.
 * - No parity, framing or break errors are generated (the host line is clean), so DR bits
 *   8–10, RSR bits 0–2 and RIS bits 7–9 stay 0; LCR_H.BRK is stored but sends nothing.
 *   Overrun is modelled: a character arriving at a full FIFO is lost, RSR.OE and RIS.OE
 *   are set, and DR reads carry OE (bit 11) until a character is next stored in the FIFO.
 * - The modem inputs are not driven (FR CTS/DSR/DCD/RI read 0), as in QEMU. With CR.LBE
 *   they follow the outputs (RTS→CTS, DTR→DSR, Out1→DCD, Out2→RI, QEMU's mapping), and
 *   the transmitter feeds the receiver; transmitted bytes still reach the host (as in
 *   QEMU), and host input is ignored while LBE is set.
 * - Changing LCR_H.FEN empties both FIFOs (QEMU's behaviour; the TRM leaves it open).
 * - IBRD/FBRD/ILPR/DMACR/SIREN/flow-control bits are stored and read back only; DMA
 *   requests are never made. RXIFLSEL/TXIFLSEL values 5–7 (reserved) act as 1/2.
 *
 * @module
 */

import { checkIrqOption, checkNameOption, readMmio32, writeMmio32 } from './bus-access';
import { type AccessWidth, type IrqLine, type MmioDevice, UNCONNECTED } from './device';
import {
  type SerialHost,
  type SerialHostOptions,
  type SerialInput,
  TransmitSink,
  toSerialBytes,
} from './serial-host';

/** Physical base of the PL011 on the `virt` machine (`VIRT_UART`). */
export const PL011_BASE = 0x0900_0000;

/** GIC INTID of the PL011 on the `virt` machine (SPI 1). */
export const PL011_INTID = 33;

/** Size of the PL011 register window. */
export const PL011_SIZE = 0x1000;

/** PL011 register offsets (TRM §3.2, table 3-1). */
export const Pl011Reg = {
  /** Data Register. */
  DR: 0x000,
  /** Receive Status Register (read) / Error Clear Register (write). */
  RSR_ECR: 0x004,
  /** Flag Register. */
  FR: 0x018,
  /** IrDA Low-Power Counter Register. */
  ILPR: 0x020,
  /** Integer Baud Rate Register. */
  IBRD: 0x024,
  /** Fractional Baud Rate Register. */
  FBRD: 0x028,
  /** Line Control Register. */
  LCR_H: 0x02c,
  /** Control Register. */
  CR: 0x030,
  /** Interrupt FIFO Level Select Register. */
  IFLS: 0x034,
  /** Interrupt Mask Set/Clear Register. */
  IMSC: 0x038,
  /** Raw Interrupt Status Register. */
  RIS: 0x03c,
  /** Masked Interrupt Status Register. */
  MIS: 0x040,
  /** Interrupt Clear Register. */
  ICR: 0x044,
  /** DMA Control Register. */
  DMACR: 0x048,
  /** Peripheral Identification Register 0; 1–3 follow at +4, +8, +0xC. */
  PERIPH_ID0: 0xfe0,
  /** PrimeCell Identification Register 0; 1–3 follow at +4, +8, +0xC. */
  PCELL_ID0: 0xff0,
} as const;

/** UARTDR read bits 11:8: the error status of the character read (§3.3.1). */
export const Pl011Dr = {
  /** Framing error. */
  FE: 0x100,
  /** Parity error. */
  PE: 0x200,
  /** Break error. */
  BE: 0x400,
  /** Overrun error. */
  OE: 0x800,
} as const;

/** UARTRSR bits (§3.3.2). */
export const Pl011Rsr = {
  /** Framing error. */
  FE: 0x1,
  /** Parity error. */
  PE: 0x2,
  /** Break error. */
  BE: 0x4,
  /** Overrun error. */
  OE: 0x8,
} as const;

/** UARTFR bits (§3.3.3). */
export const Pl011Fr = {
  /** Clear to send. */
  CTS: 0x001,
  /** Data set ready. */
  DSR: 0x002,
  /** Data carrier detect. */
  DCD: 0x004,
  /** UART busy: the transmit FIFO holds data. */
  BUSY: 0x008,
  /** Receive FIFO (holding register) empty. */
  RXFE: 0x010,
  /** Transmit FIFO (holding register) full. */
  TXFF: 0x020,
  /** Receive FIFO (holding register) full. */
  RXFF: 0x040,
  /** Transmit FIFO (holding register) empty. */
  TXFE: 0x080,
  /** Ring indicator. */
  RI: 0x100,
} as const;

/** UARTLCR_H bits (§3.3.7). */
export const Pl011Lcrh = {
  /** Send break. */
  BRK: 0x01,
  /** Parity enable. */
  PEN: 0x02,
  /** Even parity select. */
  EPS: 0x04,
  /** Two stop bits. */
  STP2: 0x08,
  /** Enable FIFOs. */
  FEN: 0x10,
  /** Word length field, bits 6:5. */
  WLEN_MASK: 0x60,
  /** 8-bit words. */
  WLEN_8: 0x60,
  /** Stick parity. */
  SPS: 0x80,
} as const;

/** UARTCR bits (§3.3.8). */
export const Pl011Cr = {
  /** UART enable. */
  UARTEN: 0x0001,
  /** SIR (IrDA) enable. */
  SIREN: 0x0002,
  /** SIR low-power mode. */
  SIRLP: 0x0004,
  /** Loopback enable. */
  LBE: 0x0080,
  /** Transmit enable. */
  TXE: 0x0100,
  /** Receive enable. */
  RXE: 0x0200,
  /** Data transmit ready output. */
  DTR: 0x0400,
  /** Request to send output. */
  RTS: 0x0800,
  /** Out1 output. */
  OUT1: 0x1000,
  /** Out2 output. */
  OUT2: 0x2000,
  /** RTS hardware flow control enable. */
  RTSEN: 0x4000,
  /** CTS hardware flow control enable. */
  CTSEN: 0x8000,
} as const;

/** Interrupt bits of UARTIMSC, UARTRIS, UARTMIS and UARTICR (§3.3.10–13). */
export const Pl011Int = {
  /** nUARTRI modem interrupt. */
  RI: 0x001,
  /** nUARTCTS modem interrupt. */
  CTS: 0x002,
  /** nUARTDCD modem interrupt. */
  DCD: 0x004,
  /** nUARTDSR modem interrupt. */
  DSR: 0x008,
  /** Receive interrupt (RXIM/RXRIS). */
  RX: 0x010,
  /** Transmit interrupt (TXIM/TXRIS). */
  TX: 0x020,
  /** Receive timeout interrupt (RTIM/RTRIS). */
  RT: 0x040,
  /** Framing error interrupt. */
  FE: 0x080,
  /** Parity error interrupt. */
  PE: 0x100,
  /** Break error interrupt. */
  BE: 0x200,
  /** Overrun error interrupt. */
  OE: 0x400,
  /** All eleven interrupt bits. */
  ALL: 0x7ff,
} as const;

const CR_MASK = 0xff87; // bits 6:3 are reserved
const PCELL_ID = [0x0d, 0xf0, 0x05, 0xb1] as const;
/** FIFO fill fractions, in eighths, selected by IFLS RXIFLSEL/TXIFLSEL 0–4. */
const IFLS_EIGHTHS = [1, 2, 4, 6, 7] as const;

/** Options for {@link Pl011}. */
export interface Pl011Options extends SerialHostOptions {
  /** The combined interrupt output UARTINTR; default {@link UNCONNECTED}. */
  readonly irq?: IrqLine;
  /** Device name for traces; default `"pl011"`. */
  readonly name?: string;
  /**
   * FIFO depth: 32 (default) is revision r1p5, which reports UARTPeriphID2 = 0x34;
   * 16 is the earlier revisions, reporting 0x14 as QEMU's PL011 does. Drivers such as
   * Linux's derive the FIFO depth from that revision field.
   */
  readonly fifoDepth?: 16 | 32;
}

/**
 * A PL011 UART as an {@link MmioDevice} with a 4 KiB window. See the module
 * documentation for the register map and what is simplified.
 */
export class Pl011 implements MmioDevice, SerialHost {
  /** Device name for traces. */
  readonly name: string;
  /** Size of the register window: 4 KiB. */
  readonly size = PL011_SIZE;
  /** Depth of each FIFO when LCR_H.FEN is set. */
  readonly fifoDepth: 16 | 32;

  private readonly irq: IrqLine;
  private readonly sink: TransmitSink;
  private readonly periphId: readonly number[];
  private irqLevel = false;

  private rx: number[] = [];
  private tx: number[] = [];
  private overrun = false;
  private rsr = 0;
  private ilpr = 0;
  private ibrd = 0;
  private fbrd = 0;
  private lcrH = 0;
  private cr = 0x300;
  private ifls = 0x12;
  private imsc = 0;
  private ris = 0;
  private dmacr = 0;
  private modem = 0;

  /** @throws TypeError or RangeError when an option is malformed. */
  constructor(options: Pl011Options = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Pl011: options must be an object');
    }
    checkIrqOption('Pl011', options.irq);
    checkNameOption('Pl011', options.name);
    const depth = options.fifoDepth ?? 32;
    if (depth !== 16 && depth !== 32) {
      throw new RangeError(`Pl011: options.fifoDepth must be 16 or 32, not ${String(depth)}`);
    }
    this.fifoDepth = depth;
    this.periphId = [0x11, 0x10, depth === 32 ? 0x34 : 0x14, 0x00];
    this.name = options.name ?? 'pl011';
    this.irq = options.irq ?? UNCONNECTED;
    this.sink = new TransmitSink('Pl011', options.onTransmit);
  }

  // ---- MmioDevice ----

  /** Reads a register; see the module documentation. */
  read(offset: number, width: AccessWidth): number {
    return readMmio32(offset, width, this.size, (off) => this.readRegister(off));
  }

  /** Writes a register; see the module documentation. */
  write(offset: number, width: AccessWidth, value: number): void {
    writeMmio32(offset, width, value, this.size, (off, v) => this.writeRegister(off, v));
  }

  // ---- host side ----

  /** {@inheritDoc SerialHost.transmitted} */
  get transmitted(): number[] {
    return this.sink.transmitted;
  }

  /** {@inheritDoc SerialHost.takeOutput} */
  takeOutput(): string {
    return this.sink.take();
  }

  /** {@inheritDoc SerialHost.receive} */
  receive(bytes: SerialInput): void {
    const data = toSerialBytes('Pl011', bytes);
    if (!this.receiverOn || (this.cr & Pl011Cr.LBE) !== 0) return;
    for (const b of data) this.pushRx(b);
    if (data.length > 0) this.lineIdle();
    this.updateIrq();
  }

  /** {@inheritDoc SerialHost.rxFree} */
  get rxFree(): number {
    if (!this.receiverOn || (this.cr & Pl011Cr.LBE) !== 0) return 0;
    return this.capacity - this.rx.length;
  }

  /** Whether the interrupt output is high. */
  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  /** Returns every register to its reset value (TRM §3.2); the host sink keeps its bytes. */
  reset(): void {
    this.rx = [];
    this.tx = [];
    this.overrun = false;
    this.rsr = 0;
    this.ilpr = 0;
    this.ibrd = 0;
    this.fbrd = 0;
    this.lcrH = 0;
    this.cr = 0x300;
    this.ifls = 0x12;
    this.imsc = 0;
    this.ris = 0;
    this.dmacr = 0;
    this.modem = 0;
    this.updateIrq();
  }

  // ---- registers ----

  private get fifoEnabled(): boolean {
    return (this.lcrH & Pl011Lcrh.FEN) !== 0;
  }

  /** Entries in each FIFO: the depth, or 1 (the holding register) with FEN clear. */
  private get capacity(): number {
    return this.fifoEnabled ? this.fifoDepth : 1;
  }

  private get transmitterOn(): boolean {
    return (this.cr & (Pl011Cr.UARTEN | Pl011Cr.TXE)) === (Pl011Cr.UARTEN | Pl011Cr.TXE);
  }

  private get receiverOn(): boolean {
    return (this.cr & (Pl011Cr.UARTEN | Pl011Cr.RXE)) === (Pl011Cr.UARTEN | Pl011Cr.RXE);
  }

  /** Receive FIFO level at or above which RX is raised. */
  private get rxTrigger(): number {
    if (!this.fifoEnabled) return 1;
    return ((IFLS_EIGHTHS[(this.ifls >> 3) & 7] ?? 4) * this.fifoDepth) / 8;
  }

  /** Transmit FIFO level at or below which TX is raised. */
  private get txTrigger(): number {
    if (!this.fifoEnabled) return 0;
    return ((IFLS_EIGHTHS[this.ifls & 7] ?? 4) * this.fifoDepth) / 8;
  }

  private readRegister(offset: number): number {
    switch (offset) {
      case Pl011Reg.DR:
        return this.readDr();
      case Pl011Reg.RSR_ECR:
        return this.rsr;
      case Pl011Reg.FR:
        return this.flags();
      case Pl011Reg.ILPR:
        return this.ilpr;
      case Pl011Reg.IBRD:
        return this.ibrd;
      case Pl011Reg.FBRD:
        return this.fbrd;
      case Pl011Reg.LCR_H:
        return this.lcrH;
      case Pl011Reg.CR:
        return this.cr;
      case Pl011Reg.IFLS:
        return this.ifls;
      case Pl011Reg.IMSC:
        return this.imsc;
      case Pl011Reg.RIS:
        return this.ris;
      case Pl011Reg.MIS:
        return this.ris & this.imsc;
      case Pl011Reg.DMACR:
        return this.dmacr;
      default:
        if (offset >= Pl011Reg.PERIPH_ID0 && offset < Pl011Reg.PCELL_ID0) {
          return this.periphId[(offset - Pl011Reg.PERIPH_ID0) >> 2] ?? 0;
        }
        if (offset >= Pl011Reg.PCELL_ID0) return PCELL_ID[(offset - Pl011Reg.PCELL_ID0) >> 2] ?? 0;
        return 0; // ICR is write-only; reserved and test registers read 0
    }
  }

  private writeRegister(offset: number, value: number): void {
    switch (offset) {
      case Pl011Reg.DR:
        this.writeDr(value & 0xff);
        break;
      case Pl011Reg.RSR_ECR:
        this.rsr = 0; // any write clears all four error bits
        break;
      case Pl011Reg.ILPR:
        this.ilpr = value & 0xff;
        break;
      case Pl011Reg.IBRD:
        this.ibrd = value & 0xffff;
        break;
      case Pl011Reg.FBRD:
        this.fbrd = value & 0x3f;
        break;
      case Pl011Reg.LCR_H:
        this.writeLcrH(value & 0xff);
        break;
      case Pl011Reg.CR:
        this.writeCr(value & CR_MASK);
        break;
      case Pl011Reg.IFLS:
        this.ifls = value & 0x3f;
        break;
      case Pl011Reg.IMSC:
        this.imsc = value & Pl011Int.ALL;
        this.updateIrq();
        break;
      case Pl011Reg.ICR:
        this.ris &= ~(value & Pl011Int.ALL);
        this.updateIrq();
        break;
      case Pl011Reg.DMACR:
        this.dmacr = value & 0x7;
        break;
      default:
        // FR, RIS, MIS and the ID registers are read-only; other offsets are reserved.
        break;
    }
  }

  private flags(): number {
    const cap = this.capacity;
    return (
      this.modem |
      (this.tx.length > 0 ? Pl011Fr.BUSY : Pl011Fr.TXFE) |
      (this.tx.length >= cap ? Pl011Fr.TXFF : 0) |
      (this.rx.length === 0 ? Pl011Fr.RXFE : 0) |
      (this.rx.length >= cap ? Pl011Fr.RXFF : 0)
    );
  }

  private readDr(): number {
    const byte = this.rx.shift() ?? 0;
    if (this.rx.length < this.rxTrigger) this.ris &= ~Pl011Int.RX;
    if (this.rx.length === 0) this.ris &= ~Pl011Int.RT;
    this.updateIrq();
    return byte | (this.overrun ? Pl011Dr.OE : 0);
  }

  private writeDr(byte: number): void {
    if (this.tx.length >= this.capacity) return; // a write to a full FIFO is lost
    this.tx.push(byte);
    if (this.tx.length > this.txTrigger) {
      this.ris &= ~Pl011Int.TX;
      this.updateIrq();
    }
    this.drainTx();
    this.updateIrq();
  }

  private writeLcrH(value: number): void {
    if (((this.lcrH ^ value) & Pl011Lcrh.FEN) !== 0) {
      this.rx = [];
      this.tx = [];
      this.overrun = false;
      this.ris &= ~(Pl011Int.RX | Pl011Int.RT);
    }
    this.lcrH = value;
    this.updateIrq();
  }

  private writeCr(value: number): void {
    this.cr = value;
    this.updateModemInputs();
    this.drainTx();
    this.updateIrq();
  }

  /** Sends everything in the transmit FIFO if the transmitter is enabled. */
  private drainTx(): void {
    if (!this.transmitterOn || this.tx.length === 0) return;
    const loop = (this.cr & Pl011Cr.LBE) !== 0;
    let looped = false;
    for (const byte of this.tx) {
      this.sink.put(byte);
      if (loop && this.receiverOn) {
        this.pushRx(byte);
        looped = true;
      }
    }
    this.tx = [];
    this.ris |= Pl011Int.TX; // the FIFO drained through the TX trigger level
    if (looped) this.lineIdle();
  }

  private pushRx(byte: number): void {
    if (this.rx.length >= this.capacity) {
      this.overrun = true;
      this.rsr |= Pl011Rsr.OE;
      this.ris |= Pl011Int.OE;
      return;
    }
    this.rx.push(byte);
    this.overrun = false;
    if (this.rx.length >= this.rxTrigger) this.ris |= Pl011Int.RX;
  }

  /** The receive line has gone idle: the receive timeout fires if data is waiting. */
  private lineIdle(): void {
    if (this.rx.length > 0) this.ris |= Pl011Int.RT;
  }

  private updateModemInputs(): void {
    let inputs = 0;
    if ((this.cr & Pl011Cr.LBE) !== 0) {
      if ((this.cr & Pl011Cr.RTS) !== 0) inputs |= Pl011Fr.CTS;
      if ((this.cr & Pl011Cr.DTR) !== 0) inputs |= Pl011Fr.DSR;
      if ((this.cr & Pl011Cr.OUT1) !== 0) inputs |= Pl011Fr.DCD;
      if ((this.cr & Pl011Cr.OUT2) !== 0) inputs |= Pl011Fr.RI;
    }
    const changed = inputs ^ this.modem;
    if ((changed & Pl011Fr.CTS) !== 0) this.ris |= Pl011Int.CTS;
    if ((changed & Pl011Fr.DSR) !== 0) this.ris |= Pl011Int.DSR;
    if ((changed & Pl011Fr.DCD) !== 0) this.ris |= Pl011Int.DCD;
    if ((changed & Pl011Fr.RI) !== 0) this.ris |= Pl011Int.RI;
    this.modem = inputs;
  }

  private updateIrq(): void {
    const level = (this.ris & this.imsc) !== 0;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}
