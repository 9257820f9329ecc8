import type { Flexpage } from './flexpage';
import type { Reader } from './reader';
import type { Writer } from './writer';

/**
 * How to marshal one IDL type. Generated code writes scalars with direct
 * {@link Writer} calls on the fast path, and uses codecs for structs and for the
 * elements of sequences and arrays.
 */
export interface Codec<T> {
  write(w: Writer, v: T): void;
  read(r: Reader): T;
}

function scalar<T>(write: (w: Writer, v: T) => void, read: (r: Reader) => T): Codec<T> {
  return { write, read };
}

/** Codecs for every IDL type, and combinators for the composite ones. */
export const Codecs = {
  bool: scalar<boolean>(
    (w, v) => w.bool(v),
    (r) => r.bool(),
  ),
  i8: scalar<number>(
    (w, v) => w.i8(v),
    (r) => r.i8(),
  ),
  i16: scalar<number>(
    (w, v) => w.i16(v),
    (r) => r.i16(),
  ),
  i32: scalar<number>(
    (w, v) => w.i32(v),
    (r) => r.i32(),
  ),
  i64: scalar<bigint>(
    (w, v) => w.i64(v),
    (r) => r.i64(),
  ),
  u8: scalar<number>(
    (w, v) => w.u8(v),
    (r) => r.u8(),
  ),
  u16: scalar<number>(
    (w, v) => w.u16(v),
    (r) => r.u16(),
  ),
  u32: scalar<number>(
    (w, v) => w.u32(v),
    (r) => r.u32(),
  ),
  u64: scalar<bigint>(
    (w, v) => w.u64(v),
    (r) => r.u64(),
  ),
  f64: scalar<number>(
    (w, v) => w.f64(v),
    (r) => r.f64(),
  ),
  fpage: scalar<Flexpage>(
    (w, v) => w.fpage(v),
    (r) => r.fpage(),
  ),

  /** `string<max>`. */
  string(max: number): Codec<string> {
    return { write: (w, v) => w.string(v, max), read: (r) => r.string(max) };
  },

  /** `bytes<max>`. */
  bytes(max: number): Codec<Uint8Array> {
    return { write: (w, v) => w.bytes(v, max), read: (r) => r.bytes(max) };
  },

  /** `sequence<T, max>`. */
  sequence<T>(element: Codec<T>, max: number): Codec<T[]> {
    return { write: (w, v) => w.sequence(v, max, element), read: (r) => r.sequence(max, element) };
  },

  /** `T[length]`. */
  array<T>(element: Codec<T>, length: number): Codec<T[]> {
    return { write: (w, v) => w.array(v, length, element), read: (r) => r.array(length, element) };
  },

  /** `cap<I, rights>`: a capability index. */
  cap(rights: number): Codec<number> {
    return { write: (w, v) => w.cap(v, rights), read: (r) => r.cap() };
  },

  /** An enum, given its generated const object (`{ Red: 0, Green: 1 }`). */
  enumOf<E extends Readonly<Record<string, number>>>(e: E, name: string): Codec<E[keyof E]> {
    const values: ReadonlySet<number> = new Set(Object.values(e));
    return {
      write: (w, v) => w.enumValue(v, values, name),
      read: (r) => r.enumValue(values, name) as E[keyof E],
    };
  },
} as const;
