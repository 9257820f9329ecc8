/**
 * The host side of the serial ports ({@link Uart16550}, {@link Pl011}): where transmitted
 * bytes go and how received bytes are given. Shared so both UARTs present the same API.
 *
 * @module
 */

/**
 * Bytes the host feeds a UART's receiver: a string (sent as UTF-8), a `Uint8Array`, or
 * any iterable of integers 0–255.
 */
export type SerialInput = string | Uint8Array | Iterable<number>;

/** Options every UART model takes for its host side. */
export interface SerialHostOptions {
  /**
   * Called with each byte the UART puts on its transmit line, in order. When given, the
   * bytes are not also collected into {@link SerialHost.transmitted}.
   */
  readonly onTransmit?: (byte: number) => void;
}

/** The host-facing half of a UART model. */
export interface SerialHost {
  /**
   * Bytes transmitted and not yet taken with {@link takeOutput}, oldest first (always
   * empty when an `onTransmit` callback was given). The array is live: the model appends
   * to it; the host may read it or empty it.
   */
  readonly transmitted: number[];
  /**
   * Returns the bytes transmitted since the last call, decoded as UTF-8 (a multi-byte
   * character split across calls is completed by the next call), and empties
   * {@link transmitted}.
   */
  takeOutput(): string;
  /**
   * Puts bytes on the UART's receive line, as if a terminal had sent them back to back.
   * What the receiver cannot hold is lost exactly as on the hardware (overrun); a host
   * that must not lose input should send at most {@link rxFree} bytes at a time.
   *
   * @throws RangeError when an element of an iterable is not an integer 0–255 (the whole
   *   call is then ignored). This is host misuse, not guest input.
   */
  receive(bytes: SerialInput): void;
  /**
   * How many more bytes the receiver can take now without an overrun: 0 while the
   * receiver is disconnected from the line (disabled, or in loopback).
   */
  readonly rxFree: number;
}

const encoder = new TextEncoder();

/** Converts {@link SerialInput} to bytes, checking every element before any is used. */
export function toSerialBytes(device: string, input: SerialInput): Uint8Array {
  if (typeof input === 'string') return encoder.encode(input);
  if (input instanceof Uint8Array) return input;
  const out: number[] = [];
  for (const b of input) {
    if (!Number.isInteger(b) || b < 0 || b > 0xff) {
      throw new RangeError(`${device}.receive: ${String(b)} is not a byte (an integer 0–255)`);
    }
    out.push(b);
  }
  return Uint8Array.from(out);
}

/** Where a UART's transmitted bytes go: a callback, or a buffer the host drains. */
export class TransmitSink {
  /** See {@link SerialHost.transmitted}. */
  readonly transmitted: number[] = [];
  private readonly decoder = new TextDecoder('utf-8');
  private readonly onTransmit: ((byte: number) => void) | undefined;

  constructor(device: string, onTransmit: unknown) {
    if (onTransmit !== undefined && typeof onTransmit !== 'function') {
      throw new TypeError(`${device}: options.onTransmit must be a function (byte: number) => void`);
    }
    this.onTransmit = onTransmit as ((byte: number) => void) | undefined;
  }

  /** Sends one byte to the host. */
  put(byte: number): void {
    if (this.onTransmit !== undefined) this.onTransmit(byte);
    else this.transmitted.push(byte);
  }

  /** See {@link SerialHost.takeOutput}. */
  take(): string {
    const bytes = Uint8Array.from(this.transmitted);
    this.transmitted.length = 0;
    return this.decoder.decode(bytes, { stream: true });
  }
}
