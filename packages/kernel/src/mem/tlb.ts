/**
 * A software TLB: the per-address-space cache that lets user code reach memory without
 * entering the kernel (brief §2). It maps 4 KiB virtual pages to offsets in the RAM
 * buffer with the accesses that may use the entry.
 *
 * Direct-mapped: virtual page number `vpn` can only sit in entry `vpn & (ENTRIES − 1)`,
 * so a lookup is one compare and there is nothing to allocate or evict.
 *
 * Invariants:
 * - an entry is valid iff its tag is ≥ 0; a valid entry's page is mapped in the page
 *   table to the frame at `offset` with at least `rights`;
 * - `rights` holds WRITE only when the page-table entry is dirty, so the first write
 *   to a page always walks and sets D, as a hardware TLB does;
 * - every unmap or rights reduction invalidates the entries of the pages it touched
 *   before it returns.
 */
import { MemAccess } from '../platform/page-table';

/** Number of entries (a power of two). */
export const TLB_ENTRIES = 256;
const MASK = TLB_ENTRIES - 1;
const PAGE = 4096;

export class SoftTlb {
  /** Virtual page number cached in each entry, or −1. */
  readonly tags = new Float64Array(TLB_ENTRIES).fill(-1);
  /** Byte offset of the page in the RAM buffer. */
  readonly offsets = new Float64Array(TLB_ENTRIES);
  /** {@link MemAccess} bits the entry serves. */
  readonly rights = new Uint8Array(TLB_ENTRIES);
  /** Lookups that hit, and fills after a walk (for statistics and tests). */
  fills = 0;

  /**
   * The RAM offset of the byte at `va` if the TLB holds its page with `access`, else −1.
   */
  translate(va: number, access: number): number {
    const vpn = Math.floor(va / PAGE);
    const i = vpn & MASK;
    if (this.tags[i] !== vpn || (this.rights[i]! & access) === 0) return -1;
    return this.offsets[i]! + (va - vpn * PAGE);
  }

  /**
   * Caches the page of `va` at RAM offset `pageOffset` with the effective `rights` of
   * the walk that found it; `dirty` says whether that walk set the dirty bit.
   */
  fill(va: number, pageOffset: number, rights: number, dirty: boolean): void {
    const vpn = Math.floor(va / PAGE);
    const i = vpn & MASK;
    this.tags[i] = vpn;
    this.offsets[i] = pageOffset;
    this.rights[i] = dirty ? rights : rights & ~MemAccess.WRITE;
    this.fills++;
  }

  /** Drops the entries of `[va, va + size)`. */
  invalidate(va: number, size: number): void {
    if (size === PAGE) {
      const p = va / PAGE;
      const i = p & MASK;
      if (this.tags[i] === p) this.tags[i] = -1;
      return;
    }
    if (size >= TLB_ENTRIES * PAGE) {
      this.flush();
      return;
    }
    for (let p = Math.floor(va / PAGE), end = Math.ceil((va + size) / PAGE); p < end; p++) {
      const i = p & MASK;
      if (this.tags[i] === p) this.tags[i] = -1;
    }
  }

  /** Drops every entry. */
  flush(): void {
    this.tags.fill(-1);
  }
}
