/**
 * Protocol numbers: the tag label of an interface's requests.
 *
 * An interface without an explicit `protocol N` gets FNV-1a (32-bit) of its
 * fully-qualified name's UTF-8 bytes, masked to 31 bits so the label is positive
 * (negative labels are the kernel's protocols: page fault, exception, IRQ, …). A hash of
 * 0 becomes 1, so that no interface shares label 0 with untyped messages.
 */

/** Largest protocol number: labels stay positive 31-bit values. */
export const MAX_PROTOCOL = 0x7fff_ffff;

/** FNV-1a, 32-bit, over `text`'s UTF-8 bytes. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(text)) {
    h ^= b;
    h = Math.imul(h, 0x0100_0193) >>> 0;
  }
  return h >>> 0;
}

/** The protocol number an interface named `fqn` gets when none is written. */
export function derivedProtocol(fqn: string): number {
  return fnv1a32(fqn) & MAX_PROTOCOL || 1;
}
