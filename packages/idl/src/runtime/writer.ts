import { Errno, FpageType, fpageType, mapItemControl, msgtag, objFpage, type Utcb } from '@pecan/kernel';
import type { Codec } from './codec';
import { IdlError } from './errors';
import type { Flexpage } from './flexpage';

const encoder = new TextEncoder();
/** In a `u`-mode pattern a surrogate pair is one code point, so this finds only lone halves. */
const LONE_SURROGATE = /\p{Cs}/u;

/** A byte view of a UTCB's message registers; strings and bytes are packed through it. */
export function mrBytes(utcb: Utcb): Uint8Array {
  return new Uint8Array(utcb.u32.buffer, utcb.u32.byteOffset, utcb.layout.mrCount * 8);
}

function invalid(what: string): IdlError {
  return new IdlError(-Errno.EINVAL, what);
}

/**
 * Marshals values into message registers, one word per scalar, from MR0 upwards; typed
 * items (caps, fpages) are collected and placed after the untyped words by
 * {@link Writer.finish}, where the kernel expects them. Every value is range-checked,
 * so a bad argument fails here with EINVAL instead of confusing the receiver.
 *
 * One writer per thread and stub, reused for every message: no allocation per call.
 */
export class Writer {
  readonly utcb: Utcb;
  /** Next untyped word. */
  pos = 0;
  private items = 0;
  private readonly itemWords: number[] = [];
  private readonly limit: number;
  private readonly raw: Uint8Array;

  constructor(utcb: Utcb) {
    this.utcb = utcb;
    this.limit = utcb.layout.mrCount;
    this.raw = mrBytes(utcb);
  }

  /** Starts a message. */
  begin(): this {
    this.pos = 0;
    this.items = 0;
    return this;
  }

  /** Reserves the next word. */
  private slot(): number {
    const p = this.pos;
    if (p + 2 * this.items >= this.limit) throw this.tooLong();
    this.pos = p + 1;
    return p;
  }

  private tooLong(): IdlError {
    return new IdlError(-Errno.EMSGTOOLONG, `message exceeds the ${this.limit} message registers`);
  }

  /** Writes a raw word (an opcode, a count): any integer in [−2^53, 2^64). */
  word(v: number): void {
    this.utcb.setMr(this.slot(), v);
  }

  bool(v: boolean): void {
    if (typeof v !== 'boolean') throw invalid(`bool value ${String(v)} is not a boolean`);
    this.utcb.setMr(this.slot(), v ? 1 : 0);
  }

  i8(v: number): void {
    if ((v << 24) >> 24 !== v) throw invalid(`i8 value ${v} is out of range`);
    this.utcb.setMr(this.slot(), v);
  }

  i16(v: number): void {
    if ((v << 16) >> 16 !== v) throw invalid(`i16 value ${v} is out of range`);
    this.utcb.setMr(this.slot(), v);
  }

  i32(v: number): void {
    if ((v | 0) !== v) throw invalid(`i32 value ${v} is out of range`);
    this.utcb.setMr(this.slot(), v);
  }

  u8(v: number): void {
    if ((v & 0xff) !== v) throw invalid(`u8 value ${v} is out of range`);
    this.utcb.setMr(this.slot(), v);
  }

  u16(v: number): void {
    if ((v & 0xffff) !== v) throw invalid(`u16 value ${v} is out of range`);
    this.utcb.setMr(this.slot(), v);
  }

  u32(v: number): void {
    if (v >>> 0 !== v) throw invalid(`u32 value ${v} is out of range`);
    this.utcb.setMr(this.slot(), v);
  }

  /** An enum value: an i32 that must be one of `values`. */
  enumValue(v: number, values: ReadonlySet<number>, type: string): void {
    if (!values.has(v)) throw invalid(`${String(v)} is not a value of enum ${type}`);
    this.utcb.setMr(this.slot(), v);
  }

  i64(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asIntN(64, v) !== v)
      throw invalid(`i64 value ${String(v)} is out of range`);
    this.utcb.setWord64(this.slot(), v);
  }

  u64(v: bigint): void {
    if (typeof v !== 'bigint' || BigInt.asUintN(64, v) !== v)
      throw invalid(`u64 value ${String(v)} is out of range`);
    this.utcb.setWord64(this.slot(), v);
  }

  f64(v: number): void {
    if (typeof v !== 'number') throw invalid(`f64 value ${String(v)} is not a number`);
    this.utcb.setWordF64(this.slot(), v);
  }

  /** A length word, then the bytes packed 8 per word, little-endian, zero-padded. */
  private packed(n: number): number {
    const words = Math.ceil(n / 8);
    if (this.pos + 1 + words + 2 * this.items > this.limit) throw this.tooLong();
    this.utcb.setMr(this.pos, n);
    const start = (this.pos + 1) * 8;
    // Zero the padding so no stale register contents travel to the receiver.
    this.raw.fill(0, start + n, start + words * 8);
    this.pos += 1 + words;
    return start;
  }

  /** A UTF-8 string of at most `max` bytes. */
  string(v: string, max: number): void {
    if (typeof v !== 'string') throw invalid(`string value ${String(v)} is not a string`);
    // UTF-8 cannot carry a lone surrogate; the encoder would silently substitute U+FFFD.
    if (LONE_SURROGATE.test(v)) throw invalid('string contains a lone UTF-16 surrogate');
    const start = (this.pos + 1) * 8;
    const room = Math.max(0, Math.min(max, (this.limit - 2 * this.items - this.pos - 1) * 8));
    const { read, written } = encoder.encodeInto(v, this.raw.subarray(start, start + room));
    if (read < v.length) {
      const length = encoder.encode(v).length;
      if (length > max) throw invalid(`string of ${length} UTF-8 bytes exceeds string<${max}>`);
      throw this.tooLong();
    }
    this.packed(written);
  }

  /** Bytes, at most `max`. */
  bytes(v: Uint8Array, max: number): void {
    if (!(v instanceof Uint8Array)) throw invalid('bytes value is not a Uint8Array');
    if (v.length > max) throw invalid(`${v.length} bytes exceed bytes<${max}>`);
    const start = this.packed(v.length);
    this.raw.set(v, start);
  }

  /** The count word of a sequence. */
  count(n: number, max: number): void {
    if (n > max) throw invalid(`sequence of ${n} elements exceeds its bound ${max}`);
    this.utcb.setMr(this.slot(), n);
  }

  /** A `sequence<T, max>`: the count, then each element. */
  sequence<T>(v: readonly T[], max: number, codec: Codec<T>): void {
    if (!Array.isArray(v)) throw invalid('sequence value is not an array');
    this.count(v.length, max);
    for (const e of v) codec.write(this, e);
  }

  /** A `T[length]`: exactly `length` elements, no count. */
  array<T>(v: readonly T[], length: number, codec: Codec<T>): void {
    if (!Array.isArray(v) || v.length !== length) {
      throw invalid(
        `array value needs exactly ${length} elements, got ${Array.isArray(v) ? v.length : 'none'}`,
      );
    }
    for (const e of v) codec.write(this, e);
  }

  private item(control: number, fpage: number): void {
    if (this.pos + 2 * (this.items + 1) > this.limit) throw this.tooLong();
    this.itemWords[2 * this.items] = control;
    this.itemWords[2 * this.items + 1] = fpage;
    this.items++;
  }

  /** A capability (index `slot << 12`), mapped to the receiver with `rights`. */
  cap(cap: number, rights: number): void {
    if (!Number.isSafeInteger(cap) || cap < 0 || cap % 4096 !== 0) {
      throw invalid(`capability index ${cap} is not a slot << 12`);
    }
    this.item(mapItemControl(0, false), objFpage(cap / 4096, 0, rights));
  }

  /** A memory or I/O flexpage, mapped or granted. */
  fpage(v: Flexpage): void {
    const word = v?.fpage;
    if (!Number.isSafeInteger(word) || word <= 0 || fpageType(word) === FpageType.OBJECT) {
      throw invalid(`fpage value ${String(word)} is not a memory or I/O flexpage (pass capabilities as cap)`);
    }
    const hot = v.hotSpot ?? 0;
    // The hot spot sits above bit 12 of the control word, which must stay a safe integer.
    if (!Number.isSafeInteger(hot) || hot < 0 || hot >= 2 ** 40) {
      throw invalid(`fpage hot spot ${hot} is not an integer from 0 to 2^40 - 1`);
    }
    this.item(mapItemControl(hot, v.grant === true), word);
  }

  /** Places the typed items after the untyped words and returns the message tag. */
  finish(label: number): number {
    const u = this.utcb;
    const w = this.itemWords;
    for (let i = 0; i < 2 * this.items; i++) u.setMr(this.pos + i, w[i]!);
    return msgtag(label, this.pos, this.items);
  }
}
