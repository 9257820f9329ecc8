/**
 * The user thread control block: message registers (MRs), buffer registers (BRs) and
 * thread control registers (TCRs), one machine word each.
 *
 * The layout comes from the platform ({@link UtcbLayout}); both Pecan back ends use
 * Fiasco.OC's amd64 layout (reference facts, "UTCB on amd64"): 63 MRs at word 0, the
 * buffer descriptor at word 64 followed by 58 BRs, and the TCRs from word 123 (error,
 * free marker, three user words).
 *
 * A UTCB is a view onto memory the kernel owns; the words are stored little-endian as
 * two 32-bit halves, so that numbers round-trip without BigInt on the fast path and
 * full u64 values still round-trip exactly through the `*64` accessors.
 */

/** Where the register groups sit inside a UTCB, in words. */
export interface UtcbLayout {
  /** Number of message registers, from word 0. */
  readonly mrCount: number;
  /** Word index of the buffer descriptor; the BRs follow it. */
  readonly bdrIndex: number;
  /** Number of buffer registers after the buffer descriptor. */
  readonly brCount: number;
  /** Word index of the first thread control register (the error TCR). */
  readonly tcrIndex: number;
  /** Total size in words. */
  readonly sizeWords: number;
}

/** Fiasco.OC's amd64 UTCB layout, which both Pecan back ends use. */
export const FIASCO_AMD64_UTCB: UtcbLayout = {
  mrCount: 63,
  bdrIndex: 64,
  brCount: 58,
  tcrIndex: 123,
  sizeWords: 128,
};

/** Thread control registers, relative to {@link UtcbLayout.tcrIndex}. */
export const Tcr = {
  ERROR: 0,
  FREE_MARKER: 1,
  USER0: 2,
  USER1: 3,
  USER2: 4,
} as const;

const TWO32 = 4294967296;

/** A thread's UTCB. */
export class Utcb {
  /** The words as 32-bit halves: word i is `u32[2i]` (low) and `u32[2i+1]` (high). */
  readonly u32: Uint32Array;
  private readonly u64: BigUint64Array;
  private readonly f64: Float64Array;
  readonly layout: UtcbLayout;
  /**
   * Bumped by every write of a buffer register or the buffer descriptor through this
   * object, so that code that armed the windows can tell that nobody rearmed them since
   * (the kernel never writes them). Writes through memory bypass it.
   */
  brVersion = 0;

  constructor(buffer: ArrayBuffer, byteOffset: number, layout: UtcbLayout) {
    this.layout = layout;
    this.u32 = new Uint32Array(buffer, byteOffset, layout.sizeWords * 2);
    this.u64 = new BigUint64Array(buffer, byteOffset, layout.sizeWords);
    this.f64 = new Float64Array(buffer, byteOffset, layout.sizeWords);
  }

  /**
   * Reads word `i` as a signed 64-bit integer. Exact for values within ±2^53; use
   * {@link Utcb.word64} for arbitrary u64 values.
   */
  word(i: number): number {
    const k = i << 1;
    return (this.u32[k + 1]! | 0) * TWO32 + this.u32[k]!;
  }

  /** Writes an integer in [−2^53, 2^64) to word `i`, two's complement for negatives. */
  setWord(i: number, v: number): void {
    const k = i << 1;
    this.u32[k] = v >>> 0;
    this.u32[k + 1] = Math.floor(v / TWO32) >>> 0;
  }

  /** Reads word `i` as an unsigned 64-bit value. */
  word64(i: number): bigint {
    return this.u64[i]!;
  }

  /** Writes an unsigned 64-bit value (taken modulo 2^64) to word `i`. */
  setWord64(i: number, v: bigint): void {
    this.u64[i] = BigInt.asUintN(64, v);
  }

  /** Reads word `i` as an IEEE-754 double (bit-exact). */
  wordF64(i: number): number {
    return this.f64[i]!;
  }

  /** Writes an IEEE-754 double to word `i` (bit-exact). */
  setWordF64(i: number, v: number): void {
    this.f64[i] = v;
  }

  /** Message register `i` as a number (see {@link Utcb.word}). */
  mr(i: number): number {
    return this.word(i);
  }

  /** Sets message register `i`. */
  setMr(i: number, v: number): void {
    this.setWord(i, v);
  }

  /** Buffer register `i` (0-based, after the buffer descriptor). */
  br(i: number): number {
    return this.word(this.layout.bdrIndex + 1 + i);
  }

  /** Sets buffer register `i`. */
  setBr(i: number, v: number): void {
    this.brVersion++;
    this.setWord(this.layout.bdrIndex + 1 + i, v);
  }

  /** The buffer descriptor word. */
  get bdr(): number {
    return this.word(this.layout.bdrIndex);
  }

  set bdr(v: number) {
    this.brVersion++;
    this.setWord(this.layout.bdrIndex, v);
  }

  /** The error TCR: the IPC error code of the last failed IPC. */
  get error(): number {
    return this.u32[(this.layout.tcrIndex + Tcr.ERROR) << 1]!;
  }

  set error(v: number) {
    const k = (this.layout.tcrIndex + Tcr.ERROR) << 1;
    this.u32[k] = v;
    this.u32[k + 1] = 0;
  }

  /** Thread control register `i` (see {@link Tcr}). */
  tcr(i: number): number {
    return this.word(this.layout.tcrIndex + i);
  }

  /** Sets thread control register `i`. */
  setTcr(i: number, v: number): void {
    this.setWord(this.layout.tcrIndex + i, v);
  }

  /**
   * Copies `count` words starting at word `from` of `src` into this UTCB at the same
   * index. Allocation-free; this is the IPC copy loop.
   */
  copyWordsFrom(src: Utcb, from: number, count: number): void {
    const s = src.u32;
    const d = this.u32;
    const end = (from + count) << 1;
    for (let k = from << 1; k < end; k++) d[k] = s[k]!;
  }

  /** Zeroes every word. */
  clear(): void {
    this.u32.fill(0);
  }
}

/**
 * Hands out UTCBs from kernel-owned memory in chunks, so that a kernel with 100,000
 * threads does not make 100,000 ArrayBuffers. Freed UTCBs are reused.
 */
export class UtcbAllocator {
  private chunk: ArrayBuffer | null = null;
  private used = 0;
  private readonly free: Utcb[] = [];
  private readonly bytes: number;

  constructor(
    readonly layout: UtcbLayout,
    private readonly perChunk = 64,
  ) {
    this.bytes = layout.sizeWords * 8;
  }

  /** A zeroed UTCB. */
  allocate(): Utcb {
    const reused = this.free.pop();
    if (reused) {
      reused.clear();
      return reused;
    }
    if (!this.chunk || this.used === this.perChunk) {
      this.chunk = new ArrayBuffer(this.bytes * this.perChunk);
      this.used = 0;
    }
    return new Utcb(this.chunk, this.bytes * this.used++, this.layout);
  }

  /** Returns a UTCB for reuse. */
  release(utcb: Utcb): void {
    this.free.push(utcb);
  }
}
