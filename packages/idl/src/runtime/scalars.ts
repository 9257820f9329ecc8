import { Errno, type Utcb } from '@pecan/kernel';
import { IdlError } from './errors';

/**
 * Scalars straight to and from message registers, for generated code whose values all
 * have fixed positions (every argument and result a scalar): the same range checks and
 * errors as {@link Writer} and {@link Reader}, without a cursor object per message.
 */

function tooBig(type: string, v: unknown): IdlError {
  return new IdlError(-Errno.EINVAL, `${type} value ${String(v)} is out of range`);
}

// --- writing: check the value, then set MR i; a bad value throws EINVAL --------------

export function putBool(u: Utcb, i: number, v: boolean): void {
  if (typeof v !== 'boolean') throw new IdlError(-Errno.EINVAL, `bool value ${String(v)} is not a boolean`);
  u.setMr(i, v ? 1 : 0);
}

export function putI8(u: Utcb, i: number, v: number): void {
  if ((v << 24) >> 24 !== v) throw tooBig('i8', v);
  u.setMr(i, v);
}

export function putI16(u: Utcb, i: number, v: number): void {
  if ((v << 16) >> 16 !== v) throw tooBig('i16', v);
  u.setMr(i, v);
}

export function putI32(u: Utcb, i: number, v: number): void {
  if ((v | 0) !== v) throw tooBig('i32', v);
  u.setMr(i, v);
}

export function putU8(u: Utcb, i: number, v: number): void {
  if ((v & 0xff) !== v) throw tooBig('u8', v);
  u.setMr(i, v);
}

export function putU16(u: Utcb, i: number, v: number): void {
  if ((v & 0xffff) !== v) throw tooBig('u16', v);
  u.setMr(i, v);
}

export function putU32(u: Utcb, i: number, v: number): void {
  if (v >>> 0 !== v) throw tooBig('u32', v);
  u.setMr(i, v);
}

export function putI64(u: Utcb, i: number, v: bigint): void {
  if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v) throw tooBig('i64', v);
  u.setWord64(i, v);
}

export function putU64(u: Utcb, i: number, v: bigint): void {
  if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v) throw tooBig('u64', v);
  u.setWord64(i, v);
}

export function putF64(u: Utcb, i: number, v: number): void {
  if (typeof v !== 'number') throw new IdlError(-Errno.EINVAL, `f64 value ${String(v)} is not a number`);
  u.setWordF64(i, v);
}

// --- checking received words: true when MR word `v` is a value of the type ----------

export function isBool(v: number): boolean {
  return v === 0 || v === 1;
}

export function isI8(v: number): boolean {
  return v >= -128 && v <= 127;
}

export function isI16(v: number): boolean {
  return v >= -32768 && v <= 32767;
}

export function isI32(v: number): boolean {
  return v >= -2147483648 && v <= 2147483647;
}

export function isU8(v: number): boolean {
  return v >= 0 && v <= 255;
}

export function isU16(v: number): boolean {
  return v >= 0 && v <= 65535;
}

export function isU32(v: number): boolean {
  return v >= 0 && v <= 4294967295;
}

// --- reading with a check: the value of MR i, or EINVAL -----------------------------

export function getI8(u: Utcb, i: number): number {
  const v = u.mr(i);
  if (!isI8(v)) throw tooBig('i8', v);
  return v;
}

export function getI16(u: Utcb, i: number): number {
  const v = u.mr(i);
  if (!isI16(v)) throw tooBig('i16', v);
  return v;
}

export function getI32(u: Utcb, i: number): number {
  const v = u.mr(i);
  if (!isI32(v)) throw tooBig('i32', v);
  return v;
}

export function getU8(u: Utcb, i: number): number {
  const v = u.mr(i);
  if (!isU8(v)) throw tooBig('u8', v);
  return v;
}

export function getU16(u: Utcb, i: number): number {
  const v = u.mr(i);
  if (!isU16(v)) throw tooBig('u16', v);
  return v;
}

export function getU32(u: Utcb, i: number): number {
  const v = u.mr(i);
  if (!isU32(v)) throw tooBig('u32', v);
  return v;
}

export function getBool(u: Utcb, i: number): boolean {
  const v = u.mr(i);
  if (!isBool(v)) throw tooBig('bool', v);
  return v === 1;
}

export function getI64(u: Utcb, i: number): bigint {
  return BigInt.asIntN(64, u.word64(i));
}

export function getU64(u: Utcb, i: number): bigint {
  return u.word64(i);
}

export function getF64(u: Utcb, i: number): number {
  return u.wordF64(i);
}
