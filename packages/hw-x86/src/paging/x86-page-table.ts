/**
 * x86-64 4-level paging (Intel SDM Vol. 3A §4.5) in simulated physical memory.
 *
 * Tables: PML4 (VA bits 39–47), PDPT (30–38), PD (21–29), PT (12–20); each is one
 * 4 KiB frame of 512 eight-byte entries. A PDPTE with PS = 1 maps a 1 GiB page, a PDE
 * with PS = 1 a 2 MiB page. Levels are numbered 0 (PML4) to 3 (PT) below.
 *
 * Virtual addresses: a VA is the numeric value of the 64-bit linear address. User
 * addresses are the canonical lower half, 0 ≤ va < 2^47, all exact in a double. Every
 * other value is not a user address: upper-half canonical addresses (kernel; as 64-bit
 * values they are ≥ 2^64 − 2^47, or in [2^47, 2^48) in the kernel's 48-bit form),
 * non-canonical ones, negative or fractional numbers. The classification needs no
 * exactness above 2^47, so the rounding of huge values does not matter. The walk
 * answers BAD_ADDRESS for all of them and never throws.
 *
 * Rights: x86 has no "not readable" bit, so a present user page is always readable,
 * and write-only or execute-only mappings cannot be expressed. A mapping with any
 * right is therefore readable; the leaf has RW iff WRITE was asked for and XD iff EXEC
 * was not; `walk()` reports the effective rights (READ always, WRITE iff RW, EXEC iff
 * not XD). A mapping with no right at all is no mapping: `map` with rights 0 unmaps
 * (returning false, with nothing changed, when that needs a large page split for which
 * no frame is left).
 *
 * Memory types (Intel SDM Vol. 3A §4.9 and §11.12.3, Table 11-11, with the power-up
 * IA32_PAT, whose entries 0 and 3 are WB and UC): a leaf's PAT, PCD and PWT bits pick
 * its PAT entry. `MemType.NORMAL` leaves have PAT = PCD = PWT = 0 (entry 0, write-back);
 * `MemType.DEVICE` leaves have PCD = PWT = 1 and PAT = 0 (entry 3, strong uncacheable,
 * UC), for MMIO. PAT is bit 7 of a PTE and bit 12 of a 1 GiB or 2 MiB leaf; Pecan never
 * sets it. Table entries always have PCD = PWT = 0 (the tables are in RAM).
 */

import {
  type FrameAllocator,
  MemAccess,
  MemType,
  PageStatus,
  type PageTableFormat,
  type PhysicalMemory,
  type Translation,
  WalkFault,
} from '@pecan/kernel';
import {
  PTE_HI_ADDR,
  PTE_HI_XD,
  PTE_LO_ADDR_1G,
  PTE_LO_ADDR_2M,
  PTE_LO_ADDR_4K,
  PTE_LO_FLAGS,
  PteFlag,
  pteHigh,
  pteLow,
  X86_PHYS_LIMIT,
} from './pte';

/** First address above the canonical lower half: user addresses are below it. */
export const X86_USER_LIMIT = 2 ** 47;

const TWO32 = 2 ** 32;
const PAGE = 4096;
/** 512 entries × 2 words. */
const TABLE_WORDS = 1024;
/** 2^(shift of level): the size each entry of a level-`l` table covers. */
const LEVEL_SPAN = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12] as const;
/** Address mask of the low half of a leaf at each level (no leaf at level 0). */
const LEAF_LO_MASK = [0, PTE_LO_ADDR_1G, PTE_LO_ADDR_2M, PTE_LO_ADDR_4K] as const;
/**
 * Intermediate entries grant everything (P, R/W, U/S, no XD): the SDM combines the
 * rights of every level of a translation — R/W and U/S are ANDed, XD is ORed (§4.6) —
 * so all permissions are decided at the leaf.
 */
const TABLE_FLAGS = PteFlag.P | PteFlag.RW | PteFlag.US;

/**
 * The cache-control bits of a leaf of memory type `memType`, or -1 for a value that is
 * not a {@link MemType}. PAT (bit 7 of a PTE, bit 12 of a large leaf) stays 0.
 */
function memTypeFlags(memType: number): number {
  return memType === MemType.NORMAL ? 0 : memType === MemType.DEVICE ? PteFlag.PCD | PteFlag.PWT : -1;
}

/** The level whose entries are leaves of size 2^order (1, 2, 3), or -1. */
function leafLevelOf(order: number): number {
  return order === 12 ? 3 : order === 21 ? 2 : order === 30 ? 1 : -1;
}

function statusOf(lo: number): number {
  return ((lo & PteFlag.A) !== 0 ? PageStatus.ACCESSED : 0) | ((lo & PteFlag.D) !== 0 ? PageStatus.DIRTY : 0);
}

/**
 * Creates the x86-64 4-level page-table format over `mem` (see the module notes).
 *
 * Design points beyond the {@link PageTableFormat} contract:
 * - Table frames come from the allocator and must lie in `mem`, 4 KiB-aligned; an
 *   allocator frame outside it is given back and the map fails. A root, or a table
 *   pointer read from memory, outside RAM reads as "not mapped" and is never freed.
 * - Invalid arguments (unsupported order, misaligned or non-user `va`, misaligned or
 *   out-of-range `pa`, a `memType` that is not a {@link MemType}, a root outside RAM)
 *   make `map` return false and `unmap` return 0.
 * - Mapping inside a larger leaf splits that leaf: the new sub-table is filled with
 *   the rest of the large page (same rights, memory type, A and D), so only the
 *   requested range is replaced. It takes the same frames as removing the leaf would.
 * - Replacing a leaf with one of the same size and frame keeps its A and D bits, so a
 *   rights change does not lose the status a later unmap reports.
 * - `unmap` splits a large page it unmaps part of with frames from its `alloc` (the
 *   rest stays mapped), and gives tables that become empty back to that `alloc`. When
 *   the split's frames cannot be had, the whole large page is removed (its A/D
 *   reported), which only revokes more.
 * - `walk` counts in `levels` the entries it read, also when it faults. On PROTECTION
 *   it also fills `frame`, `order` and `rights` (the leaf exists); on other faults they
 *   are 0. Only a successful walk sets A (and D), as the contract says.
 * - The host must be little-endian (entries are read through a Uint32Array).
 */
export function createX86PageTables(mem: PhysicalMemory): PageTableFormat {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    throw new Error('createX86PageTables: needs a little-endian host');
  }
  if (!Number.isInteger(mem.base) || mem.base % PAGE !== 0 || mem.base < 0) {
    throw new RangeError(`createX86PageTables: RAM base ${mem.base} is not 4 KiB-aligned`);
  }
  if (mem.size % PAGE !== 0 || mem.size > mem.buffer.byteLength) {
    throw new RangeError(
      `createX86PageTables: RAM size ${mem.size} is not a multiple of 4 KiB in the buffer`,
    );
  }
  const u32 = new Uint32Array(mem.buffer, 0, mem.size / 4);
  const base = mem.base;
  const lastTable = mem.size - PAGE;
  /** Word index of each entry the current walk used (no allocation per walk). */
  const used = new Int32Array(4);
  /** Path of an unmap: table word index and entry word index per level. */
  const pathTable = new Int32Array(4);
  const pathEntry = new Int32Array(4);
  /**
   * Present entries per table frame (indexed by frame number in RAM), kept by `write`
   * and `freshTable`, so that an unmap asks "is this table empty now?" in O(1) instead
   * of scanning 512 entries (which made unmapping a run of pages quadratic).
   */
  const present = new Uint16Array(mem.size / PAGE);

  /** Word index of the table at physical `pa`, or -1 when `pa` is not a 4 KiB frame of RAM. */
  function tableWord(pa: number): number {
    const off = pa - base;
    // `& 4095` keeps the low bits of any integer below 2^53; a fractional `pa` fails the
    // integer check instead (this is on every level of every walk: no fmod here).
    if (!(off >= 0 && off <= lastTable) || (off & 4095) !== 0 || off !== Math.floor(off)) return -1;
    return off / 4;
  }

  function tablePa(t: number): number {
    return base + t * 4;
  }

  /** Word index of the entry for `va` in the level-`level` table at word `t`. */
  function entryWord(t: number, va: number, level: number): number {
    return t + ((Math.floor(va / LEVEL_SPAN[level]!) & 511) << 1);
  }

  /** The table the entry at word `w` points to, as a word index (or -1). */
  function childTable(w: number): number {
    return tableWord((u32[w + 1]! & PTE_HI_ADDR) * TWO32 + ((u32[w]! & PTE_LO_ADDR_4K) >>> 0));
  }

  /** True when `lo` (present) is a table pointer at `level`, false when it is a leaf. */
  function pointsToTable(lo: number, level: number): boolean {
    return level === 0 || (level < 3 && (lo & PteFlag.PS) === 0);
  }

  function write(w: number, lo: number, hi: number): void {
    const was = u32[w]! & PteFlag.P;
    const now = lo & PteFlag.P;
    if (was !== now) present[w >> 10] = present[w >> 10]! + (now !== 0 ? 1 : -1);
    u32[w + 1] = hi;
    u32[w] = lo;
  }

  /** Takes `n` frames for tables, or none (returning every frame taken) if one is missing. */
  /** Returned for the common case of a map that needs no new table: no allocation. */
  const NO_FRAMES: number[] = [];

  function takeFrames(n: number, alloc: FrameAllocator): number[] | null {
    if (n === 0) return NO_FRAMES;
    const frames: number[] = [];
    while (frames.length < n) {
      const f = alloc.allocate();
      if (f !== null && tableWord(f) >= 0) {
        frames.push(f);
        continue;
      }
      if (f !== null) alloc.free(f);
      for (const g of frames) alloc.free(g);
      return null;
    }
    return frames;
  }

  /** Zeroes the frame `pa` (a fresh table) and returns its word index. */
  function freshTable(pa: number): number {
    const t = tableWord(pa);
    u32.fill(0, t, t + TABLE_WORDS);
    present[t >> 10] = 0;
    return t;
  }

  /**
   * Replaces the leaf at word `w` of level `level` by a table in `frame` holding the
   * same mapping as 512 leaves one level down (same flags, A, D and XD, and the same
   * memory type: PCD, PWT, and PAT moved from bit 12 to bit 7 when the pieces are PTEs).
   */
  function splitLeaf(w: number, level: number, frame: number): number {
    const lo = u32[w]!;
    const hi = u32[w + 1]!;
    const t = tableWord(frame);
    const start = (hi & PTE_HI_ADDR) * TWO32 + ((lo & LEAF_LO_MASK[level]!) >>> 0);
    const span = LEVEL_SPAN[level + 1]!;
    const large = level + 1 < 3;
    const pat = (lo & PteFlag.PAT_LARGE) === 0 ? 0 : large ? PteFlag.PAT_LARGE : PteFlag.PAT_4K;
    const flags = (lo & PTE_LO_FLAGS & ~PteFlag.PS) | (large ? PteFlag.PS : 0) | pat;
    const xd = (hi & PTE_HI_XD) !== 0;
    for (let i = 0; i < 512; i++) {
      const pa = start + i * span;
      write(t + 2 * i, pteLow(pa, flags), pteHigh(pa, xd));
    }
    write(w, pteLow(frame, TABLE_FLAGS), pteHigh(frame, false));
    return t;
  }

  /**
   * Removes every mapping under the level-`level` table at word `t`, and returns the OR
   * of their status. It frees the sub-tables (not `t` itself) to `alloc`.
   */
  function clearTable(t: number, level: number, alloc: FrameAllocator): number {
    let status = 0;
    for (let w = t; w < t + TABLE_WORDS; w += 2) {
      const lo = u32[w]!;
      if ((lo & PteFlag.P) === 0) continue;
      if (!pointsToTable(lo, level)) {
        status |= statusOf(lo);
        write(w, 0, 0);
        continue;
      }
      const child = childTable(w);
      if (child >= 0) {
        status |= clearTable(child, level + 1, alloc);
        alloc.free(tablePa(child));
      }
      write(w, 0, 0);
    }
    return status;
  }

  function isEmpty(t: number): boolean {
    return present[t >> 10] === 0;
  }

  /**
   * After the entry at `pathEntry[level]` was cleared: frees the tables on the path
   * that are now empty, bottom-up, never the root.
   */
  function pruneEmpty(level: number, alloc: FrameAllocator): void {
    for (let l = level; l > 0; l--) {
      const t = pathTable[l]!;
      if (!isEmpty(t)) return;
      write(pathEntry[l - 1]!, 0, 0);
      alloc.free(tablePa(t));
    }
  }

  function isUserAddress(va: number): boolean {
    return va >= 0 && va < X86_USER_LIMIT && Number.isInteger(va);
  }

  function createRoot(alloc: FrameAllocator): number | null {
    const frames = takeFrames(1, alloc);
    if (frames === null) return null;
    const root = frames[0]!;
    freshTable(root);
    return root;
  }

  function unmap(root: number, va: number, order: number, alloc: FrameAllocator): number {
    const leafLevel = leafLevelOf(order);
    const rootT = tableWord(root);
    if (leafLevel < 0 || rootT < 0 || !isUserAddress(va) || va % 2 ** order !== 0) return 0;
    return remove(rootT, va, leafLevel, alloc, false);
  }

  /**
   * Removes the page of level `leafLevel` at `va` under the root at word `rootT` and
   * returns its status. Inside a larger leaf it splits that leaf; when the frames for
   * the split are missing it removes the whole larger leaf, or, when `strict`, changes
   * nothing and returns -1.
   */
  function remove(
    rootT: number,
    va: number,
    leafLevel: number,
    alloc: FrameAllocator,
    strict: boolean,
  ): number {
    let t = rootT;
    for (let level = 0; level < leafLevel; level++) {
      const w = entryWord(t, va, level);
      pathTable[level] = t;
      pathEntry[level] = w;
      const lo = u32[w]!;
      if ((lo & PteFlag.P) === 0) return 0;
      if (pointsToTable(lo, level)) {
        t = childTable(w);
        if (t < 0) return 0;
        continue;
      }
      // A larger leaf covers the page: split it down to the page's level so the rest
      // of it stays mapped, or, without the frames, remove all of it.
      const frames = takeFrames(leafLevel - level, alloc);
      if (frames === null) {
        if (strict) return -1;
        write(w, 0, 0);
        pruneEmpty(level, alloc);
        return statusOf(lo);
      }
      let sw = w;
      for (let l = level; l < leafLevel; l++) {
        const nt = splitLeaf(sw, l, frames[l - level]!);
        sw = entryWord(nt, va, l + 1);
        pathTable[l + 1] = nt;
        pathEntry[l + 1] = sw;
      }
      t = pathTable[leafLevel]!;
      break;
    }
    const w = entryWord(t, va, leafLevel);
    pathTable[leafLevel] = t;
    pathEntry[leafLevel] = w;
    const lo = u32[w]!;
    if ((lo & PteFlag.P) === 0) return 0;
    let status: number;
    if (pointsToTable(lo, leafLevel)) {
      // Smaller mappings inside the range: remove them all, with their table.
      const child = childTable(w);
      status = 0;
      if (child >= 0) {
        status = clearTable(child, leafLevel + 1, alloc);
        alloc.free(tablePa(child));
      }
    } else {
      status = statusOf(lo);
    }
    write(w, 0, 0);
    pruneEmpty(leafLevel, alloc);
    return status;
  }

  function map(
    root: number,
    va: number,
    pa: number,
    order: number,
    rights: number,
    alloc: FrameAllocator,
    memType: MemType = MemType.NORMAL,
  ): boolean {
    const leafLevel = leafLevelOf(order);
    const rootT = tableWord(root);
    const size = 2 ** order;
    const cache = memTypeFlags(memType);
    if (leafLevel < 0 || rootT < 0 || !isUserAddress(va) || va % size !== 0) return false;
    if (!(pa >= 0 && pa < X86_PHYS_LIMIT) || pa % size !== 0 || cache < 0) return false;
    rights &= MemAccess.READ | MemAccess.WRITE | MemAccess.EXEC;
    if (rights === 0) {
      // No right, no mapping. Unlike unmap(), this fails rather than remove all of a
      // larger page it cannot split.
      return remove(rootT, va, leafLevel, alloc, true) >= 0;
    }

    // Pass 1: follow the tables that exist. From the first level without a table on the
    // way (no entry, or a larger leaf to split), every level down needs a new one.
    let need = 0;
    let t = rootT;
    let reached = 0;
    for (let level = 0; level < leafLevel; level++) {
      const w = entryWord(t, va, level);
      const lo = u32[w]!;
      if ((lo & PteFlag.P) !== 0 && pointsToTable(lo, level)) {
        t = childTable(w);
        if (t < 0) return false;
        reached = level + 1;
        continue;
      }
      need = leafLevel - level;
      break;
    }
    if (need !== 0) {
      const frames = takeFrames(need, alloc);
      if (frames === null) return false;
      // Pass 2, only when tables are missing: nothing can fail from here on. Frames are
      // used top-down, in allocation order, from the level pass 1 stopped at.
      let next = 0;
      for (let level = reached; level < leafLevel; level++) {
        const w = entryWord(t, va, level);
        const lo = u32[w]!;
        if ((lo & PteFlag.P) === 0) {
          const frame = frames[next++]!;
          t = freshTable(frame);
          write(w, pteLow(frame, TABLE_FLAGS), pteHigh(frame, false));
        } else {
          t = splitLeaf(w, level, frames[next++]!);
        }
      }
    }
    const w = entryWord(t, va, leafLevel);
    const old = u32[w]!;
    let keep = 0;
    if ((old & PteFlag.P) !== 0) {
      if (pointsToTable(old, leafLevel)) {
        // Smaller mappings inside the range: free their whole sub-table.
        const child = childTable(w);
        if (child >= 0) {
          clearTable(child, leafLevel + 1, alloc);
          alloc.free(tablePa(child));
        }
      } else if ((u32[w + 1]! & PTE_HI_ADDR) * TWO32 + ((old & LEAF_LO_MASK[leafLevel]!) >>> 0) === pa) {
        keep = old & (PteFlag.A | PteFlag.D);
      }
    }
    let flags = PteFlag.P | PteFlag.US | cache | keep;
    if ((rights & MemAccess.WRITE) !== 0) flags |= PteFlag.RW;
    if (leafLevel < 3) flags |= PteFlag.PS;
    write(w, pteLow(pa, flags), pteHigh(pa, (rights & MemAccess.EXEC) === 0));
    return true;
  }

  function walk(root: number, va: number, access: number, out: Translation): Translation {
    out.frame = 0;
    out.order = 0;
    out.rights = 0;
    out.levels = 0;
    if (!(va >= 0 && va < X86_USER_LIMIT) || va % 1 !== 0) {
      out.fault = WalkFault.BAD_ADDRESS;
      return out;
    }
    let t = tableWord(root);
    let level = 0;
    let lo = 0;
    let hi = 0;
    let andLo = -1;
    let orHi = 0;
    for (;;) {
      if (t < 0) {
        out.fault = WalkFault.NOT_MAPPED;
        return out;
      }
      const w = t + ((Math.floor(va / LEVEL_SPAN[level]!) & 511) << 1);
      lo = u32[w]!;
      hi = u32[w + 1]!;
      used[level] = w;
      out.levels = level + 1;
      if ((lo & PteFlag.P) === 0) {
        out.fault = WalkFault.NOT_MAPPED;
        return out;
      }
      andLo &= lo;
      orHi |= hi;
      if (level === 3 || (lo & PteFlag.PS) !== 0) break;
      t = tableWord((hi & PTE_HI_ADDR) * TWO32 + ((lo & PTE_LO_ADDR_4K) >>> 0));
      level++;
    }
    if (level === 0) {
      // PS is reserved in a PML4E: the MMU raises a reserved-bit fault.
      out.fault = WalkFault.NOT_MAPPED;
      return out;
    }
    const rights =
      MemAccess.READ |
      ((andLo & PteFlag.RW) !== 0 ? MemAccess.WRITE : 0) |
      ((orHi & PTE_HI_XD) !== 0 ? 0 : MemAccess.EXEC);
    out.order = 39 - 9 * level;
    out.frame = (hi & PTE_HI_ADDR) * TWO32 + ((lo & LEAF_LO_MASK[level]!) >>> 0);
    out.rights = rights;
    if ((andLo & PteFlag.US) === 0 || (access & ~rights & 7) !== 0) {
      out.fault = WalkFault.PROTECTION;
      return out;
    }
    out.fault = 0;
    // Access 0 is a probe (the kernel asking, not the CPU accessing): no side effects.
    if (access === 0) return out;
    // The MMU sets A in every entry it used, and D in the leaf for a write.
    for (let l = 0; l <= level; l++) {
      const w = used[l]!;
      u32[w] = u32[w]! | PteFlag.A;
    }
    if ((access & MemAccess.WRITE) !== 0) {
      const w = used[level]!;
      u32[w] = u32[w]! | PteFlag.D;
    }
    out.fault = 0;
    return out;
  }

  function destroy(root: number, alloc: FrameAllocator): void {
    const t = tableWord(root);
    if (t < 0) return;
    clearTable(t, 0, alloc);
    alloc.free(root);
  }

  return {
    name: 'x86_64 4-level',
    pageOrders: [12, 21, 30],
    vaBits: 48,
    isUserAddress,
    createRoot,
    map,
    unmap,
    walk,
    destroy,
  };
}
