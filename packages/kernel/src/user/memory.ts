/**
 * `env.mem`: a user thread's access to its virtual memory (brief §2). Memory access is
 * a CPU operation, not a system call: a TLB hit completes without entering the kernel,
 * and only a miss yields (the MEMORY token) so that the kernel can walk the page table
 * or deliver a page fault to the thread's pager. The faulting code never sees the
 * fault: the access simply completes once the pager has mapped the page.
 *
 * ```ts
 * yield* env.mem.writeU32(0x10_0000, 42);
 * const v = yield* env.mem.readU32(0x10_0000);
 * const page = yield* env.mem.read(0x10_0000, 4096);
 * ```
 *
 * All multi-byte values are little-endian, as on both back ends. 64-bit values are
 * `bigint`, so every u64 round-trips exactly.
 */
import type { MemoryPort } from '../mem/memory-port';
import { MemAccess } from '../platform/page-table';
import type { UserCode } from './program';
import { MEMORY, type SyscallRegisters } from './registers';

const TWO_32 = 2 ** 32;
const PAGE = 4096;

/** True when `size` bytes at `va` span two pages (or `va` is no plain address). */
function crossesPage(va: number, size: number): boolean {
  return !(va - Math.floor(va / PAGE) * PAGE <= PAGE - size);
}

function checkLength(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`env.mem.${what}: length must be a non-negative integer, got ${n}`);
  }
}

/** The memory of the thread's task, as its CPU sees it. */
export class UserMemory {
  /** Bounce buffer for accesses that cross a page or miss, and its views by size. */
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private readonly scratchBySize = [1, 2, 4, 8].map((n) => this.scratch.subarray(0, n));

  constructor(
    private readonly port: MemoryPort | null,
    private readonly regs: SyscallRegisters,
  ) {}

  /** Loads the fault registers and returns the token for a TLB miss. */
  private miss(va: number, access: number): typeof MEMORY {
    this.regs.addr = va;
    this.regs.access = access;
    return MEMORY;
  }

  /** Reads `n` bytes at `va` into a new array. */
  *read(va: number, n: number): UserCode<Uint8Array> {
    checkLength('read', n);
    const out = new Uint8Array(n);
    yield* this.readInto(va, out);
    return out;
  }

  /** Reads `dst.length` bytes at `va` into `dst` (no allocation on a hit). */
  *readInto(va: number, dst: Uint8Array): UserCode<void> {
    const n = dst.length;
    const port = this.port;
    let done = port ? port.load(va, dst, 0, n) : 0;
    while (done < n) {
      yield this.miss(va + done, MemAccess.READ);
      if (port) done += port.load(va + done, dst, done, n - done);
    }
  }

  /**
   * Reads `n` bytes at `va` as an instruction fetch would: it needs the execute right,
   * so a fetch from a no-execute page faults (for interpreters and loaders that check).
   */
  *fetch(va: number, n: number): UserCode<Uint8Array> {
    checkLength('fetch', n);
    const out = new Uint8Array(n);
    const port = this.port;
    let done = port ? port.load(va, out, 0, n, MemAccess.EXEC) : 0;
    while (done < n) {
      yield this.miss(va + done, MemAccess.EXEC);
      if (port) done += port.load(va + done, out, done, n - done, MemAccess.EXEC);
    }
    return out;
  }

  /** Writes `data` at `va`. */
  *write(va: number, data: Uint8Array): UserCode<void> {
    const n = data.length;
    const port = this.port;
    let done = port ? port.store(va, data, 0, n) : 0;
    while (done < n) {
      yield this.miss(va + done, MemAccess.WRITE);
      if (port) done += port.store(va + done, data, done, n - done);
    }
  }

  /**
   * Reads `size` bytes at `va` into the bounce buffer. The loop is repeated here rather
   * than delegated to readInto: every generator level a miss passes through is paid
   * twice per fault (once on the way into the kernel, once on the way back).
   */
  private *loadScratch(va: number, size: number): UserCode<DataView> {
    const port = this.port;
    const buf = this.sized(size);
    let done = port ? port.load(va, buf, 0, size) : 0;
    while (done < size) {
      yield this.miss(va + done, MemAccess.READ);
      if (port) done += port.load(va + done, buf, done, size - done);
    }
    return this.scratchView;
  }

  /** The bounce buffer's first `size` bytes (1, 2, 4 or 8). */
  private sized(size: number): Uint8Array {
    return this.scratchBySize[size === 8 ? 3 : size >> 1]!;
  }

  // The typed accessors retry in their own frame instead of delegating to readInto: a
  // miss then passes through one generator, not three, on its way into the kernel and
  // back (a page fault's round trip was a fifth slower with the delegation).

  *readU8(va: number): UserCode<number> {
    const port = this.port;
    for (;;) {
      const v = port ? port.loadU8(va) : -1;
      if (v >= 0) return v;
      yield this.miss(va, MemAccess.READ);
    }
  }

  *readU16(va: number): UserCode<number> {
    if (crossesPage(va, 2)) return (yield* this.loadScratch(va, 2)).getUint16(0, true);
    const port = this.port;
    for (;;) {
      const v = port ? port.loadU16(va) : -1;
      if (v >= 0) return v;
      yield this.miss(va, MemAccess.READ);
    }
  }

  *readU32(va: number): UserCode<number> {
    if (crossesPage(va, 4)) return (yield* this.loadScratch(va, 4)).getUint32(0, true);
    const port = this.port;
    for (;;) {
      const v = port ? port.loadU32(va) : -1;
      if (v >= 0) return v;
      yield this.miss(va, MemAccess.READ);
    }
  }

  *readU64(va: number): UserCode<bigint> {
    return (yield* this.loadScratch(va, 8)).getBigUint64(0, true);
  }

  *writeU8(va: number, v: number): UserCode<void> {
    const port = this.port;
    while (!port?.storeU8(va, v)) yield this.miss(va, MemAccess.WRITE);
  }

  *writeU16(va: number, v: number): UserCode<void> {
    if (crossesPage(va, 2)) {
      this.scratchView.setUint16(0, v, true);
      yield* this.write(va, this.sized(2));
      return;
    }
    const port = this.port;
    while (!port?.storeU16(va, v)) yield this.miss(va, MemAccess.WRITE);
  }

  *writeU32(va: number, v: number): UserCode<void> {
    if (crossesPage(va, 4)) {
      this.scratchView.setUint32(0, v, true);
      yield* this.write(va, this.sized(4));
      return;
    }
    const port = this.port;
    while (!port?.storeU32(va, v)) yield this.miss(va, MemAccess.WRITE);
  }

  *writeU64(va: number, v: bigint): UserCode<void> {
    this.scratchView.setBigUint64(0, BigInt.asUintN(64, v), true);
    yield* this.write(va, this.sized(8));
  }

  /** Reads a u64 as a number; throws a RangeError when it is above 2^53 − 1. */
  *readWord(va: number): UserCode<number> {
    const view = yield* this.loadScratch(va, 8);
    const v = view.getUint32(0, true) + view.getUint32(4, true) * TWO_32;
    if (!Number.isSafeInteger(v))
      throw new RangeError(`env.mem.readWord: value at 0x${va.toString(16)} exceeds 2^53`);
    return v;
  }
}
