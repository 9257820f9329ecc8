import {
  Errno,
  FpageType,
  fpageBase,
  fpageType,
  ITEM_GRANT,
  ITEM_MAP,
  tagItems,
  tagWords,
  type Utcb,
} from '@pecan/kernel';
import type { Codec } from './codec';
import { IdlError } from './errors';
import type { Flexpage } from './flexpage';
import { mrBytes } from './writer';

const decoder = new TextDecoder('utf-8', { fatal: true });

function invalid(what: string): IdlError {
  return new IdlError(-Errno.EINVAL, what);
}

/**
 * Unmarshals a received message: the mirror of {@link Writer}. It trusts nothing in the
 * registers: a missing word or item is EMSGTOOSHORT, a value outside its type (a u8 of
 * 300, a bool of 2, an unknown enum value, a string over its bound or not UTF-8) is
 * EINVAL, and words or items left over are EMSGTOOLONG.
 */
export class Reader {
  readonly utcb: Utcb;
  /** Next untyped word. */
  pos = 0;
  /** Untyped words in the message. */
  end = 0;
  private item = 0;
  private items = 0;
  /**
   * Set by {@link Reader.done}: the request was decoded completely, so an error thrown
   * after it comes from the implementation, not from the message.
   */
  decoded = false;
  private readonly raw: Uint8Array;

  constructor(utcb: Utcb) {
    this.utcb = utcb;
    this.raw = mrBytes(utcb);
  }

  /** Starts reading the message that `tag` describes. */
  begin(tag: number): this {
    this.pos = 0;
    this.end = tagWords(tag);
    this.item = 0;
    this.items = tagItems(tag);
    this.decoded = false;
    return this;
  }

  /** The number of typed items in the message. */
  get itemCount(): number {
    return this.items;
  }

  private slot(): number {
    const p = this.pos;
    if (p >= this.end) throw new IdlError(-Errno.EMSGTOOSHORT, `message ends after ${this.end} words`);
    this.pos = p + 1;
    return p;
  }

  /** A raw word as a number (exact within ±2^53). */
  word(): number {
    return this.utcb.word(this.slot());
  }

  private ranged(lo: number, hi: number, type: string): number {
    const v = this.utcb.word(this.slot());
    if (v < lo || v > hi) throw invalid(`${type} value ${v} is out of range`);
    return v;
  }

  bool(): boolean {
    return this.ranged(0, 1, 'bool') === 1;
  }

  i8(): number {
    return this.ranged(-128, 127, 'i8');
  }

  i16(): number {
    return this.ranged(-32768, 32767, 'i16');
  }

  i32(): number {
    return this.ranged(-2147483648, 2147483647, 'i32');
  }

  u8(): number {
    return this.ranged(0, 255, 'u8');
  }

  u16(): number {
    return this.ranged(0, 65535, 'u16');
  }

  u32(): number {
    return this.ranged(0, 4294967295, 'u32');
  }

  i64(): bigint {
    return BigInt.asIntN(64, this.utcb.word64(this.slot()));
  }

  u64(): bigint {
    return this.utcb.word64(this.slot());
  }

  f64(): number {
    return this.utcb.wordF64(this.slot());
  }

  /** An enum value: an i32 that must be one of `values`. */
  enumValue(values: ReadonlySet<number>, type: string): number {
    const v = this.i32();
    if (!values.has(v)) throw invalid(`${v} is not a value of enum ${type}`);
    return v;
  }

  private packed(max: number, type: string): [start: number, length: number] {
    const n = this.ranged(0, max, type);
    const words = Math.ceil(n / 8);
    if (this.pos + words > this.end) {
      throw new IdlError(
        -Errno.EMSGTOOSHORT,
        `${type} of ${n} bytes runs past the message's ${this.end} words`,
      );
    }
    const start = this.pos * 8;
    this.pos += words;
    return [start, n];
  }

  string(max: number): string {
    const [start, n] = this.packed(max, `string<${max}> length`);
    try {
      return decoder.decode(this.raw.subarray(start, start + n));
    } catch {
      throw invalid('string is not valid UTF-8');
    }
  }

  /** Bytes, copied out of the registers (the next message overwrites them). */
  bytes(max: number): Uint8Array {
    const [start, n] = this.packed(max, `bytes<${max}> length`);
    return this.raw.slice(start, start + n);
  }

  /** The count word of a sequence. */
  count(max: number): number {
    return this.ranged(0, max, 'sequence length');
  }

  sequence<T>(max: number, codec: Codec<T>): T[] {
    const n = this.count(max);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(codec.read(this));
    return out;
  }

  array<T>(length: number, codec: Codec<T>): T[] {
    const out: T[] = [];
    for (let i = 0; i < length; i++) out.push(codec.read(this));
    return out;
  }

  /** The next typed item: its control word and received flexpage. */
  private nextItem(type: string): [control: number, fpage: number] {
    if (this.item >= this.items) {
      throw new IdlError(-Errno.EMSGTOOSHORT, `message has no typed item left for ${type}`);
    }
    const k = this.end + 2 * this.item++;
    const control = this.utcb.word(k);
    const fpage = this.utcb.word(k + 1);
    if (control < 0 || (control & ITEM_MAP) === 0) throw invalid(`typed item for ${type} is not a map item`);
    return [control, fpage];
  }

  /** A received capability: the index (`slot << 12`) where it landed. */
  cap(): number {
    const [, fp] = this.nextItem('a cap');
    if (fp < 0 || fpageType(fp) !== FpageType.OBJECT)
      throw invalid('typed item for a cap is not an object flexpage');
    return fpageBase(fp) * 4096;
  }

  /** A received flexpage: where it landed, whether it was granted, and its hot spot. */
  fpage(): Flexpage {
    const [control, fp] = this.nextItem('an fpage');
    const type = fp > 0 ? fpageType(fp) : FpageType.SPECIAL;
    if (type !== FpageType.MEMORY && type !== FpageType.IO) {
      throw invalid('typed item for an fpage is not a memory or I/O flexpage');
    }
    return { fpage: fp, grant: (control & ITEM_GRANT) !== 0, hotSpot: Math.floor(control / 4096) };
  }

  /** Checks that the whole message was consumed, and marks it decoded. */
  done(): void {
    if (this.pos !== this.end || this.item !== this.items) {
      throw new IdlError(
        -Errno.EMSGTOOLONG,
        `message has ${this.end - this.pos} words and ${this.items - this.item} typed items more than expected`,
      );
    }
    this.decoded = true;
  }
}
