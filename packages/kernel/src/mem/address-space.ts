/**
 * A task's address space: the page-table root in the back end's format, the mappings
 * that the mapping database tracks, and the software TLB in front of them.
 *
 * Invariants (checked by `checkMemoryInvariants` in tests):
 * - `pages` holds exactly the mapping-database nodes whose space is this one, by their
 *   first virtual address and size; their ranges do not overlap;
 * - every node in `pages` is mapped in the page table with its rights, frame and
 *   memory type, and the page table maps nothing else below the reserved region;
 * - page-table frames come from `alloc`, so they are charged to the task's quota.
 */
import { linkChild, MapNode, type MappingSpace, unlink } from '../cap/mapdb';
import type { MemType, PageTableFormat, PhysicalMemory, Translation } from '../platform/page-table';
import type { ChargedFrameAllocator } from './frame-pool';
import { PageIndex } from './page-index';
import { SoftTlb } from './tlb';

/** The physical page a memory mapping maps. */
export interface PhysPage {
  /** Physical address of the page (aligned to its size). */
  readonly pa: number;
  /** log2 of the page size: one of the back end's page orders. */
  readonly order: number;
  /** 2^order, kept because the hot paths need it and `**` is a call. */
  readonly size: number;
  readonly memType: MemType;
}

/**
 * One memory mapping: the physical page is mapped at virtual address `index` with
 * `rights`. The node is its own payload: one object per mapping, not two, because a
 * page-fault-heavy workload makes one per fault and keeps it.
 */
export class PageMapping extends MapNode<PhysPage> implements PhysPage {
  readonly pa: number;
  readonly order: number;
  readonly size: number;
  readonly memType: MemType;

  constructor(
    space: AddressSpace,
    index: number,
    rights: number,
    pa: number,
    order: number,
    memType: MemType,
  ) {
    super(space, index, rights, NO_PAGE);
    this.pa = pa;
    this.order = order;
    this.size = 2 ** order;
    this.memType = memType;
    this.payload = this;
  }
}

/** A memory mapping as the mapping database links it (always a {@link PageMapping}). */
export type MemMapping = MapNode<PhysPage>;

/** Placeholder payload while a PageMapping is being constructed. */
const NO_PAGE: PhysPage = { pa: 0, order: 0, size: 0, memType: 0 };

/** The size of a mapping in bytes. */
export function mappingSize(m: MemMapping): number {
  return m.payload.size;
}

/** Where the kernel keeps its own pages (KIP, UTCBs) in every address space. */
export interface ReservedRegion {
  readonly base: number;
  readonly size: number;
}

/** Accumulates the PageStatus bits of removed page-table entries. */
export interface MemoryStatus {
  bits: number;
}

export class AddressSpace implements MappingSpace<PhysPage> {
  readonly tlb = new SoftTlb();
  /** Mappings by first virtual address. */
  private readonly pages: PageIndex;
  /** The page orders of the format, largest first, and their sizes. */
  private readonly ordersDesc: readonly number[];
  private readonly sizesDesc: readonly number[];

  private constructor(
    readonly format: PageTableFormat,
    readonly alloc: ChargedFrameAllocator,
    readonly root: number,
    readonly ram: PhysicalMemory,
    /** The user addresses the kernel keeps for itself; nothing may be mapped there. */
    readonly reserved: ReservedRegion,
    /**
     * Accessed/dirty bits of removed entries, shared by every space of a kernel: an
     * unmap reads what it removed anywhere below the caller's mappings.
     */
    private readonly status: MemoryStatus,
  ) {
    this.ordersDesc = [...format.pageOrders].sort((a, b) => b - a);
    this.sizesDesc = this.ordersDesc.map((o) => 2 ** o);
    this.pages = new PageIndex(this.sizesDesc[this.sizesDesc.length - 1]!);
  }

  /** A new, empty address space; null when its root table cannot be had (ENOMEM). */
  static create(
    format: PageTableFormat,
    alloc: ChargedFrameAllocator,
    ram: PhysicalMemory,
    reserved: ReservedRegion,
    status: MemoryStatus,
  ): AddressSpace | null {
    const root = format.createRoot(alloc);
    return root === null ? null : new AddressSpace(format, alloc, root, ram, reserved, status);
  }

  /** Number of mappings. */
  get size(): number {
    return this.pages.size;
  }

  /** Every mapping, in the order they were made. */
  mappings(): IterableIterator<MemMapping> {
    return this.pages.values();
  }

  /** The mapping that covers `va`, if any. */
  mappingAt(va: number): MemMapping | undefined {
    const sizes = this.sizesDesc;
    for (let i = 0; i < sizes.length; i++) {
      const size = sizes[i]!;
      const m = this.pages.get(va - (va % size), size);
      if (m !== undefined) return m;
    }
    return undefined;
  }

  /** True when `m` is this space's current mapping at its address. */
  holds(m: MemMapping): boolean {
    return this.pages.has(m);
  }

  /** The size of the smallest page the format maps. */
  get minPageSize(): number {
    return this.sizesDesc[this.sizesDesc.length - 1]!;
  }

  /** The largest page order of the format that is at most `order`, or −1. */
  pageOrderAtMost(order: number): number {
    for (const o of this.ordersDesc) if (o <= order) return o;
    return -1;
  }

  /**
   * The mappings that overlap `[base, base + size)`, in address order. Steps through the
   * range page by page when it is small against the number of mappings, else filters
   * all mappings: either way the cost is bounded by what the range can hold.
   */
  mappingsIn(base: number, size: number): MemMapping[] {
    const out: MemMapping[] = [];
    const end = base + size;
    if (size / 4096 > 2 * this.pages.size) {
      for (const m of this.pages.values()) {
        if (m.index < end && m.index + mappingSize(m) > base) out.push(m);
      }
      out.sort((a, b) => a.index - b.index);
      return out;
    }
    for (let va = base; va < end; ) {
      const m = this.mappingAt(va);
      if (m) {
        out.push(m);
        va = m.index + mappingSize(m);
      } else {
        va += 4096;
      }
    }
    return out;
  }

  /** True when `[base, base + size)` is user memory that mappings may occupy. */
  mappable(base: number, size: number): boolean {
    const f = this.format;
    return (
      Number.isSafeInteger(base) &&
      base >= 0 &&
      base + size <= this.reserved.base &&
      f.isUserAddress(base) &&
      f.isUserAddress(base + size - 1)
    );
  }

  /**
   * Enters `m` (a node the caller made for this space) in the page table and the
   * index. Returns false, with nothing entered, when a table frame cannot be had.
   */
  install(m: MemMapping): boolean {
    const p = m.payload;
    if (!this.format.map(this.root, m.index, p.pa, p.order, m.rights, this.alloc, p.memType)) return false;
    this.pages.set(m);
    this.tlb.invalidate(m.index, p.size);
    return true;
  }

  /**
   * Enters `m`'s page at `va` in the page table, with `m`'s rights, but not in the index:
   * a grant builds the destination's table path this way before the source lets go of
   * the mapping, so that running out of table frames moves nothing. Returns false when
   * a table frame cannot be had; {@link AddressSpace.install} at `va` then needs none.
   */
  prepare(va: number, m: MemMapping): boolean {
    const p = m.payload;
    return this.format.map(this.root, va, p.pa, p.order, m.rights, this.alloc, p.memType);
  }

  /** Removes `m`'s page-table entry and index entry; keeps its accessed/dirty bits. */
  private removeEntry(m: MemMapping): void {
    if (!this.pages.has(m)) return;
    this.pages.delete(m);
    const size = mappingSize(m);
    this.status.bits |= this.format.unmap(this.root, m.index, m.payload.order, this.alloc);
    this.tlb.invalidate(m.index, size);
  }

  /** Mapping-database callback: `m` was revoked. */
  detach(m: MemMapping): void {
    this.removeEntry(m);
  }

  /** Mapping-database callback: `m` lost rights but stays mapped. */
  restricted(m: MemMapping): void {
    if (!this.pages.has(m)) return;
    const p = m.payload;
    // Same frame and size: the format keeps the entry's accessed/dirty bits.
    this.format.map(this.root, m.index, p.pa, p.order, m.rights, this.alloc, p.memType);
    this.tlb.invalidate(m.index, p.size);
  }

  /** Takes `m` out of this space so that a grant can move it elsewhere. */
  release(m: MemMapping): void {
    this.removeEntry(m);
  }

  /** The accessed/dirty bits collected (in any space) since the last call; resets them. */
  takeStatus(): number {
    const s = this.status.bits;
    this.status.bits = 0;
    return s;
  }

  /** Translates `va` for `access` through the page table (see PageTableFormat.walk). */
  walk(va: number, access: number, out: Translation): Translation {
    return this.format.walk(this.root, va, access, out);
  }

  /**
   * Splits mapping `m` into pages of the next smaller size, so that part of it can be
   * unmapped or granted. Descendants of `m` as large as `m` are split the same way and
   * every descendant is re-attached below the piece its frame lies in; the translation
   * and rights of every address stay as they were. Returns false when a page-table
   * frame for the split cannot be had; pieces split before then stay split, which
   * changes nothing visible.
   */
  split(m: MemMapping): boolean {
    const order = m.payload.order;
    const smaller = this.pageOrderAtMost(order - 1);
    if (smaller < 0) return false;
    // The descendants as large as m form the top of its subtree: a child is never larger
    // than its parent. Split them bottom-up, so each sees only small children.
    const large: MemMapping[] = [];
    const stack: MemMapping[] = [m];
    for (let n = stack.pop(); n; n = stack.pop()) {
      large.push(n);
      for (let c = n.firstChild; c; c = c.nextSibling) if (c.payload.order === order) stack.push(c);
    }
    for (let i = large.length - 1; i >= 0; i--) {
      const n = large[i]!;
      if (!(n.space as AddressSpace).splitOne(n, smaller)) return false;
    }
    return true;
  }

  /** Splits `m`, whose children are all at most 2^`smaller` bytes, into 2^`smaller` pieces. */
  private splitOne(m: MemMapping, smaller: number): boolean {
    const p = m.payload;
    // Mapping the first piece makes the format split the leaf, keeping the rest mapped
    // with the same rights and accessed/dirty bits.
    if (!this.format.map(this.root, m.index, p.pa, smaller, m.rights, this.alloc, p.memType)) return false;
    const step = 2 ** smaller;
    const count = 2 ** (p.order - smaller);
    const pieces: MemMapping[] = [];
    const parent = m.parent;
    this.pages.delete(m);
    for (let i = 0; i < count; i++) {
      const piece = new PageMapping(this, m.index + i * step, m.rights, p.pa + i * step, smaller, p.memType);
      pieces.push(piece);
      this.pages.set(piece);
    }
    for (let c = m.firstChild; c; c = m.firstChild) {
      unlink(c);
      linkChild(pieces[Math.floor((c.payload.pa - p.pa) / step)]!, c);
    }
    if (parent) {
      unlink(m);
      for (let i = count - 1; i >= 0; i--) linkChild(parent, pieces[i]!);
    }
    return true;
  }

  /** Frees every page-table frame. The mappings must be gone already. */
  destroy(): void {
    this.format.destroy(this.root, this.alloc);
    this.pages.clear();
    this.tlb.flush();
  }
}
