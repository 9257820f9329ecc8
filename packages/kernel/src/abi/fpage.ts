/**
 * Flexpages: an aligned 2^order range of one space (reference facts, "Flexpage word",
 * after Fiasco.OC): bits 0–3 rights, bits 4–5 type, bits 6–11 log2 of the size,
 * bit 12 and up the address.
 *
 * For object flexpages the address is a capability index (`slot << 12`) and the size
 * counts capabilities; for memory flexpages the address is a byte address and the size
 * counts bytes; for I/O flexpages the address is a port number shifted by 12.
 */

export const FpageType = {
  /** The nil flexpage / "special" type. */
  SPECIAL: 0,
  MEMORY: 1,
  IO: 2,
  OBJECT: 3,
} as const;
export type FpageType = (typeof FpageType)[keyof typeof FpageType];

/** Memory rights (X.2 order): r 4, w 2, x 1. */
export const MemRights = { R: 4, W: 2, X: 1, RW: 6, RX: 5, RWX: 7 } as const;

/** 2^i for i = 0…64, so that hot paths index a table instead of calling Math.pow. */
const POW2 = Float64Array.from({ length: 65 }, (_, i) => 2 ** i);

/** 2^`order` for an integer order from 0 to 64 (the size of a flexpage of that order). */
export function pow2(order: number): number {
  return POW2[order]!;
}

/** `x` rounded down to a multiple of `size` (a power of two), exact for x < 2^53. */
export function alignDown(x: number, size: number): number {
  return Math.floor(x / size) * size;
}

/** The nil flexpage. */
export const NIL_FPAGE = 0;

/** The largest order a flexpage may have (the 6-bit size field). */
export const FPAGE_MAX_ORDER = 63;

/** A decoded flexpage. */
export interface Fpage {
  readonly type: FpageType;
  /** log2 of the size, in bytes, ports or capabilities. */
  readonly order: number;
  /** First byte, port or slot of the range. */
  readonly base: number;
  readonly rights: number;
}

const ADDR = 4096;

/** An object flexpage covering `2^order` slots from `slot` (which must be aligned). */
export function objFpage(slot: number, order: number, rights: number): number {
  return slot * ADDR + order * 64 + FpageType.OBJECT * 16 + (rights & 0xf);
}

/** A memory flexpage covering `2^order` bytes from `address`. */
export function memFpage(address: number, order: number, rights: number): number {
  return Math.floor(address / ADDR) * ADDR + order * 64 + FpageType.MEMORY * 16 + (rights & 0xf);
}

/** An I/O flexpage covering `2^order` ports from `port`. */
export function ioFpage(port: number, order: number, rights = 0): number {
  return port * ADDR + order * 64 + FpageType.IO * 16 + (rights & 0xf);
}

/** The type field of a flexpage word. */
export function fpageType(word: number): FpageType {
  return ((word >>> 4) & 3) as FpageType;
}

/** The order (log2 size) field of a flexpage word. */
export function fpageOrder(word: number): number {
  return (word >>> 6) & 0x3f;
}

/** The rights field of a flexpage word. */
export function fpageRights(word: number): number {
  return word & 0xf;
}

/**
 * The first unit of the range: a slot for object flexpages, a port for I/O, a byte
 * address for memory.
 */
export function fpageBase(word: number): number {
  const addr = Math.floor(word / ADDR);
  return fpageType(word) === FpageType.MEMORY ? addr * ADDR : addr;
}

/** Decodes a flexpage word. */
export function decodeFpage(word: number): Fpage {
  return { type: fpageType(word), order: fpageOrder(word), base: fpageBase(word), rights: fpageRights(word) };
}

/** True when the base is aligned to the flexpage's size, as X.2 requires. */
export function fpageIsAligned(word: number): boolean {
  const order = fpageOrder(word);
  const base = fpageBase(word);
  return order >= 53 ? base === 0 : base % 2 ** order === 0;
}
