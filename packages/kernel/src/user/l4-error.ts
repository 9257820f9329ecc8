import { EIPC_LO } from '../abi/errors';
import type { Utcb } from '../abi/utcb';

/**
 * Folds an IPC result into one number, as L4Re's `l4_error()` does: −(2000 + code)
 * for an IPC error (code from the error TCR), the label when it is negative (a
 * kernel object's −errno), otherwise 0.
 */
export function l4Error(tag: number, utcb: Utcb): number {
  if (tag & 0x8000) return -(EIPC_LO + utcb.error);
  const label = (tag - (tag & 0xffff)) / 0x10000;
  return Math.min(label, 0);
}
