/**
 * The UTCB area of a task: pages in the kernel-reserved region of the task's address
 * space that hold its threads' UTCBs. The frames come from the kernel's RAM and are
 * charged to the task's quota, like its page tables; the kernel maps them itself,
 * read-write for the task, outside the mapping database, so no unmap can take them.
 *
 * Invariant: slot i's UTCB lies at `base + i * bytes`, in page `floor(i / perPage)`,
 * which is mapped whenever a slot in it is in use or was used before.
 */
import { Utcb, type UtcbLayout } from '../abi/utcb';
import { MemAccess } from '../platform/page-table';
import type { AddressSpace } from './address-space';
import { FRAME_SIZE } from './frame-pool';

export class UtcbArea {
  /** Physical address of each page of the area, in order. */
  private readonly frames: number[] = [];
  private readonly freeSlots: number[] = [];
  private readonly slotOf = new Map<Utcb, number>();
  private nextSlot = 0;
  private readonly bytes: number;
  private readonly perPage: number;

  constructor(
    private readonly space: AddressSpace,
    /** First virtual address of the area. */
    readonly base: number,
    /** Size of the area in bytes. */
    private readonly size: number,
    private readonly layout: UtcbLayout,
  ) {
    this.bytes = layout.sizeWords * 8;
    this.perPage = Math.max(1, Math.floor(FRAME_SIZE / this.bytes));
  }

  /** A zeroed UTCB in this task, or null when the area or the quota is used up. */
  allocate(): Utcb | null {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.nextSlot;
      const page = Math.floor(slot / this.perPage);
      if ((page + 1) * FRAME_SIZE > this.size) return null;
      if (page === this.frames.length && !this.addPage()) return null;
      this.nextSlot++;
    }
    const page = Math.floor(slot / this.perPage);
    const ram = this.space.ram;
    const offset = this.frames[page]! - ram.base + (slot % this.perPage) * this.bytes;
    const u = new Utcb(ram.buffer, offset, this.layout);
    u.clear();
    this.slotOf.set(u, slot);
    return u;
  }

  /** The virtual address of a UTCB this area handed out. */
  addressOf(u: Utcb): number {
    const slot = this.slotOf.get(u) ?? 0;
    return this.base + Math.floor(slot / this.perPage) * FRAME_SIZE + (slot % this.perPage) * this.bytes;
  }

  /** Gives a UTCB back. */
  release(u: Utcb): void {
    const slot = this.slotOf.get(u);
    if (slot === undefined) return;
    this.slotOf.delete(u);
    this.freeSlots.push(slot);
  }

  private addPage(): boolean {
    const s = this.space;
    const pa = s.alloc.allocate();
    if (pa === null) return false;
    const va = this.base + this.frames.length * FRAME_SIZE;
    if (!s.format.map(s.root, va, pa, 12, MemAccess.READ | MemAccess.WRITE, s.alloc)) {
      s.alloc.free(pa);
      return false;
    }
    this.frames.push(pa);
    return true;
  }

  /** Unmaps and frees every page (the task is going away). */
  destroy(): void {
    const s = this.space;
    for (let i = 0; i < this.frames.length; i++) {
      s.format.unmap(s.root, this.base + i * FRAME_SIZE, 12, s.alloc);
      s.alloc.free(this.frames[i]!);
    }
    this.frames.length = 0;
    this.slotOf.clear();
  }
}
