import {
  decodeFpage,
  describeError,
  FIASCO_AMD64_UTCB,
  FpageType,
  fpageIsAligned,
  memFpage,
  msgtag,
  objFpage,
  receiveTimeout,
  sendTimeout,
  TIMEOUT_NEVER,
  TIMEOUT_ZERO,
  tagFlags,
  tagItems,
  tagLabel,
  tagWords,
  timeoutMicroseconds,
  timeouts,
  timeoutUs,
  Utcb,
} from '@pecan/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('message tag (Fiasco l4_msgtag_t layout)', () => {
  it('packs words in bits 0–5, items in 6–11, flags in 12–15 and the label from bit 16', () => {
    const t = msgtag(-12, 5, 2, 0x8000);
    expect(t & 0x3f).toBe(5);
    expect((t >>> 6) & 0x3f).toBe(2);
    expect(t & 0xf000).toBe(0x8000);
    expect(tagLabel(t)).toBe(-12);
    expect(msgtag(1, 0)).toBe(0x10000);
  });

  it('round-trips every field for any label within ±2^36', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 36) + 1, max: 2 ** 36 - 1 }),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: 63 }),
        fc.constantFrom(0, 0x1000, 0x2000, 0x4000, 0x8000, 0xf000),
        (label, words, items, flags) => {
          const t = msgtag(label, words, items, flags);
          return (
            tagLabel(t) === label && tagWords(t) === words && tagItems(t) === items && tagFlags(t) === flags
          );
        },
      ),
    );
  });
});

describe('flexpages', () => {
  it('encodes an object flexpage as rights | type<<4 | order<<6 | slot<<12', () => {
    const fp = objFpage(16, 2, 0xf);
    expect(fp).toBe(16 * 4096 + 2 * 64 + 3 * 16 + 0xf);
    expect(decodeFpage(fp)).toEqual({ type: FpageType.OBJECT, order: 2, base: 16, rights: 0xf });
  });

  it('encodes memory flexpages with a byte address and checks alignment', () => {
    const fp = memFpage(0x20_0000, 21, 6);
    expect(decodeFpage(fp)).toEqual({ type: FpageType.MEMORY, order: 21, base: 0x20_0000, rights: 6 });
    expect(fpageIsAligned(fp)).toBe(true);
    expect(fpageIsAligned(memFpage(0x1000, 21, 6))).toBe(false);
  });
});

describe('timeouts (m·2^e µs, X.2 / Fiasco l4_timeout_s)', () => {
  it('keeps never and zero distinct', () => {
    expect(TIMEOUT_NEVER).toBe(0);
    expect(timeoutMicroseconds(TIMEOUT_NEVER)).toBe(Number.POSITIVE_INFINITY);
    expect(timeoutMicroseconds(TIMEOUT_ZERO)).toBe(0);
    expect(timeoutUs(0)).toBe(TIMEOUT_ZERO);
  });

  it('is exact for m < 1024 and never shorter than asked', () => {
    expect(timeoutMicroseconds(timeoutUs(1000))).toBe(1000);
    expect(timeoutMicroseconds(timeoutUs(4096))).toBe(4096);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 40 }), (us) => timeoutMicroseconds(timeoutUs(us)) >= us),
    );
  });

  it('puts the send timeout in the high half and the receive timeout in the low half', () => {
    const w = timeouts(timeoutUs(5), TIMEOUT_ZERO);
    expect(sendTimeout(w)).toBe(timeoutUs(5));
    expect(receiveTimeout(w)).toBe(TIMEOUT_ZERO);
  });

  it('rejects a negative or infinite timeout with a message that says what to pass', () => {
    expect(() => timeoutUs(-1)).toThrow('timeout must be a finite, non-negative µs count, got -1');
    expect(() => timeoutUs(2 ** 50)).toThrow('exceeds the largest encodable timeout');
  });
});

describe('UTCB words', () => {
  const utcb = () => new Utcb(new ArrayBuffer(FIASCO_AMD64_UTCB.sizeWords * 8), 0, FIASCO_AMD64_UTCB);

  it('round-trips any u64 exactly through the 64-bit accessors', () => {
    const u = utcb();
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.integer({ min: 0, max: 127 }), (v, i) => {
        u.setWord64(i, v);
        return u.word64(i) === v;
      }),
    );
    u.setWord64(3, 2n ** 64n - 1n);
    expect(u.word64(3)).toBe(18446744073709551615n);
    expect(u.word(3)).toBe(-1);
  });

  it('round-trips numbers within ±2^53 and stores negatives in two’s complement', () => {
    const u = utcb();
    fc.assert(
      fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (v) => {
        u.setWord(7, v);
        return u.word(7) === v && u.word64(7) === BigInt.asUintN(64, BigInt(v));
      }),
    );
  });

  it('places BRs after the buffer descriptor at word 64 and the error TCR at word 123', () => {
    const u = utcb();
    u.setBr(0, 42);
    expect(u.word(65)).toBe(42);
    u.error = 0x13;
    expect(u.word(123)).toBe(0x13);
  });
});

describe('describeError', () => {
  it('names errnos and IPC errors', () => {
    expect(describeError(0)).toBe('ok');
    expect(describeError(-1)).toBe('EPERM');
    expect(describeError(-2003)).toBe('IPC RETIMEOUT');
    expect(describeError(-2020)).toBe('IPC EINVALCAP');
  });
});
