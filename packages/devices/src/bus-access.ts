/**
 * How the register models turn a CPU access of any width into accesses to their
 * registers, and the checks that keep bad guest input from reaching them.
 *
 * - Port devices (8-bit ISA peripherals such as the 16550 and the MC146818) decode
 *   single bytes. A 2- or 4-byte `in`/`out` reaches them the way the PC's ISA bridge
 *   delivers it: as consecutive byte cycles at `port`, `port + 1`, … , least significant
 *   byte first. Bytes that fall outside the device's ports read as 0xFF (an undriven ISA
 *   data bus) and are not written. x86 has no 8-byte `in`/`out`, so an 8-byte access
 *   reads 0 and writes nothing.
 * - MMIO devices (AMBA APB peripherals such as the PL011 and PL031) have 32-bit
 *   registers on word boundaries. A 1- or 2-byte read returns the addressed byte lanes
 *   of the register (the whole register is read, with its side effects); a 1- or 2-byte
 *   write drives the value on its byte lanes and zero on the others, and the register
 *   takes the whole word (APB has no byte strobes). An 8-byte access becomes two 32-bit
 *   accesses, lower word first, as an AXI-to-APB bridge splits it; the value read keeps
 *   bits 0–52 (device.ts allows at most 2^53 − 1). An access that is not aligned to its
 *   own width reads 0 and writes nothing: on AArch64 such an access to Device memory
 *   takes an alignment fault in the CPU and never reaches the bus.
 *
 * Widths other than 1, 2, 4, 8 and offsets that are not non-negative integers inside the
 * window read 0 and write nothing. None of these helpers throws.
 *
 * @module
 */
import type { AccessWidth } from './device';

/** True for 1, 2, 4 or 8. */
export function isAccessWidth(width: unknown): width is AccessWidth {
  return width === 1 || width === 2 || width === 4 || width === 8;
}

/** A non-negative safe integer. */
function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Reads `width` bytes from a byte-wide port device through `readByte`, splitting the
 * access into byte cycles as the ISA bus does; ports outside `[0, portCount)` read 0xFF.
 */
export function readPortBytes(
  offset: number,
  width: AccessWidth,
  portCount: number,
  readByte: (port: number) => number,
): number {
  if (!isIndex(offset) || (width !== 1 && width !== 2 && width !== 4)) return 0;
  let value = 0;
  for (let i = 0; i < width; i++) {
    const port = offset + i;
    const byte = port < portCount ? readByte(port) & 0xff : 0xff;
    value += byte * 2 ** (8 * i);
  }
  return value;
}

/**
 * Writes `width` bytes of `value` to a byte-wide port device through `writeByte`, least
 * significant byte to the lowest port; ports outside `[0, portCount)` are skipped.
 */
export function writePortBytes(
  offset: number,
  width: AccessWidth,
  value: number,
  portCount: number,
  writeByte: (port: number, byte: number) => void,
): void {
  if (!isIndex(offset) || (width !== 1 && width !== 2 && width !== 4)) return;
  const v = value >>> 0;
  for (let i = 0; i < width; i++) {
    const port = offset + i;
    if (port < portCount) writeByte(port, (v >>> (8 * i)) & 0xff);
  }
}

/** True when an access of `width` bytes at `offset` lies inside a `size`-byte window and is naturally aligned. */
function mmioAccessOk(offset: number, width: AccessWidth, size: number): boolean {
  return isAccessWidth(width) && isIndex(offset) && offset % width === 0 && offset + width <= size;
}

/**
 * Reads from a bank of 32-bit registers: `readWord` gets the word-aligned offset and
 * returns the register (its side effects happen once per word touched).
 */
export function readMmio32(
  offset: number,
  width: AccessWidth,
  size: number,
  readWord: (wordOffset: number) => number,
): number {
  if (!mmioAccessOk(offset, width, size)) return 0;
  if (width === 8) {
    const lo = readWord(offset) >>> 0;
    const hi = readWord(offset + 4) >>> 0;
    return (hi & 0x1f_ffff) * 2 ** 32 + lo;
  }
  const word = readWord(offset - (offset & 3)) >>> 0;
  if (width === 4) return word;
  const shift = 8 * (offset & 3);
  return (word >>> shift) & (width === 1 ? 0xff : 0xffff);
}

/**
 * Writes to a bank of 32-bit registers: narrow writes put `value` on its byte lanes with
 * zero elsewhere; `writeWord` gets the word-aligned offset and the 32-bit value.
 */
export function writeMmio32(
  offset: number,
  width: AccessWidth,
  value: number,
  size: number,
  writeWord: (wordOffset: number, value: number) => void,
): void {
  if (!mmioAccessOk(offset, width, size)) return;
  if (width === 8) {
    writeWord(offset, value >>> 0);
    writeWord(offset + 4, Math.floor(Number.isFinite(value) ? value / 2 ** 32 : 0) >>> 0);
    return;
  }
  if (width === 4) {
    writeWord(offset, value >>> 0);
    return;
  }
  const shift = 8 * (offset & 3);
  const lanes = (value >>> 0) & (width === 1 ? 0xff : 0xffff);
  writeWord(offset - (offset & 3), (lanes << shift) >>> 0);
}

/** Checks an optional {@link IrqLine}-shaped constructor option. */
export function checkIrqOption(device: string, irq: unknown): void {
  if (irq === undefined) return;
  if (typeof irq !== 'object' || irq === null || typeof (irq as { set?: unknown }).set !== 'function') {
    throw new TypeError(`${device}: options.irq must be an IrqLine (an object with a set(level) method)`);
  }
}

/** Checks a required `now` clock option. */
export function checkClockOption(device: string, now: unknown): void {
  if (typeof now !== 'function') {
    throw new TypeError(
      `${device}: options.now must be a function returning milliseconds since the Unix epoch`,
    );
  }
}

/** Checks an optional device name. */
export function checkNameOption(device: string, name: unknown): void {
  if (name === undefined) return;
  if (typeof name !== 'string' || name.length === 0) {
    throw new TypeError(`${device}: options.name must be a non-empty string`);
  }
}
