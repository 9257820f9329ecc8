/**
 * The load/store unit of a CPU running in one address space: what user code uses,
 * through `env.mem`, to touch its virtual memory (brief §2).
 *
 * Every access goes through the space's software TLB. A hit copies between RAM and the
 * caller's buffer without entering the kernel; the first byte that misses stops the
 * copy, and user code enters the kernel with the MEMORY token so that the kernel walks
 * the page table (and raises a page fault if the walk fails). User code never gets a
 * view of RAM: a view would outlive an unmap.
 */
import { MemAccess } from '../platform/page-table';
import type { AddressSpace } from './address-space';

const PAGE = 4096;

/** Below this many bytes a loop beats creating a subarray for `set`. */
const SMALL_COPY = 64;

/** Copies `n` bytes from `src[from…]` to `dst[to…]`. */
function copy(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n < SMALL_COPY) {
    for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

export class MemoryPort {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(
    private readonly space: AddressSpace,
    ram: ArrayBuffer,
  ) {
    this.bytes = new Uint8Array(ram);
    this.view = new DataView(ram);
  }

  /**
   * Copies up to `n` bytes at `va` into `dst[at…]` with `access` (READ, or EXEC for an
   * instruction fetch) and returns how many it copied before the first TLB miss.
   */
  load(va: number, dst: Uint8Array, at: number, n: number, access: number = MemAccess.READ): number {
    const tlb = this.space.tlb;
    let done = 0;
    while (done < n) {
      const a = va + done;
      const off = tlb.translate(a, access);
      if (off < 0) break;
      const chunk = Math.min(n - done, PAGE - (a % PAGE));
      copy(this.bytes, off, dst, at + done, chunk);
      done += chunk;
    }
    return done;
  }

  /** Copies up to `n` bytes from `src[at…]` to `va`; returns how many before a miss. */
  store(va: number, src: Uint8Array, at: number, n: number): number {
    const tlb = this.space.tlb;
    let done = 0;
    while (done < n) {
      const a = va + done;
      const off = tlb.translate(a, MemAccess.WRITE);
      if (off < 0) break;
      const chunk = Math.min(n - done, PAGE - (a % PAGE));
      copy(src, at + done, this.bytes, off, chunk);
      done += chunk;
    }
    return done;
  }

  /**
   * The RAM offset of `size` bytes at `va` for `access` when they sit in one page the
   * TLB holds, else −1 (a miss, or an access that crosses a page: the caller copies).
   */
  private direct(va: number, size: number, access: number): number {
    if ((va % PAGE) + size > PAGE) return -1;
    return this.space.tlb.translate(va, access);
  }

  /** Little-endian loads of 1, 2 or 4 bytes that hit; −1 on a miss or page crossing. */
  loadU8(va: number): number {
    const off = this.direct(va, 1, MemAccess.READ);
    return off < 0 ? -1 : this.bytes[off]!;
  }
  loadU16(va: number): number {
    const off = this.direct(va, 2, MemAccess.READ);
    return off < 0 ? -1 : this.view.getUint16(off, true);
  }
  loadU32(va: number): number {
    const off = this.direct(va, 4, MemAccess.READ);
    return off < 0 ? -1 : this.view.getUint32(off, true);
  }

  /** Little-endian stores of 1, 2 or 4 bytes; false on a miss or page crossing. */
  storeU8(va: number, v: number): boolean {
    const off = this.direct(va, 1, MemAccess.WRITE);
    if (off < 0) return false;
    this.bytes[off] = v;
    return true;
  }
  storeU16(va: number, v: number): boolean {
    const off = this.direct(va, 2, MemAccess.WRITE);
    if (off < 0) return false;
    this.view.setUint16(off, v, true);
    return true;
  }
  storeU32(va: number, v: number): boolean {
    const off = this.direct(va, 4, MemAccess.WRITE);
    if (off < 0) return false;
    this.view.setUint32(off, v, true);
    return true;
  }
}
