/**
 * IPC timeouts, encoded as Fiasco.OC's 16-bit `l4_timeout_s` and X.2's relative
 * timeouts (reference facts, "Timeouts (X.2)"): a relative timeout is m·2^e µs with a
 * 10-bit mantissa and a 5-bit exponent; 0 means never; a zero mantissa with a
 * non-zero exponent is the zero timeout. The timeouts word is `send << 16 | receive`.
 */

/** Wait forever. */
export const TIMEOUT_NEVER = 0;
/** Do not wait at all. */
export const TIMEOUT_ZERO = 0x0400;

const MANTISSA_MAX = 0x3ff;
const EXPONENT_MAX = 31;

/**
 * The relative timeout that is closest to, and not shorter than, `us` microseconds.
 * Exact whenever `us` is m·2^e with m < 1024.
 */
export function timeoutUs(us: number): number {
  if (!Number.isFinite(us) || us < 0)
    throw new RangeError(`timeout must be a finite, non-negative µs count, got ${us}`);
  if (us === 0) return TIMEOUT_ZERO;
  let m = Math.ceil(us);
  let e = 0;
  while (m > MANTISSA_MAX) {
    m = Math.ceil(m / 2);
    e++;
  }
  if (e > EXPONENT_MAX) throw new RangeError(`timeout of ${us} µs exceeds the largest encodable timeout`);
  return (e << 10) | m;
}

/**
 * True for every encoding of the zero timeout: a zero mantissa with any non-zero
 * exponent (0 itself is never).
 */
export function isZeroTimeout(t: number): boolean {
  return t !== TIMEOUT_NEVER && (t & MANTISSA_MAX) === 0;
}

/** The timeouts word for an IPC: send timeout in the high half, receive in the low. */
export function timeouts(send: number, receive: number): number {
  return ((send & 0xffff) << 16) | (receive & 0xffff);
}

/** The send-phase half of a timeouts word. */
export function sendTimeout(word: number): number {
  return (word >>> 16) & 0xffff;
}

/** The receive-phase half of a timeouts word. */
export function receiveTimeout(word: number): number {
  return word & 0xffff;
}

/**
 * Microseconds that a 16-bit timeout stands for: `Infinity` for never, 0 for zero.
 */
export function timeoutMicroseconds(t: number): number {
  if (t === TIMEOUT_NEVER) return Number.POSITIVE_INFINITY;
  const m = t & MANTISSA_MAX;
  const e = (t >>> 10) & 0x1f;
  return m * 2 ** e;
}
