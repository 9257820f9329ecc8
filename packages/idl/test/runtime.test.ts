import {
  type Codec,
  Codecs,
  type Flexpage,
  IdlError,
  Reader,
  ReceiveWindows,
  Writer,
} from '@pecan/idl/runtime';
import {
  Errno,
  FIASCO_AMD64_UTCB,
  ioFpage,
  memFpage,
  type ThreadEnv,
  tagItems,
  tagLabel,
  tagWords,
  Utcb,
} from '@pecan/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

function utcb(): Utcb {
  return new Utcb(new ArrayBuffer(FIASCO_AMD64_UTCB.sizeWords * 8), 0, FIASCO_AMD64_UTCB);
}

/** Marshals `v` and reads it back through a fresh reader of the same registers. */
function roundTrip<T>(codec: Codec<T>, v: T): T {
  const u = utcb();
  const w = new Writer(u).begin();
  codec.write(w, v);
  const tag = w.finish(0);
  const r = new Reader(u).begin(tag);
  const out = codec.read(r);
  r.done();
  return out;
}

/** The IdlError code `f` throws, or 0. */
function codeOf(f: () => void): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof IdlError) return e.code;
    throw e;
  }
}

const utf8 = (s: string): number => new TextEncoder().encode(s).length;

/** A random IDL type, as a codec plus an arbitrary for its values. */
interface Schema {
  readonly name: string;
  readonly codec: Codec<unknown>;
  readonly value: fc.Arbitrary<unknown>;
}

const I64_EXTREMES = [0n, 1n, -1n, -(2n ** 63n), 2n ** 63n - 1n];
const U64_EXTREMES = [0n, 1n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];

const scalars: Schema[] = [
  { name: 'bool', codec: Codecs.bool, value: fc.boolean() },
  { name: 'i8', codec: Codecs.i8, value: fc.integer({ min: -128, max: 127 }) },
  { name: 'i16', codec: Codecs.i16, value: fc.integer({ min: -32768, max: 32767 }) },
  { name: 'i32', codec: Codecs.i32, value: fc.integer() },
  { name: 'u8', codec: Codecs.u8, value: fc.integer({ min: 0, max: 255 }) },
  { name: 'u16', codec: Codecs.u16, value: fc.integer({ min: 0, max: 65535 }) },
  { name: 'u32', codec: Codecs.u32, value: fc.integer({ min: 0, max: 2 ** 32 - 1 }) },
  {
    name: 'i64',
    codec: Codecs.i64,
    value: fc.oneof(fc.constantFrom(...I64_EXTREMES), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  },
  {
    name: 'u64',
    codec: Codecs.u64,
    value: fc.oneof(fc.constantFrom(...U64_EXTREMES), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
  },
  { name: 'f64', codec: Codecs.f64, value: fc.double() },
];

const Color = { Red: 0, Green: 5, Blue: -7 } as const;

const leaves: fc.Arbitrary<Schema> = fc.oneof(
  fc.constantFrom(...scalars),
  fc.integer({ min: 1, max: 40 }).map((max) => ({
    name: `string<${max}>`,
    codec: Codecs.string(max) as Codec<unknown>,
    value: fc.string({ unit: 'grapheme', maxLength: max }).filter((s) => utf8(s) <= max),
  })),
  fc.integer({ min: 1, max: 40 }).map((max) => ({
    name: `bytes<${max}>`,
    codec: Codecs.bytes(max) as Codec<unknown>,
    value: fc.uint8Array({ maxLength: max }),
  })),
  fc.constant({
    name: 'enum Color',
    codec: Codecs.enumOf(Color, 'Color') as Codec<unknown>,
    value: fc.constantFrom(...Object.values(Color)),
  }),
  fc.integer({ min: 0, max: 15 }).map((rights) => ({
    name: 'cap',
    codec: Codecs.cap(rights) as Codec<unknown>,
    value: fc.integer({ min: 0, max: 2 ** 20 - 1 }).map((slot) => slot * 4096),
  })),
  fc.constant({
    name: 'fpage',
    codec: Codecs.fpage as Codec<unknown>,
    value: fc
      .record({
        page: fc.integer({ min: 0, max: 2 ** 30 }),
        order: fc.integer({ min: 12, max: 40 }),
        io: fc.boolean(),
        rights: fc.integer({ min: 0, max: 7 }),
        grant: fc.boolean(),
        hotSpot: fc.integer({ min: 0, max: 2 ** 40 - 1 }),
      })
      .map(
        (f): Flexpage => ({
          fpage: f.io ? ioFpage(f.page % 65536, 0) : memFpage(f.page * 4096, f.order, f.rights),
          grant: f.grant,
          hotSpot: f.hotSpot,
        }),
      ),
  }),
);

/** A struct: its fields written one after the other (what generated struct codecs do). */
function struct(fields: Schema[]): Schema {
  const codec: Codec<unknown[]> = {
    write: (w, v) => {
      for (const [i, f] of fields.entries()) f.codec.write(w, v[i]);
    },
    read: (r) => fields.map((f) => f.codec.read(r)),
  };
  return {
    name: `struct { ${fields.map((f) => f.name).join('; ')} }`,
    codec: codec as Codec<unknown>,
    value: fc.tuple(...fields.map((f) => f.value)),
  };
}

const schema: fc.Arbitrary<Schema> = fc.letrec<{ type: Schema }>((tie) => ({
  type: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaves,
    fc.tuple(tie('type'), fc.integer({ min: 1, max: 6 })).map(([e, max]) => ({
      name: `sequence<${e.name}, ${max}>`,
      codec: Codecs.sequence(e.codec, max) as Codec<unknown>,
      value: fc.array(e.value, { maxLength: max }),
    })),
    fc.tuple(tie('type'), fc.integer({ min: 1, max: 4 })).map(([e, n]) => ({
      name: `${e.name}[${n}]`,
      codec: Codecs.array(e.codec, n) as Codec<unknown>,
      value: fc.array(e.value, { minLength: n, maxLength: n }),
    })),
    fc.array(tie('type'), { minLength: 1, maxLength: 4 }).map(struct),
  ),
})).type;

describe('runtime marshalling', () => {
  it('round-trips every scalar type exactly, extremes included', () => {
    for (const s of scalars) {
      fc.assert(
        fc.property(s.value, (v) => {
          expect(roundTrip(s.codec, v)).toEqual(v);
        }),
        { numRuns: 300 },
      );
    }
    for (const v of U64_EXTREMES) expect(roundTrip(Codecs.u64, v)).toBe(v);
    for (const v of I64_EXTREMES) expect(roundTrip(Codecs.i64, v)).toBe(v);
    expect(Object.is(roundTrip(Codecs.f64, -0), -0)).toBe(true);
    expect(roundTrip(Codecs.f64, Number.NaN)).toBeNaN();
  });

  it('round-trips empty and maximal strings and bytes', () => {
    for (const max of [1, 7, 8, 9, 64, 488]) {
      for (const s of [
        '',
        'x'.repeat(max),
        'é'.repeat(Math.floor(max / 2)),
        '😀'.repeat(Math.floor(max / 4)),
      ]) {
        expect(roundTrip(Codecs.string(max), s)).toBe(s);
      }
      for (const b of [new Uint8Array(0), new Uint8Array(max).fill(0xff)]) {
        expect(roundTrip(Codecs.bytes(max), b)).toEqual(b);
      }
    }
  });

  it('round-trips random values of random composite types', () => {
    fc.assert(
      fc.property(
        schema.chain((s) => fc.tuple(fc.constant(s), s.value)),
        ([s, v]) => {
          let out: unknown;
          try {
            out = roundTrip(s.codec, v);
          } catch (e) {
            // Large random types may simply not fit the 63 registers.
            if (e instanceof IdlError && e.code === -Errno.EMSGTOOLONG) return;
            throw e;
          }
          expect(out).toEqual(v);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('packs strings eight bytes per word, little-endian, zero-padded, after a length word', () => {
    const u = utcb();
    u.setWord64(2, 0xffff_ffff_ffff_ffffn); // stale contents must not leak into padding
    const w = new Writer(u).begin();
    w.string('abcdefghi', 16);
    expect(w.finish(0) & 0x3f).toBe(3);
    expect([u.word64(0), u.word64(1), u.word64(2)]).toEqual([9n, 0x6867666564636261n, 0x69n]);
  });

  it('puts typed items after the untyped words and counts them in the tag', () => {
    const u = utcb();
    const w = new Writer(u).begin();
    w.u32(7);
    w.cap(20 * 4096, 0x5);
    w.u32(8);
    const tag = w.finish(0x42);
    expect([tagWords(tag), tagItems(tag), tagLabel(tag)]).toEqual([2, 1, 0x42]);
    expect([u.mr(0), u.mr(1), u.mr(2), u.mr(3)]).toEqual([7, 8, 0x8, 20 * 4096 + 0x30 + 0x5]);
  });

  it('rejects values outside their type when writing (EINVAL)', () => {
    const w = new Writer(utcb()).begin();
    const bad: [string, () => void][] = [
      ['u8 256', () => w.u8(256)],
      ['i8 -129', () => w.i8(-129)],
      ['u16 1.5', () => w.u16(1.5)],
      ['u32 2^32', () => w.u32(2 ** 32)],
      ['i32 2^31', () => w.i32(2 ** 31)],
      ['u64 -1', () => w.u64(-1n)],
      ['u64 2^64', () => w.u64(2n ** 64n)],
      ['i64 2^63', () => w.i64(2n ** 63n)],
      ['string over bound', () => w.string('ééé', 5)],
      ['lone surrogate', () => w.string('a\ud800', 8)],
      ['bytes over bound', () => w.bytes(new Uint8Array(9), 8)],
      ['sequence over bound', () => w.sequence([1, 2, 3], 2, Codecs.u8)],
      ['array of wrong length', () => w.array([1], 2, Codecs.u8)],
      ['enum value', () => Codecs.enumOf(Color, 'Color').write(w, 1 as never)],
      ['cap not slot-aligned', () => w.cap(4097, 0)],
      ['object fpage', () => w.fpage({ fpage: 16 * 4096 + 0x30 })],
    ];
    for (const [what, f] of bad) expect([what, codeOf(f)]).toEqual([what, -Errno.EINVAL]);
  });

  it('refuses to overflow the message registers (EMSGTOOLONG)', () => {
    const w = new Writer(utcb()).begin();
    for (let i = 0; i < 61; i++) w.u32(i);
    w.cap(4096, 1); // 61 + 2 = 63: full
    expect(codeOf(() => w.u32(0))).toBe(-Errno.EMSGTOOLONG);
    expect(codeOf(() => w.cap(4096, 1))).toBe(-Errno.EMSGTOOLONG);
    expect(codeOf(() => new Writer(utcb()).begin().string('x'.repeat(497), 497))).toBe(-Errno.EMSGTOOLONG);
  });

  it('rejects malformed messages when reading', () => {
    const u = utcb();
    const read = (words: (number | bigint)[], f: (r: Reader) => void, items = 0): number => {
      for (const [i, v] of words.entries()) {
        if (typeof v === 'bigint') u.setWord64(i, v);
        else u.setMr(i, v);
      }
      const r = new Reader(u).begin(words.length - 2 * items + (items << 6));
      return codeOf(() => {
        f(r);
        r.done();
      });
    };
    expect(read([2], (r) => r.bool())).toBe(-Errno.EINVAL);
    expect(read([300], (r) => r.u8())).toBe(-Errno.EINVAL);
    expect(read([-1], (r) => r.u32())).toBe(-Errno.EINVAL);
    expect(read([2n ** 63n], (r) => r.i32())).toBe(-Errno.EINVAL);
    expect(read([1], (r) => Codecs.enumOf(Color, 'Color').read(r))).toBe(-Errno.EINVAL);
    expect(read([9, 0, 0], (r) => r.string(8))).toBe(-Errno.EINVAL); // longer than its bound
    expect(read([8], (r) => r.string(8))).toBe(-Errno.EMSGTOOSHORT); // bytes missing
    expect(read([2, 0xffff], (r) => r.string(8))).toBe(-Errno.EINVAL); // not UTF-8
    expect(read([3], (r) => r.sequence(2, Codecs.u8))).toBe(-Errno.EINVAL);
    expect(read([], (r) => r.u32())).toBe(-Errno.EMSGTOOSHORT);
    expect(read([1, 2], (r) => r.u32())).toBe(-Errno.EMSGTOOLONG);
    expect(read([], (r) => r.cap())).toBe(-Errno.EMSGTOOSHORT);
    expect(read([0x8, memFpage(0, 12, 4)], (r) => r.cap(), 1)).toBe(-Errno.EINVAL); // not an object fpage
    expect(read([0, 16 * 4096 + 0x30], (r) => r.cap(), 1)).toBe(-Errno.EINVAL); // not a map item
    expect(read([0x8, 16 * 4096 + 0x30], (r) => r.fpage(), 1)).toBe(-Errno.EINVAL);
  });
});

describe('receive windows', () => {
  it('clear BR0 for a message without items once, and again whenever a buffer register was written', () => {
    const u = utcb();
    let next = 100;
    const env = { utcb: u, caps: { alloc: () => 4096 * next++ } } as unknown as ThreadEnv;
    const w = new ReceiveWindows(env);
    u.setBr(0, 0x1234);
    w.arm('');
    expect(u.br(0)).toBe(0);
    // Nothing wrote a buffer register since: arming again leaves them alone.
    const version = u.brVersion;
    w.arm('');
    expect(u.brVersion).toBe(version);
    // Someone else armed a window (another stub, sigma0, env.receiveCapInto): cleared again.
    u.setBr(0, 0x5678);
    w.arm('');
    expect(u.br(0)).toBe(0);
    // Its own windows for a capability, then none: cleared.
    w.arm('c');
    expect(u.br(0)).not.toBe(0);
    w.arm('');
    expect(u.br(0)).toBe(0);
  });
});
