/**
 * User-level UART drivers: the console server's way to its device, through the real
 * registers, reached the way a driver on hardware reaches them — I/O ports (16550,
 * x86) or MMIO pages (PL011) that it got from sigma0. It finds the UART in the KIP's
 * device list, never from constants.
 */
import type { KernelInterfacePage, ThreadEnv, UserCode } from '@pecan/kernel';
import { type DeviceAccess, kipDeviceFor } from '../root/devices';
import type { Sigma0Client } from '../sigma0/client';

/**
 * A UART a driver has set up. It transmits by polling (waiting while the FIFO is full)
 * and receives by interrupt: enable the receive interrupt, and on each interrupt
 * drain the receiver.
 */
export interface UartPort {
  readonly name: string;
  /** Transmits one byte, waiting while the transmitter is full. */
  putc(byte: number): UserCode<void>;
  /** Makes received data raise the UART's interrupt. */
  enableReceiveInterrupt(): UserCode<void>;
  /**
   * Appends every byte waiting in the receiver to `into`, oldest first, and clears the
   * receive interrupt; returns how many it took.
   */
  drain(into: number[]): UserCode<number>;
}

/** Where the console maps the PL011's registers in its own address space. */
export const PL011_WINDOW = 0x20_0000_0000;

// 16550 registers (offsets from the base port) and bits: NS16550A datasheet.
const THR = 0;
const RBR = 0;
const DLL = 0;
const IER = 1;
const DLM = 1;
const FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const LCR_DLAB = 0x80;
const LCR_8N1 = 0x03;
const FCR_ENABLE_CLEAR = 0x07;
const LSR_THRE = 0x20;
const LSR_DR = 0x01;
const IER_ERBFI = 0x01;
/** DTR, RTS and OUT2, which gates the interrupt on PC serial cards. */
const MCR_DTR_RTS_OUT2 = 0x0b;

// PL011 registers (offsets) and bits: PrimeCell UART (PL011) TRM, §3.2–3.3.
const DR = 0x000;
const FR = 0x018;
const IBRD = 0x024;
const FBRD = 0x028;
const LCR_H = 0x02c;
const CR = 0x030;
const IMSC = 0x038;
const ICR = 0x044;
const FR_TXFF = 0x20;
const FR_RXFE = 0x10;
/** The receive and receive-timeout interrupts (IMSC RXIM/RTIM, ICR RXIC/RTIC). */
const INT_RX_RT = 0x50;
const LCRH_8BIT_FIFO = 0x70;
const CR_UARTEN_TXE_RXE = 0x301;

/**
 * Finds a UART in the KIP and gets its registers from sigma0: the 16550's eight ports,
 * or the PL011's page mapped at {@link PL011_WINDOW}. Returns why not, as a string,
 * when the machine has none or sigma0 refuses.
 */
export function* acquireUart(
  kip: KernelInterfacePage,
  sigma0: Sigma0Client,
): UserCode<DeviceAccess | string> {
  const uart = kipDeviceFor(kip, 'uart');
  if (uart?.ports) {
    const { base, count } = uart.ports;
    const got = yield* sigma0.ports(base, Math.ceil(Math.log2(count)));
    return got < 0
      ? `sigma0 refused the 16550's ports (${got})`
      : { device: uart.name, ports: { base, count } };
  }
  if (uart?.mmio) {
    const { base, size } = uart.mmio;
    const got = yield* sigma0.mmio(base, 12, PL011_WINDOW);
    return got < 0
      ? `sigma0 refused the PL011's registers (${got})`
      : { device: uart.name, mmio: { address: PL011_WINDOW, physical: base, size } };
  }
  return 'the KIP lists no UART';
}

/**
 * Initialises a UART the task can reach: 8N1, FIFOs on, interrupts off until
 * {@link UartPort.enableReceiveInterrupt}. Throws when `access` has neither ports nor
 * registers.
 */
export function* initUart(env: ThreadEnv, access: DeviceAccess): UserCode<UartPort> {
  if (access.ports) {
    const base = access.ports.base;
    const io = env.io;
    yield* io.out8(base + LCR, LCR_DLAB);
    yield* io.out8(base + DLL, 1); // 115,200 baud
    yield* io.out8(base + DLM, 0);
    yield* io.out8(base + LCR, LCR_8N1);
    yield* io.out8(base + FCR, FCR_ENABLE_CLEAR);
    yield* io.out8(base + IER, 0);
    yield* io.out8(base + MCR, MCR_DTR_RTS_OUT2);
    return {
      name: `16550 at port 0x${base.toString(16)}`,
      *putc(byte: number): UserCode<void> {
        while (((yield* io.in8(base + LSR)) & LSR_THRE) === 0) {
          /* the transmit holding register is full: wait */
        }
        yield* io.out8(base + THR, byte);
      },
      *enableReceiveInterrupt(): UserCode<void> {
        yield* io.out8(base + IER, IER_ERBFI);
      },
      *drain(into: number[]): UserCode<number> {
        // Reading RBR until LSR.DR clears also clears the receive interrupt.
        let n = 0;
        while (((yield* io.in8(base + LSR)) & LSR_DR) !== 0) {
          into.push(yield* io.in8(base + RBR));
          n++;
        }
        return n;
      },
    };
  }
  if (!access.mmio) throw new Error(`initUart: ${access.device} has neither ports nor registers`);
  const mem = env.mem;
  const r = access.mmio.address;
  yield* mem.writeU32(r + CR, 0);
  yield* mem.writeU32(r + IBRD, 13); // 115,200 baud from a 24 MHz UARTCLK
  yield* mem.writeU32(r + FBRD, 1);
  yield* mem.writeU32(r + LCR_H, LCRH_8BIT_FIFO);
  yield* mem.writeU32(r + IMSC, 0);
  yield* mem.writeU32(r + CR, CR_UARTEN_TXE_RXE);
  return {
    name: `PL011 at 0x${access.mmio.physical.toString(16)}`,
    *putc(byte: number): UserCode<void> {
      while (((yield* mem.readU32(r + FR)) & FR_TXFF) !== 0) {
        /* the transmit FIFO is full: wait */
      }
      yield* mem.writeU32(r + DR, byte);
    },
    *enableReceiveInterrupt(): UserCode<void> {
      yield* mem.writeU32(r + IMSC, INT_RX_RT);
    },
    *drain(into: number[]): UserCode<number> {
      let n = 0;
      while (((yield* mem.readU32(r + FR)) & FR_RXFE) === 0) {
        into.push((yield* mem.readU32(r + DR)) & 0xff);
        n++;
      }
      yield* mem.writeU32(r + ICR, INT_RX_RT);
      return n;
    },
  };
}

/**
 * Finds a UART in the KIP, gets its registers from sigma0 and initialises it. Returns
 * why not, as a string, when the machine has none or sigma0 refuses.
 */
export function* openUart(
  env: ThreadEnv,
  kip: KernelInterfacePage,
  sigma0: Sigma0Client,
): UserCode<UartPort | string> {
  const access = yield* acquireUart(kip, sigma0);
  return typeof access === 'string' ? access : yield* initUart(env, access);
}
