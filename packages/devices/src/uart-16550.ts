/**
 * NS16550A UART: the PC's COM ports, reached through eight consecutive I/O ports
 * (COM1 at 0x3F8, ISA IRQ 4).
 *
 * Facts from the National Semiconductor PC16550D datasheet (Table II "Summary of
 * Registers", Table III "UART Reset Configuration", Table IV "Interrupt Control
 * Functions", §8 "Registers") cross-checked against QEMU's `hw/char/serial.c`.
 *
 * | Offset | DLAB | Read                          | Write                         | Datasheet |
 * | ------ | ---- | ----------------------------- | ----------------------------- | --------- |
 * | 0      | 0    | RBR receiver buffer           | THR transmitter holding       | Table II  |
 * | 0      | 1    | DLL divisor latch, low byte   | DLL                           | §8.3      |
 * | 1      | 0    | IER interrupt enable (3:0)    | IER                           | §8.7      |
 * | 1      | 1    | DLM divisor latch, high byte  | DLM                           | §8.3      |
 * | 2      | –    | IIR interrupt identification  | FCR FIFO control              | §8.6, §8.5|
 * | 3      | –    | LCR line control (bit 7 DLAB) | LCR                           | §8.1      |
 * | 4      | –    | MCR modem control (4:0)       | MCR (bit 4 loopback)          | §8.8      |
 * | 5      | –    | LSR line status               | ignored (factory test only)   | §8.4      |
 * | 6      | –    | MSR modem status              | ignored                       | §8.9      |
 * | 7      | –    | SCR scratch                   | SCR                           | §8.10     |
 *
 * Reset values (Table III): IER 0, IIR 0x01, FCR 0, LCR 0, MCR 0, LSR 0x60 (THRE, TEMT),
 * MSR deltas 0. The divisor latch is undefined after reset on the chip; the model starts
 * it at 12 (9600 baud from the PC's 1.8432 MHz clock), as QEMU does.
 *
 * Interrupts (Table IV), highest priority first; IIR bits 7:6 read 11 while FCR bit 0
 * enables the FIFOs:
 *
 * | IIR  | Source                         | Enabled by IER | Cleared by                          |
 * | ---- | ------------------------------ | -------------- | ----------------------------------- |
 * | 0x06 | receiver line status (OE)      | bit 2 ELSI     | reading LSR                         |
 * | 0x04 | received data / trigger level  | bit 0 ERBFI    | reading RBR below the trigger level |
 * | 0x0C | character timeout (FIFO mode)  | bit 0 ERBFI    | reading RBR                         |
 * | 0x02 | THR empty                      | bit 1 ETBEI    | reading IIR (if the source), writing THR |
 * | 0x00 | modem status change            | bit 3 EDSSI    | reading MSR                         |
 * | 0x01 | none                           |                |                                     |
 *
 * The interrupt output (the INTR pin) is high while IIR reports a source. Setting ETBEI
 * while the THR is empty makes the THR-empty interrupt pending at once, as on the 16550A.
 *
 * Simplifications, all invisible to a driver that follows the datasheet:
 * - There is no baud-rate timing: a byte written to THR is on the line at once, so LSR
 *   THRE and TEMT read 1 whenever the guest looks, and a THR write drops the THR-empty
 *   interrupt and raises it again within the same call (the line goes low, then high:
 *   an edge-triggered PIC sees a new interrupt per byte, as with a real UART).
 * - The character timeout ("no character in or out of the RX FIFO for four character
 *   times") has no clock to run on: the model counts the line as idle as soon as a
 *   {@link Uart16550.receive} call returns, so in FIFO mode IIR reports 0x0C whenever the
 *   RX FIFO holds data below the trigger level and the timeout re-arms after each read,
 *   as the datasheet's timer does.
 * - No parity, framing or break errors are generated (the host line is clean); LSR bits
 *   2–4 and 7 read 0. Overrun is modelled: in FIFO mode the byte arriving at a full FIFO
 *   is lost; in 16450 mode it overwrites the unread RBR (§8.4); either way LSR.OE is set.
 * - The modem inputs are a null-modem cable that is always connected: CTS, DSR and DCD
 *   asserted, RI not (MSR 0xB0), as QEMU reports. In loopback (MCR bit 4) they follow
 *   MCR (RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD) and changes set the MSR delta bits.
 * - Loopback sends THR to the receiver and nothing to the host; bytes the host sends
 *   meanwhile are lost (the chip disconnects SIN in loopback, §8.8).
 * - OUT2 does not gate the interrupt: on PC serial cards that gating is board logic
 *   outside the UART; the model's line is the UART's own INTR pin.
 * - Divisor, LCR and DMA mode select are stored and read back but change nothing.
 *
 * Accesses: the UART is a byte-wide ISA device; wider accesses are split into byte
 * cycles (see `bus-access.ts`). Offsets outside the eight ports read 0xFF. Nothing a
 * guest does throws.
 *
 * @module
 */

import { checkIrqOption, checkNameOption, readPortBytes, writePortBytes } from './bus-access';
import { type AccessWidth, type IrqLine, type PortDevice, UNCONNECTED } from './device';
import {
  type SerialHost,
  type SerialHostOptions,
  type SerialInput,
  TransmitSink,
  toSerialBytes,
} from './serial-host';

/** I/O port base of COM1 on the PC. */
export const COM1_PORT = 0x3f8;

/** ISA IRQ of COM1 on the PC. */
export const COM1_IRQ = 4;

/** Depth of the 16550's transmit and receive FIFOs (datasheet §8.5). */
export const UART_FIFO_DEPTH = 16;

/** Input clock of a PC serial port divided by 16: the baud rate at divisor 1. */
export const UART_PC_BAUD_BASE = 115_200;

/** Register offsets of the 16550 from its base port (PC16550D Table II). */
export const UartReg = {
  /** Receiver Buffer Register (read, DLAB = 0). */
  RBR: 0,
  /** Transmitter Holding Register (write, DLAB = 0). */
  THR: 0,
  /** Divisor Latch, least significant byte (DLAB = 1). */
  DLL: 0,
  /** Interrupt Enable Register (DLAB = 0). */
  IER: 1,
  /** Divisor Latch, most significant byte (DLAB = 1). */
  DLM: 1,
  /** Interrupt Identification Register (read). */
  IIR: 2,
  /** FIFO Control Register (write). */
  FCR: 2,
  /** Line Control Register. */
  LCR: 3,
  /** Modem Control Register. */
  MCR: 4,
  /** Line Status Register. */
  LSR: 5,
  /** Modem Status Register. */
  MSR: 6,
  /** Scratch Register. */
  SCR: 7,
} as const;

/** IER bits (§8.7). */
export const UartIer = {
  /** Received data available (and, in FIFO mode, character timeout). */
  ERBFI: 0x01,
  /** Transmitter holding register empty. */
  ETBEI: 0x02,
  /** Receiver line status. */
  ELSI: 0x04,
  /** Modem status. */
  EDSSI: 0x08,
} as const;

/** IIR values (Table IV); bits 7:6 are {@link UartIir.FIFOS_ENABLED} in FIFO mode. */
export const UartIir = {
  /** Bit 0 set: no interrupt pending. */
  NONE: 0x01,
  /** Modem status change. */
  MODEM_STATUS: 0x00,
  /** Transmitter holding register empty. */
  THR_EMPTY: 0x02,
  /** Received data available / trigger level reached. */
  RX_DATA: 0x04,
  /** Receiver line status (overrun, parity, framing, break). */
  RX_LINE_STATUS: 0x06,
  /** Character timeout (FIFO mode only). */
  CHAR_TIMEOUT: 0x0c,
  /** Interrupt ID field, bits 3:0. */
  ID_MASK: 0x0f,
  /** Bits 7:6, set while FCR bit 0 enables the FIFOs. */
  FIFOS_ENABLED: 0xc0,
} as const;

/** FCR bits (§8.5). */
export const UartFcr = {
  /** Enable both FIFOs; changing it empties them. Other bits are only taken with it set. */
  ENABLE: 0x01,
  /** Clear the receive FIFO (self-clearing). */
  CLEAR_RX: 0x02,
  /** Clear the transmit FIFO (self-clearing). */
  CLEAR_TX: 0x04,
  /** DMA mode select (stored, no effect). */
  DMA_MODE: 0x08,
  /** Receiver trigger level field, bits 7:6: 1, 4, 8 or 14 bytes. */
  TRIGGER_MASK: 0xc0,
  /** Trigger level 1 byte. */
  TRIGGER_1: 0x00,
  /** Trigger level 4 bytes. */
  TRIGGER_4: 0x40,
  /** Trigger level 8 bytes. */
  TRIGGER_8: 0x80,
  /** Trigger level 14 bytes. */
  TRIGGER_14: 0xc0,
} as const;

/** LCR bits (§8.1). */
export const UartLcr = {
  /** Word length field, bits 1:0: 5–8 bits. */
  WORD_LENGTH_MASK: 0x03,
  /** 8 data bits. */
  WORD_8: 0x03,
  /** Two stop bits (1.5 with 5-bit words). */
  STOP_2: 0x04,
  /** Parity enable. */
  PARITY: 0x08,
  /** Even parity select. */
  EVEN_PARITY: 0x10,
  /** Stick parity. */
  STICK_PARITY: 0x20,
  /** Set break. */
  BREAK: 0x40,
  /** Divisor Latch Access Bit: offsets 0/1 reach DLL/DLM. */
  DLAB: 0x80,
} as const;

/** MCR bits (§8.8). */
export const UartMcr = {
  /** Data Terminal Ready. */
  DTR: 0x01,
  /** Request To Send. */
  RTS: 0x02,
  /** OUT1. */
  OUT1: 0x04,
  /** OUT2 (gates IRQ on PC serial cards; not modelled, see the module notes). */
  OUT2: 0x08,
  /** Local loopback. */
  LOOP: 0x10,
} as const;

/** LSR bits (§8.4). */
export const UartLsr = {
  /** Data Ready. */
  DR: 0x01,
  /** Overrun Error. */
  OE: 0x02,
  /** Parity Error (never set by the model). */
  PE: 0x04,
  /** Framing Error (never set by the model). */
  FE: 0x08,
  /** Break Interrupt (never set by the model). */
  BI: 0x10,
  /** Transmitter Holding Register Empty. */
  THRE: 0x20,
  /** Transmitter Empty. */
  TEMT: 0x40,
  /** Error in RCVR FIFO (never set by the model). */
  FIFO_ERROR: 0x80,
} as const;

/** MSR bits (§8.9). */
export const UartMsr = {
  /** Delta Clear To Send. */
  DCTS: 0x01,
  /** Delta Data Set Ready. */
  DDSR: 0x02,
  /** Trailing Edge Ring Indicator. */
  TERI: 0x04,
  /** Delta Data Carrier Detect. */
  DDCD: 0x08,
  /** Clear To Send. */
  CTS: 0x10,
  /** Data Set Ready. */
  DSR: 0x20,
  /** Ring Indicator. */
  RI: 0x40,
  /** Data Carrier Detect. */
  DCD: 0x80,
} as const;

/** Options for {@link Uart16550}. */
export interface Uart16550Options extends SerialHostOptions {
  /** The interrupt output (INTR); default {@link UNCONNECTED}. */
  readonly irq?: IrqLine;
  /** Device name for traces; default `"uart16550"`. */
  readonly name?: string;
}

/** Modem inputs with nothing but a connected null-modem cable: CTS, DSR, DCD. */
const MSR_EXTERNAL_INPUTS = UartMsr.CTS | UartMsr.DSR | UartMsr.DCD;
const TRIGGER_LEVELS = [1, 4, 8, 14] as const;

/**
 * A 16550A UART as a {@link PortDevice} of 8 ports. See the module documentation for
 * the register map and what is simplified.
 */
export class Uart16550 implements PortDevice, SerialHost {
  /** Device name for traces. */
  readonly name: string;
  /** The UART decodes 8 consecutive ports. */
  readonly portCount = 8;

  private readonly irq: IrqLine;
  private readonly sink: TransmitSink;
  private irqLevel = false;

  private rx: number[] = [];
  private ier = 0;
  private fcr = 0;
  private lcr = 0;
  private mcr = 0;
  private lsrErrors = 0;
  private msrDeltas = 0;
  private msrInputs = MSR_EXTERNAL_INPUTS;
  private scr = 0;
  private dll = 12;
  private dlm = 0;
  private thrInterrupt = false;

  /** @throws TypeError when an option has the wrong type. */
  constructor(options: Uart16550Options = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Uart16550: options must be an object');
    }
    checkIrqOption('Uart16550', options.irq);
    checkNameOption('Uart16550', options.name);
    this.name = options.name ?? 'uart16550';
    this.irq = options.irq ?? UNCONNECTED;
    this.sink = new TransmitSink('Uart16550', options.onTransmit);
  }

  // ---- PortDevice ----

  /** `in` from the UART's ports; see the module documentation. */
  read(offset: number, width: AccessWidth): number {
    return readPortBytes(offset, width, this.portCount, (port) => this.readRegister(port));
  }

  /** `out` to the UART's ports; see the module documentation. */
  write(offset: number, width: AccessWidth, value: number): void {
    writePortBytes(offset, width, value, this.portCount, (port, byte) => this.writeRegister(port, byte));
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
    const data = toSerialBytes('Uart16550', bytes);
    if (this.loopback) return; // SIN is disconnected in loopback (§8.8)
    for (const b of data) this.pushRx(b);
    this.updateIrq();
  }

  /** {@inheritDoc SerialHost.rxFree} */
  get rxFree(): number {
    return this.loopback ? 0 : this.rxCapacity - this.rx.length;
  }

  /** Whether the interrupt output is high. */
  get irqAsserted(): boolean {
    return this.irqLevel;
  }

  /** The 16-bit divisor latch (DLM:DLL). */
  get divisor(): number {
    return (this.dlm << 8) | this.dll;
  }

  /** The baud rate the divisor selects on a PC (1.8432 MHz clock); 0 while the divisor is 0. */
  get baudRate(): number {
    const d = this.divisor;
    return d === 0 ? 0 : UART_PC_BAUD_BASE / d;
  }

  /** Returns every register to its power-on value (Table III); the host sink keeps its bytes. */
  reset(): void {
    this.rx = [];
    this.ier = 0;
    this.fcr = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.lsrErrors = 0;
    this.msrDeltas = 0;
    this.msrInputs = MSR_EXTERNAL_INPUTS;
    this.scr = 0;
    this.dll = 12;
    this.dlm = 0;
    this.thrInterrupt = false;
    this.updateIrq();
  }

  // ---- registers ----

  private get dlab(): boolean {
    return (this.lcr & UartLcr.DLAB) !== 0;
  }

  private get loopback(): boolean {
    return (this.mcr & UartMcr.LOOP) !== 0;
  }

  private get fifoEnabled(): boolean {
    return (this.fcr & UartFcr.ENABLE) !== 0;
  }

  private get rxCapacity(): number {
    return this.fifoEnabled ? UART_FIFO_DEPTH : 1;
  }

  private get rxTrigger(): number {
    return TRIGGER_LEVELS[(this.fcr >> 6) & 3] ?? 1;
  }

  private readRegister(reg: number): number {
    switch (reg) {
      case 0:
        return this.dlab ? this.dll : this.readRbr();
      case 1:
        return this.dlab ? this.dlm : this.ier;
      case 2:
        return this.readIir();
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5:
        return this.readLsr();
      case 6:
        return this.readMsr();
      case 7:
        return this.scr;
      default:
        return 0xff;
    }
  }

  private writeRegister(reg: number, value: number): void {
    switch (reg) {
      case 0:
        if (this.dlab) this.dll = value;
        else this.writeThr(value);
        break;
      case 1:
        if (this.dlab) this.dlm = value;
        else this.writeIer(value);
        break;
      case 2:
        this.writeFcr(value);
        break;
      case 3:
        this.lcr = value;
        break;
      case 4:
        this.writeMcr(value);
        break;
      case 7:
        this.scr = value;
        break;
      default:
        // LSR and MSR writes are for factory testing only (§8.4); ignored.
        break;
    }
  }

  private readRbr(): number {
    const byte = this.rx.shift() ?? 0;
    this.updateIrq();
    return byte;
  }

  private readIir(): number {
    const id = this.pendingInterrupt();
    if (id === UartIir.THR_EMPTY) {
      this.thrInterrupt = false;
      this.updateIrq();
    }
    return id | (this.fifoEnabled ? UartIir.FIFOS_ENABLED : 0);
  }

  private readLsr(): number {
    const value = (this.rx.length > 0 ? UartLsr.DR : 0) | this.lsrErrors | UartLsr.THRE | UartLsr.TEMT;
    if (this.lsrErrors !== 0) {
      this.lsrErrors = 0;
      this.updateIrq();
    }
    return value;
  }

  private readMsr(): number {
    const value = this.msrInputs | this.msrDeltas;
    if (this.msrDeltas !== 0) {
      this.msrDeltas = 0;
      this.updateIrq();
    }
    return value;
  }

  private writeThr(byte: number): void {
    // Writing THR clears the THR-empty interrupt; the byte then leaves at once and the
    // empty THR raises it again (see the module notes on timing).
    this.thrInterrupt = false;
    this.updateIrq();
    if (this.loopback) this.pushRx(byte);
    else this.sink.put(byte);
    this.thrInterrupt = true;
    this.updateIrq();
  }

  private writeIer(value: number): void {
    this.ier = value & 0x0f;
    // Enabling ETBEI with the THR empty (always, in this model) raises THR-empty at once.
    if ((this.ier & UartIer.ETBEI) !== 0) this.thrInterrupt = true;
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    const enable = (value & UartFcr.ENABLE) !== 0;
    if (enable !== this.fifoEnabled) {
      // Entering or leaving FIFO mode empties both FIFOs (§8.5).
      this.rx = [];
    }
    if (!enable) {
      // With bit 0 clear the other bits are not programmed (§8.5).
      this.fcr = 0;
      this.updateIrq();
      return;
    }
    if ((value & UartFcr.CLEAR_RX) !== 0) this.rx = [];
    // CLEAR_TX: the transmit FIFO is always empty in this model.
    this.fcr = value & (UartFcr.ENABLE | UartFcr.DMA_MODE | UartFcr.TRIGGER_MASK);
    this.updateIrq();
  }

  private writeMcr(value: number): void {
    this.mcr = value & 0x1f;
    this.setModemInputs(this.loopback ? loopbackInputs(this.mcr) : MSR_EXTERNAL_INPUTS);
    this.updateIrq();
  }

  private setModemInputs(inputs: number): void {
    const changed = (this.msrInputs ^ inputs) & 0xf0;
    if ((changed & UartMsr.CTS) !== 0) this.msrDeltas |= UartMsr.DCTS;
    if ((changed & UartMsr.DSR) !== 0) this.msrDeltas |= UartMsr.DDSR;
    if ((changed & UartMsr.DCD) !== 0) this.msrDeltas |= UartMsr.DDCD;
    // TERI: RI went from asserted to deasserted.
    if ((changed & UartMsr.RI) !== 0 && (inputs & UartMsr.RI) === 0) this.msrDeltas |= UartMsr.TERI;
    this.msrInputs = inputs;
  }

  private pushRx(byte: number): void {
    if (this.rx.length < this.rxCapacity) {
      this.rx.push(byte);
      return;
    }
    this.lsrErrors |= UartLsr.OE;
    // 16450 mode: the new character overwrites the unread one. FIFO mode: the character
    // in the shift register is lost and the FIFO keeps its contents (§8.4).
    if (!this.fifoEnabled) this.rx[0] = byte;
  }

  /** The IIR interrupt ID of the highest-priority pending, enabled source (Table IV). */
  private pendingInterrupt(): number {
    if ((this.ier & UartIer.ELSI) !== 0 && this.lsrErrors !== 0) return UartIir.RX_LINE_STATUS;
    if ((this.ier & UartIer.ERBFI) !== 0 && this.rx.length > 0) {
      if (!this.fifoEnabled || this.rx.length >= this.rxTrigger) return UartIir.RX_DATA;
      return UartIir.CHAR_TIMEOUT;
    }
    if ((this.ier & UartIer.ETBEI) !== 0 && this.thrInterrupt) return UartIir.THR_EMPTY;
    if ((this.ier & UartIer.EDSSI) !== 0 && this.msrDeltas !== 0) return UartIir.MODEM_STATUS;
    return UartIir.NONE;
  }

  private updateIrq(): void {
    const level = this.pendingInterrupt() !== UartIir.NONE;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }
}

/** MSR inputs in loopback: RTS→CTS, DTR→DSR, OUT1→RI, OUT2→DCD (§8.8). */
function loopbackInputs(mcr: number): number {
  return (
    ((mcr & UartMcr.RTS) !== 0 ? UartMsr.CTS : 0) |
    ((mcr & UartMcr.DTR) !== 0 ? UartMsr.DSR : 0) |
    ((mcr & UartMcr.OUT1) !== 0 ? UartMsr.RI : 0) |
    ((mcr & UartMcr.OUT2) !== 0 ? UartMsr.DCD : 0)
  );
}
