/**
 * The message tag, laid out as Fiasco.OC's `l4_msgtag_t` (reference facts,
 * "Message tag"): bits 0–5 word count, bits 6–11 typed-item count, bits 12–15 flags,
 * bit 16 and up the (signed) label.
 *
 * Tags are plain numbers. The label is restricted to ±2^36 so that every tag stays a
 * safe integer; 32-bit bitwise operators still see the correct low 16 bits of a
 * negative tag because ToInt32 wraps modulo 2^32.
 */

/** The sender transfers its FPU state (accepted, ignored: Pecan has no FPU state). */
export const MSGTAG_FLAG_TRANSFER_FPU = 0x1000;
/** Schedule flag (accepted, ignored). */
export const MSGTAG_FLAG_SCHEDULE = 0x2000;
/** Propagate flag (accepted, ignored). */
export const MSGTAG_FLAG_PROPAGATE = 0x4000;
/** Set by the kernel in a result tag when the IPC failed; the code is in the error TCR. */
export const MSGTAG_FLAG_ERROR = 0x8000;

/** Largest magnitude of a tag label. */
export const MSGTAG_LABEL_LIMIT = 2 ** 36;

const LOW = 0x10000;

/** Builds a tag. `words` and `items` must each fit in 6 bits. */
export function msgtag(label: number, words: number, items = 0, flags = 0): number {
  return label * LOW + ((flags & 0xf000) | ((items & 0x3f) << 6) | (words & 0x3f));
}

/** The untyped word count of a tag. */
export function tagWords(tag: number): number {
  return tag & 0x3f;
}

/** The typed item count of a tag (each item takes two message registers). */
export function tagItems(tag: number): number {
  return (tag >>> 6) & 0x3f;
}

/** The flag bits of a tag. */
export function tagFlags(tag: number): number {
  return tag & 0xf000;
}

/** The label (protocol) of a tag; negative labels are the kernel protocols. */
export function tagLabel(tag: number): number {
  return (tag - (tag & 0xffff)) / LOW;
}

/** True when the kernel flagged the IPC that returned this tag as failed. */
export function tagHasError(tag: number): boolean {
  return (tag & MSGTAG_FLAG_ERROR) !== 0;
}
