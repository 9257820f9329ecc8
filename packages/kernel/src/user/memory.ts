/**
 * `env.mem`: a user thread's access to its virtual memory (brief §2). Memory access is
 * a CPU operation, not a system call: a TLB hit completes without entering the kernel,
 * and only a miss yields (the MEMORY token) so that the kernel can walk the page table
 * or deliver a page fault to the thread's pager. The faulting code never sees the
 * fault: the access simply completes once the pager has mapped the page.
 *
 * Device memory (MMIO that sigma0 handed out) is never cached in the TLB: each access
 * enters the kernel, which performs it on the device register with the access's width
 * and resumes the thread with ACCESS_DONE and the value read. Drivers therefore use the
 * typed accessors, whose width is the register access width; bulk reads and writes of
 * device memory go byte by byte.
 *
 * ```ts
 * yield* env.mem.writeU32(0x10_0000, 42);
 * const v = yield* env.mem.readU32(0x10_0000);
 * const page = yield* env.mem.read(0x10_0000, 4096);
 * ```
 *
 * All multi-byte values are little-endian, as on both back ends. 64-bit values are
 * `bigint`, so every u64 in RAM round-trips exactly (a device register reads at most
 * 2^53 − 1).
 */
import type { MemoryPort } from '../mem/memory-port';
import { MemAccess } from '../platform/page-table';
import type { UserCode } from './program';
import { ACCESS_DONE, MEMORY, type SyscallRegisters } from './registers';

const PAGE = 4096;

function checkLength(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`env.mem.${what}: length must be a non-negative integer, got ${n}`);
  }
}

/** True when `size` bytes at `va` span two pages (or `va` is no plain address). */
function crossesPage(va: number, size: number): boolean {
  return !(va - Math.floor(va / PAGE) * PAGE <= PAGE - size);
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
  private miss(va: number, access: number, width: number): typeof MEMORY {
    const r = this.regs;
    r.addr = va;
    r.access = access;
    r.width = width;
    return MEMORY;
  }

  /** Reads `n` bytes at `va` into a new array. */
  *read(va: number, n: number): UserCode<Uint8Array> {
    checkLength('read', n);
    const out = new Uint8Array(n);
    yield* this.copyIn(va, out, MemAccess.READ);
    return out;
  }

  /** Reads `dst.length` bytes at `va` into `dst` (no allocation on a hit). */
  *readInto(va: number, dst: Uint8Array): UserCode<void> {
    yield* this.copyIn(va, dst, MemAccess.READ);
  }

  /**
   * Reads `n` bytes at `va` as an instruction fetch would: it needs the execute right,
   * so a fetch from a no-execute page faults (for interpreters and loaders that check).
   */
  *fetch(va: number, n: number): UserCode<Uint8Array> {
    checkLength('fetch', n);
    const out = new Uint8Array(n);
    yield* this.copyIn(va, out, MemAccess.EXEC);
    return out;
  }

  /** Copies memory at `va` into `dst` with `access` (READ or EXEC). */
  private *copyIn(va: number, dst: Uint8Array, access: number): UserCode<void> {
    const n = dst.length;
    const port = this.port;
    let done = port ? port.load(va, dst, 0, n, access) : 0;
    while (done < n) {
      if ((yield this.miss(va + done, access, 1)) === ACCESS_DONE) {
        dst[done] = this.regs.value;
        done++;
      }
      if (port) done += port.load(va + done, dst, done, n - done, access);
    }
  }

  /** Writes `data` at `va`. */
  *write(va: number, data: Uint8Array): UserCode<void> {
    const n = data.length;
    const port = this.port;
    let done = port ? port.store(va, data, 0, n) : 0;
    while (done < n) {
      this.regs.value = data[done]!;
      if ((yield this.miss(va + done, MemAccess.WRITE, 1)) === ACCESS_DONE) done++;
      if (port) done += port.store(va + done, data, done, n - done);
    }
  }

  /** Reads `size` bytes at `va` (crossing a page) into the bounce buffer. */
  private *loadScratch(va: number, size: number): UserCode<DataView> {
    yield* this.copyIn(va, this.sized(size), MemAccess.READ);
    return this.scratchView;
  }

  /** The bounce buffer's first `size` bytes (1, 2, 4 or 8). */
  private sized(size: number): Uint8Array {
    return this.scratchBySize[size === 8 ? 3 : size >> 1]!;
  }

  // The typed accessors retry in their own frame instead of delegating to a bulk copy:
  // a miss then passes through one generator, not three, on its way into the kernel
  // and back (a page fault's round trip was a fifth slower with the delegation).

  *readU8(va: number): UserCode<number> {
    const port = this.port;
    for (;;) {
      const v = port ? port.loadU8(va) : -1;
      if (v >= 0) return v;
      if ((yield this.miss(va, MemAccess.READ, 1)) === ACCESS_DONE) return this.regs.value;
    }
  }

  *readU16(va: number): UserCode<number> {
    if (crossesPage(va, 2)) return (yield* this.loadScratch(va, 2)).getUint16(0, true);
    const port = this.port;
    for (;;) {
      const v = port ? port.loadU16(va) : -1;
      if (v >= 0) return v;
      if ((yield this.miss(va, MemAccess.READ, 2)) === ACCESS_DONE) return this.regs.value;
    }
  }

  *readU32(va: number): UserCode<number> {
    if (crossesPage(va, 4)) return (yield* this.loadScratch(va, 4)).getUint32(0, true);
    const port = this.port;
    for (;;) {
      const v = port ? port.loadU32(va) : -1;
      if (v >= 0) return v;
      if ((yield this.miss(va, MemAccess.READ, 4)) === ACCESS_DONE) return this.regs.value;
    }
  }

  *readU64(va: number): UserCode<bigint> {
    if (crossesPage(va, 8)) return (yield* this.loadScratch(va, 8)).getBigUint64(0, true);
    const port = this.port;
    const buf = this.sized(8);
    for (;;) {
      if (port && port.load(va, buf, 0, 8) === 8) return this.scratchView.getBigUint64(0, true);
      if ((yield this.miss(va, MemAccess.READ, 8)) === ACCESS_DONE) return BigInt(this.regs.value);
    }
  }

  /** Reads a u64 as a number; throws a RangeError when it is above 2^53 − 1. */
  *readWord(va: number): UserCode<number> {
    const v = yield* this.readU64(va);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`env.mem.readWord: value at 0x${va.toString(16)} exceeds 2^53`);
    }
    return Number(v);
  }

  *writeU8(va: number, v: number): UserCode<void> {
    const port = this.port;
    while (!port?.storeU8(va, v)) {
      this.regs.value = v & 0xff;
      if ((yield this.miss(va, MemAccess.WRITE, 1)) === ACCESS_DONE) return;
    }
  }

  *writeU16(va: number, v: number): UserCode<void> {
    if (crossesPage(va, 2)) {
      this.scratchView.setUint16(0, v, true);
      yield* this.write(va, this.sized(2));
      return;
    }
    const port = this.port;
    while (!port?.storeU16(va, v)) {
      this.regs.value = v & 0xffff;
      if ((yield this.miss(va, MemAccess.WRITE, 2)) === ACCESS_DONE) return;
    }
  }

  *writeU32(va: number, v: number): UserCode<void> {
    if (crossesPage(va, 4)) {
      this.scratchView.setUint32(0, v, true);
      yield* this.write(va, this.sized(4));
      return;
    }
    const port = this.port;
    while (!port?.storeU32(va, v)) {
      this.regs.value = v >>> 0;
      if ((yield this.miss(va, MemAccess.WRITE, 4)) === ACCESS_DONE) return;
    }
  }

  *writeU64(va: number, v: bigint): UserCode<void> {
    const value = BigInt.asUintN(64, v);
    this.scratchView.setBigUint64(0, value, true);
    const buf = this.sized(8);
    if (crossesPage(va, 8)) {
      yield* this.write(va, buf);
      return;
    }
    const port = this.port;
    for (;;) {
      if (port && port.store(va, buf, 0, 8) === 8) return;
      // A device register takes at most 53 bits; the high bits are lost, as documented.
      this.regs.value = Number(value & 0x1f_ffff_ffff_ffffn);
      if ((yield this.miss(va, MemAccess.WRITE, 8)) === ACCESS_DONE) return;
    }
  }
}
