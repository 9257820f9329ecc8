/**
 * Helpers shared by the decoders of kernel-object invocations: they read arguments
 * from the caller's message registers and check them, returning a negative errno
 * instead of a value when an argument is bad. A decoder that returns without an
 * errno guarantees that the matching perform step cannot fail.
 */
import { Errno } from '../abi/errors';
import { msgtag } from '../abi/msgtag';
import type { Cap } from '../cap/cap-space';
import { CapSpace } from '../cap/cap-space';
import type { Thread } from './thread';

/** The reply tag of a successful operation with `words` reply words in MR0…. */
export function replyOk(words = 0): number {
  return msgtag(0, words);
}

/** The reply tag of a failed operation: label −errno, as Fiasco.OC's kernel objects reply. */
export function replyError(errno: number): number {
  return msgtag(-errno, 0);
}

/** True when `v` is a capability index (slot << 12, no stray low bits) of a valid slot. */
export function isCapIndex(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0 && v % 4096 === 0 && CapSpace.validSlot(v / 4096);
}

/**
 * The capability that the capability index in MR `mr` names in the caller's task,
 * or a negative errno: EINVAL for a malformed index or an empty slot.
 */
export function capArg(caller: Thread, mr: number): Cap | number {
  const v = caller.utcb.mr(mr);
  if (!isCapIndex(v)) return -Errno.EINVAL;
  const cap = caller.task?.caps.lookup(v / 4096);
  return cap ?? -Errno.EINVAL;
}

/** True when `v` is a safe integer in [lo, hi]. */
export function inRange(v: number, lo: number, hi: number): boolean {
  return Number.isSafeInteger(v) && v >= lo && v <= hi;
}

/** True when `cap` carries every right in `rights`. */
export function hasRights(cap: Cap, rights: number): boolean {
  return (cap.rights & rights) === rights;
}
