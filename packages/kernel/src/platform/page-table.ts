/**
 * The page-table part of the Platform interface (brief §5): a back end builds and
 * walks address-translation tables in its architecture's real format, inside the
 * machine's simulated physical memory. The kernel decides what is mapped (the X.2
 * memory model and the mapping database); the back end decides how the entries look.
 *
 * Addresses are numbers. A virtual address is the numeric value of the 64-bit address
 * (user addresses are below 2^48, so exact; the classification of larger values does
 * not need exactness), and a physical address has at most 48 bits. Entries are read and written as two 32-bit
 * halves, never as BigInt, because the walk is on the TLB-miss path.
 */

/** Memory access rights, in L4 X.2's order: r 4, w 2, x 1. */
export const MemAccess = { READ: 4, WRITE: 2, EXEC: 1 } as const;

/**
 * Memory types a mapping can have. RAM is normal write-back memory; device registers
 * (MMIO that sigma0 hands to drivers) are uncached device memory: x86 PCD|PWT, ARM
 * AttrIndx 1 (MAIR Device-nGnRE).
 */
export const MemType = { NORMAL: 0, DEVICE: 1 } as const;
export type MemType = (typeof MemType)[keyof typeof MemType];

/** The machine's RAM, as one buffer placed at a physical address. */
export interface PhysicalMemory {
  /** The bytes of RAM. */
  readonly buffer: ArrayBuffer;
  /** Physical address of `buffer[0]`. */
  readonly base: number;
  /** Size of RAM in bytes (a multiple of 4 KiB). */
  readonly size: number;
}

/**
 * Hands out zeroed 4 KiB frames of physical memory for page tables, charged to the
 * owning task's kernel-memory quota. Returns the frame's physical address, or null
 * when the quota or the memory is exhausted (the caller reports ENOMEM).
 */
export interface FrameAllocator {
  allocate(): number | null;
  /** Gives back a frame that `allocate` returned. */
  free(frame: number): void;
}

/** Why a translation failed. */
export const WalkFault = {
  /** No valid entry on the way to a page. */
  NOT_MAPPED: 1,
  /** Mapped, but without the right the access needs. */
  PROTECTION: 2,
  /** The address is not a user address (non-canonical, or kernel half). */
  BAD_ADDRESS: 3,
} as const;
export type WalkFault = (typeof WalkFault)[keyof typeof WalkFault];

/**
 * The result of a walk; one object is reused by the caller so that a TLB miss
 * allocates nothing.
 */
export interface Translation {
  /** 0 when the walk succeeded, else a {@link WalkFault}. */
  fault: number;
  /** Physical address of the page (or block) that maps the address. */
  frame: number;
  /** log2 of the size of that page: 12, 21 or 30. */
  order: number;
  /** The rights the entry grants ({@link MemAccess} bits). */
  rights: number;
  /** Number of table levels read (the cost model charges per level). */
  levels: number;
}

/** Accessed and dirty status that an unmap reports, as L4's unmap does. */
export const PageStatus = { ACCESSED: 4, DIRTY: 2 } as const;

/**
 * An architecture's page-table format over a {@link PhysicalMemory}.
 *
 * Invariant: every table frame of a root was obtained from the allocator passed to
 * {@link PageTableFormat.map} and is returned by {@link PageTableFormat.destroy}.
 */
export interface PageTableFormat {
  /** Architecture name of the format, e.g. `"x86_64 4-level"`. */
  readonly name: string;
  /** Page sizes the format can map, as log2 of the size: e.g. [12, 21, 30]. */
  readonly pageOrders: readonly number[];
  /** Number of virtual-address bits (48 for both back ends). */
  readonly vaBits: number;
  /** True when `va` may be mapped for user code (canonical, lower half). */
  isUserAddress(va: number): boolean;
  /** Allocates an empty top-level table; its physical address, or null on ENOMEM. */
  createRoot(alloc: FrameAllocator): number | null;
  /**
   * Maps the 2^`order` bytes at `va` to `pa` with `rights` for user mode, replacing
   * any mapping of that range. `order` must be one of {@link pageOrders}, and `va` and
   * `pa` aligned to it; `memType` is a {@link MemType} (default normal memory). Mapping
   * inside a larger leaf splits it, keeping the rest mapped. Returns false, having
   * changed nothing visible, when a table frame could not be allocated (the kernel
   * checks every argument first, so that is the only failure it sees).
   */
  map(
    root: number,
    va: number,
    pa: number,
    order: number,
    rights: number,
    alloc: FrameAllocator,
    memType?: MemType,
  ): boolean;
  /**
   * Removes the mapping of the page at `va` of size 2^`order`, and returns its
   * {@link PageStatus} bits (0 when nothing was mapped). Unmapping part of a larger
   * leaf splits it with frames from `alloc` (the rest stays mapped); tables left empty
   * go back to `alloc`.
   */
  unmap(root: number, va: number, order: number, alloc: FrameAllocator): number;
  /**
   * Translates `va` for an access needing `access` rights, as the MMU would: sets the
   * accessed bit (and dirty on a write) on success. `access` 0 is a probe that changes
   * nothing. `out.frame` is the base of the page or block; the caller adds the offset.
   * Fills and returns `out`.
   */
  walk(root: number, va: number, access: number, out: Translation): Translation;
  /** Frees every table frame under `root`, and `root` itself. */
  destroy(root: number, alloc: FrameAllocator): void;
}
