/**
 * The kernel's own physical memory: a range of RAM that the kernel keeps back at boot
 * for page tables, UTCB pages and the Kernel Interface Page. Nothing else ever maps it
 * for user code except the UTCB and KIP pages the kernel places itself; sigma0 gets the
 * rest of RAM.
 *
 * Invariant: a frame is either below `next` and on the free list, below `next` and in
 * use, or at or above `next` and never handed out. Handed-out frames are zeroed.
 */
import type { FrameAllocator, PhysicalMemory } from '../platform/page-table';

/** Size of a frame: the smallest page of every back end. */
export const FRAME_SIZE = 4096;

/** Physical frames of the kernel's reserved RAM. */
export class FramePool {
  private next: number;
  private readonly free: number[] = [];
  private readonly bytes: Uint8Array;
  /** Frames handed out and not yet given back. */
  inUse = 0;

  constructor(
    private readonly ram: PhysicalMemory,
    /** Physical address of the first reserved byte (4 KiB-aligned). */
    readonly base: number,
    /** Size of the reserved range in bytes (a multiple of 4 KiB). */
    readonly size: number,
  ) {
    this.next = base;
    this.bytes = new Uint8Array(ram.buffer, 0, ram.size);
  }

  /** Frames still available. */
  get available(): number {
    return this.free.length + (this.base + this.size - this.next) / FRAME_SIZE;
  }

  /** A zeroed frame's physical address, or null when the reserved RAM is used up. */
  allocate(): number | null {
    let pa = this.free.pop();
    if (pa === undefined) {
      if (this.next >= this.base + this.size) return null;
      pa = this.next;
      this.next += FRAME_SIZE;
    }
    const off = pa - this.ram.base;
    this.bytes.fill(0, off, off + FRAME_SIZE);
    this.inUse++;
    return pa;
  }

  /** Gives back a frame that {@link FramePool.allocate} returned. */
  release(pa: number): void {
    this.free.push(pa);
    this.inUse--;
  }

  /** True when `pa` lies in the reserved range. */
  contains(pa: number): boolean {
    return pa >= this.base && pa < this.base + this.size;
  }
}

/** Charges and refunds kernel memory in bytes; the kernel implements it over factories. */
export interface QuotaAccount {
  charge(bytes: number): boolean;
  refund(bytes: number): void;
}

/**
 * A task's view of the pool: every frame it takes is charged to its quota first, so a
 * task that runs out gets ENOMEM (a null frame) and never takes another task's memory.
 */
export class ChargedFrameAllocator implements FrameAllocator {
  /** Frames this allocator holds. */
  frames = 0;

  constructor(
    private readonly pool: FramePool,
    private readonly quota: QuotaAccount,
  ) {}

  allocate(): number | null {
    if (!this.quota.charge(FRAME_SIZE)) return null;
    const pa = this.pool.allocate();
    if (pa === null) {
      this.quota.refund(FRAME_SIZE);
      return null;
    }
    this.frames++;
    return pa;
  }

  free(frame: number): void {
    this.pool.release(frame);
    this.quota.refund(FRAME_SIZE);
    this.frames--;
  }
}
