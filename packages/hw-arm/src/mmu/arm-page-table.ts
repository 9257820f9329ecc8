/**
 * AArch64 stage-1 translation tables for EL0 (TTBR0_EL1): 4 KiB granule, 48-bit VAs
 * (TCR_EL1.T0SZ = 16, so the walk starts at level 0), 48-bit output addresses, built
 * in the simulated RAM in the real VMSAv8-64 format (see `./descriptor.ts` for the
 * bit positions and the Arm ARM sections they come from).
 *
 * Levels and the VA bits that index them: L0 47:39, L1 38:30, L2 29:21, L3 20:12;
 * each table is 512 eight-byte descriptors in one 4 KiB frame. Leaves are 4 KiB
 * pages (L3), 2 MiB blocks (L2) and 1 GiB blocks (L1).
 *
 * Leaves of normal memory use MAIR_EL1 attribute index 0, leaves of device memory index
 * 1; {@link ARM_MAIR_EL1} is the MAIR_EL1 value this assumes.
 *
 * Descriptors are read and written as two little-endian 32-bit words through a
 * Uint32Array over the RAM buffer, never as BigInt: the walk is on the TLB-miss path
 * and allocates nothing.
 *
 * @module
 */
import {
  type FrameAllocator,
  MemAccess,
  MemType,
  PageStatus,
  type PageTableFormat,
  type PhysicalMemory,
  WalkFault,
} from '@pecan/kernel';
import {
  DescBit,
  DescHi,
  DescLo,
  DescType,
  ENTRIES_PER_TABLE,
  MAIR_ATTR_DEVICE_NGNRE,
  MAIR_ATTR_NORMAL_WB,
  MAIR_INDEX_DEVICE,
  MAIR_INDEX_NORMAL,
  TABLE_BYTES,
} from './descriptor';

/**
 * The MAIR_EL1 value the format's leaves assume: Attr0 (bits 7:0) = 0xFF, Normal
 * memory, Inner and Outer Write-Back Non-transient, Read/Write-Allocate
 * ({@link MAIR_ATTR_NORMAL_WB}, AttrIndx 0, `MemType.NORMAL`); Attr1 (bits 15:8) =
 * 0x04, Device-nGnRE ({@link MAIR_ATTR_DEVICE_NGNRE}, AttrIndx 1, `MemType.DEVICE`);
 * Attr2–Attr7 unused (0, Device-nGnRnE). A kernel running on real hardware would write
 * this to MAIR_EL1 before enabling the MMU (DDI 0487, MAIR_EL1, Memory Attribute
 * Indirection Register (EL1)).
 */
export const ARM_MAIR_EL1 =
  MAIR_ATTR_DEVICE_NGNRE * 2 ** (8 * MAIR_INDEX_DEVICE) + MAIR_ATTR_NORMAL_WB * 2 ** (8 * MAIR_INDEX_NORMAL);

/** 2^32, to split a number into 32-bit halves. */
const TWO_32 = 4294967296;
/** One past the highest user VA (and the highest output address): 2^48. */
const ADDRESS_LIMIT = 2 ** 48;
/** Words per table (two per descriptor). */
const TABLE_WORDS = TABLE_BYTES / 4;

/**
 * Lower attributes of every user leaf of normal memory (DDI 0487 D5.3.3, D5.4):
 * AttrIndx = 0 (Normal write-back memory, MAIR_EL1.Attr0 = 0xFF), NS = 0, AP[1] = 1
 * (EL0 access), AP[2] = 1 (read-only, or writable-clean together with DBM), SH = 0b11
 * (inner shareable), AF = 0 (the walk sets it, as FEAT_HAFDBS hardware does), nG = 1
 * (user pages are tagged with the ASID).
 */
const USER_LEAF_LO = DescLo.AP1_EL0 | DescLo.AP2_RO | DescLo.SH_INNER | DescLo.NG;

/**
 * Lower attributes of every user leaf of device memory: as {@link USER_LEAF_LO}, but
 * AttrIndx = 1 (MAIR_EL1.Attr1 = 0x04, Device-nGnRE) and SH = 0b10 (outer shareable;
 * the MMU ignores SH for Device memory, which is always Outer Shareable, DDI 0487
 * B2.7.2, but the field gets a fixed value).
 */
const DEVICE_LEAF_LO =
  (MAIR_INDEX_DEVICE << DescBit.ATTR_INDX) | DescLo.AP1_EL0 | DescLo.AP2_RO | DescLo.SH_OUTER | DescLo.NG;
/** The level whose leaves map 2^`order` bytes: 12 → L3, 21 → L2, 30 → L1; -1 for other orders. */
function orderToLevel(order: number): number {
  switch (order) {
    case 12:
      return 3;
    case 21:
      return 2;
    case 30:
      return 1;
    default:
      return -1;
  }
}

/** log2 of the size a leaf at `level` maps: L1 30, L2 21, L3 12. */
function levelOrder(level: number): number {
  return 12 + 9 * (3 - level);
}

/** Index into the table at `level` of the VA whose low/high 32-bit halves are `vlo`/`vhi`. */
function indexAt(level: number, vlo: number, vhi: number): number {
  switch (level) {
    case 0:
      return (vhi >>> 7) & 0x1ff; // VA bits 47:39
    case 1:
      return ((vhi & 0x7f) << 2) | (vlo >>> 30); // VA bits 38:30
    case 2:
      return (vlo >>> 21) & 0x1ff; // VA bits 29:21
    default:
      return (vlo >>> 12) & 0x1ff; // VA bits 20:12
  }
}

/**
 * Output address held in a descriptor of a leaf of size 2^`order` (12, 21 or 30) or of a
 * table (12): OA bits 47:`order` (DDI 0487 D5.3.1, D5.3.2).
 */
function outputAddress(lo: number, hi: number, order: number): number {
  const mask = order === 12 ? 0xfffff000 : order === 21 ? 0xffe00000 : 0xc0000000;
  return (hi & DescHi.OA_MASK) * TWO_32 + ((lo & mask) >>> 0);
}

/** True when a leaf is dirty: writable-dirty (DBM = 1, AP[2] = 0), or the software dirty bit. */
function isDirty(lo: number, hi: number): boolean {
  return ((hi & DescHi.DBM) !== 0 && (lo & DescLo.AP2_RO) === 0) || (hi & DescHi.SW_DIRTY) !== 0;
}

/** The PageStatus of a leaf: ACCESSED if AF = 1; DIRTY if {@link isDirty}. */
function leafStatus(lo: number, hi: number): number {
  return ((lo & DescLo.AF) !== 0 ? PageStatus.ACCESSED : 0) | (isDirty(lo, hi) ? PageStatus.DIRTY : 0);
}

/** True when `va` is a user (TTBR0) address: an integer in [0, 2^48). */
function isUser(va: number): boolean {
  return va >= 0 && va < ADDRESS_LIMIT && Math.floor(va) === va;
}

/**
 * Creates the AArch64 stage-1 page-table format over `mem`.
 *
 * Design (see also docs/design/memory.md):
 * - **VA representation.** VAs are non-negative numbers. The format only builds the
 *   TTBR0_EL1 (user) half: `isUserAddress(va)` is true exactly for integers in
 *   [0, 2^48). A real AArch64 VA with bits 63:48 set selects TTBR1_EL1 (the kernel);
 *   as a number such a VA is ≥ 2^48, and so is any other value ≥ 2^48: none of them is
 *   a user address, and `walk()` returns BAD_ADDRESS for them (never throws).
 * - **Rights.** AP[1] = 1 on every user leaf, which makes it EL0-readable: like x86,
 *   stage 1 cannot express write-only or execute-only EL0 pages, so any non-zero
 *   `rights` maps a readable page. WRITE maps the page *writable-clean* (DBM = 1,
 *   AP[2] = 1); without WRITE it is read-only (DBM = 0, AP[2] = 1). EXEC clears UXN.
 *   PXN is always 1: the kernel never executes user pages. `rights` 0 means "no
 *   mapping": `map` unmaps the range (as `unmap` does) and returns true. `walk()`
 *   reports the effective rights (READ, plus WRITE and EXEC as granted).
 * - **Memory types.** `memType` `MemType.NORMAL` (the default) writes AttrIndx 0 and
 *   SH = 0b11 (inner shareable); `MemType.DEVICE` writes AttrIndx 1 and SH = 0b10
 *   (see {@link ARM_MAIR_EL1}) and always sets UXN (and PXN), whatever `rights` say:
 *   instruction fetches from Device memory are not allowed (DDI 0487 B2.7.2), so a
 *   device leaf never grants EXEC and `walk()` never reports it. Any other `memType`
 *   makes `map` return false. A split block keeps its memory type (the children
 *   inherit AttrIndx and SH with the other attributes).
 * - **Access flag and dirty state (FEAT_HAFDBS, ARMv8.1).** New leaves have AF = 0. A
 *   successful walk for an access sets AF; a successful write to a DBM = 1 leaf clears
 *   AP[2] (writable-clean becomes writable-dirty). `unmap()` reports ACCESSED for
 *   AF = 1 and DIRTY for DBM = 1 with AP[2] = 0. A walk with `access` 0 is a probe: it
 *   translates and reports rights but changes no descriptor.
 * - **Remapping the same frame** (same size, same `pa`, e.g. to change rights) keeps
 *   AF and the dirty state, so a rights change loses nothing a later unmap reports. A
 *   dirty page that becomes read-only keeps its dirty state in software bit 55 (one of
 *   the bits 58:55 the MMU ignores; Linux's PTE_DIRTY), and becomes writable-dirty
 *   again if write is granted back. A different frame starts clean and unaccessed.
 * - **Table descriptors** carry no attributes (APTable, UXNTable, PXNTable and
 *   NSTable are 0): permissions live only in the leaves, so a table can be shared by
 *   leaves with different rights and a rights change touches one descriptor. The walk
 *   does honour hierarchical attributes if a table descriptor has them.
 * - **Replacing.** `map()` replaces exactly the range it is given: a larger block
 *   that covers it is split into a next-level table whose entries inherit the block's
 *   attributes, AF and dirty state (this takes the same frames that removing the
 *   block and building the path would), and a sub-table under the range is freed
 *   recursively. Every frame is allocated before anything is written, so a failed
 *   allocation returns false with nothing changed.
 * - **Unmapping part of a block** (e.g. 4 KiB inside a 2 MiB block) splits it the same
 *   way, then clears the one entry, so exactly the requested range disappears; the
 *   status is the block's. The split takes its frames from the allocator passed to
 *   `unmap()`. If that allocation fails, the whole block is removed instead (it only
 *   revokes more) and its status returned; the caller can tell by walking a
 *   neighbouring page.
 * - **Empty tables** are given back to `unmap()`'s allocator (bottom-up along the
 *   path, never the root), as is a sub-table under an unmapped range. The format keeps
 *   no state per root: every frame comes from, and goes back to, the allocator of the
 *   call at hand (the same one for the life of a root, by the contract).
 * - **Robustness.** A table address outside RAM (or misaligned) is never indexed: the
 *   walk reports NOT_MAPPED, `map()` returns false and `unmap()` returns 0. A frame
 *   from the allocator outside RAM is given back and treated as ENOMEM. Arguments
 *   outside the {@link PageTableFormat} contract (an order other than 12, 21 or 30;
 *   `va` or `pa` misaligned; `va` not a user address; `pa` outside [0, 2^48); a
 *   `memType` other than NORMAL and DEVICE) make `map` return false and `unmap`
 *   return 0. Nothing throws.
 *
 * @param mem - the machine's RAM; its buffer holds every table frame.
 * @returns the format, named `"aarch64 stage-1 4K"`, with page orders [12, 21, 30] and 48 VA bits.
 * @throws Error on a big-endian host (descriptors are read as native 32-bit words).
 * @throws RangeError when `mem.base` is not 4 KiB-aligned.
 */
export function createArmPageTables(mem: PhysicalMemory): PageTableFormat {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    throw new Error('createArmPageTables: the host must be little-endian (descriptors are LE words)');
  }
  if (!(mem.base >= 0 && mem.base % TABLE_BYTES === 0)) {
    throw new RangeError(`createArmPageTables: RAM base ${mem.base} is not 4 KiB-aligned`);
  }
  const words = new Uint32Array(mem.buffer, 0, Math.floor(mem.buffer.byteLength / 4));
  const base = mem.base;
  const ramBytes = Math.min(mem.size, words.length * 4);
  const lastTableOffset = ramBytes - TABLE_BYTES;
  /** Scratch list of pre-allocated frames (an operation needs at most 3). */
  const fresh: number[] = [];
  /** Scratch: word index of the table at each level of the current path, and of the entry used in it. */
  const pathTable = [0, 0, 0, 0];
  const pathEntry = [0, 0, 0, 0];

  /** Word index of the table at physical address `pa`, or -1 when it is not a whole 4 KiB frame of RAM. */
  function tableWord(pa: number): number {
    const offset = pa - base;
    if (!(offset >= 0 && offset <= lastTableOffset) || offset % TABLE_BYTES !== 0) return -1;
    return offset / 4;
  }

  /**
   * Word index of the table a table descriptor points to, or -1 when it is outside RAM.
   * (Its address has bits 11:0 clear and `base` is 4 KiB-aligned, so it is aligned.)
   */
  function nextTable(lo: number, hi: number): number {
    const offset = (hi & DescHi.OA_MASK) * TWO_32 + ((lo & DescLo.OA_MASK) >>> 0) - base;
    return offset >= 0 && offset <= lastTableOffset ? offset / 4 : -1;
  }

  /**
   * Valid descriptors per table frame (indexed by frame number in RAM), kept by
   * `writeEntry`, `clearEntry` and table allocation, so that "is this table empty
   * now?" is O(1) instead of a scan of 512 descriptors (quadratic over a run of unmaps).
   */
  const valid = new Uint16Array(Math.ceil((words.length * 4) / TABLE_BYTES));

  function countValid(e: number, nowValid: boolean): void {
    const was = (words[e]! & DescLo.VALID) !== 0;
    if (was !== nowValid) valid[e >> 10] = valid[e >> 10]! + (nowValid ? 1 : -1);
  }

  function writeEntry(e: number, pa: number, attrLo: number, attrHi: number): void {
    const paLo = pa >>> 0;
    countValid(e, ((paLo | attrLo) & DescLo.VALID) !== 0);
    words[e] = paLo | attrLo;
    words[e + 1] = ((pa - paLo) / TWO_32) | attrHi;
  }

  function clearEntry(e: number): void {
    countValid(e, false);
    words[e] = 0;
    words[e + 1] = 0;
  }

  function isTableDesc(lo: number, level: number): boolean {
    return level < 3 && (lo & DescLo.TYPE_MASK) === DescType.TABLE;
  }

  /** True for a valid block descriptor at level 1 or 2. */
  function isBlockDesc(lo: number, level: number): boolean {
    return (level === 1 || level === 2) && (lo & DescLo.TYPE_MASK) === DescType.BLOCK;
  }

  /** True for a leaf that maps memory: a block at L1/L2 or a page at L3. */
  function isLeafDesc(lo: number, level: number): boolean {
    return level === 3 ? (lo & DescLo.TYPE_MASK) === DescType.PAGE : isBlockDesc(lo, level);
  }

  /** Allocates `n` zeroed table frames into `fresh`, all or nothing. */
  function allocateFrames(n: number, alloc: FrameAllocator): boolean {
    fresh.length = 0;
    for (let i = 0; i < n; i++) {
      const frame = alloc.allocate();
      const w = frame === null ? -1 : tableWord(frame);
      if (w < 0) {
        if (frame !== null) alloc.free(frame);
        for (const f of fresh) alloc.free(f);
        fresh.length = 0;
        return false;
      }
      words.fill(0, w, w + TABLE_WORDS);
      valid[w >> 10] = 0;
      fresh.push(frame!);
    }
    return true;
  }

  /** Frees every table frame below the table at word `t` (a table at `level`); not `t` itself. */
  function freeBelow(t: number, level: number, alloc: FrameAllocator): void {
    if (level >= 3) return;
    for (let i = 0; i < ENTRIES_PER_TABLE; i++) {
      const lo = words[t + 2 * i]!;
      if (!isTableDesc(lo, level)) continue;
      const hi = words[t + 2 * i + 1]!;
      const child = nextTable(lo, hi);
      if (child < 0) continue;
      freeBelow(child, level + 1, alloc);
      alloc.free(outputAddress(lo, hi, 12));
    }
  }

  /**
   * Status of every leaf below the table at word `t` (a table at `level`); clears those
   * leaves when `clear` is set (tables stay).
   */
  function leavesBelow(t: number, level: number, clear: boolean): number {
    let status = 0;
    for (let i = 0; i < ENTRIES_PER_TABLE; i++) {
      const e = t + 2 * i;
      const lo = words[e]!;
      if ((lo & DescLo.VALID) === 0) continue;
      const hi = words[e + 1]!;
      if (isTableDesc(lo, level)) {
        const child = nextTable(lo, hi);
        if (child >= 0) status |= leavesBelow(child, level + 1, clear);
        continue;
      }
      if (isLeafDesc(lo, level)) status |= leafStatus(lo, hi);
      if (clear) clearEntry(e);
    }
    return status;
  }

  function isEmptyTable(t: number): boolean {
    return valid[t >> 10] === 0;
  }

  /**
   * After the entry `pathEntry[level]` was cleared: frees the tables on the path that
   * are now empty, bottom-up, never the root.
   */
  function pruneEmpty(level: number, alloc: FrameAllocator): void {
    for (let l = level; l > 0; l--) {
      const t = pathTable[l]!;
      if (!isEmptyTable(t)) return;
      clearEntry(pathEntry[l - 1]!);
      alloc.free(base + t * 4);
    }
  }

  /**
   * Replaces the block at word `e` (level `level`) by a table at `level + 1`, in the
   * zeroed frame `frame`, whose 512 entries map the same memory with the same
   * attributes, AF and dirty state. Returns the new table's word index.
   */
  function splitBlock(e: number, level: number, frame: number): number {
    const lo = words[e]!;
    const hi = words[e + 1]!;
    const childLevel = level + 1;
    const childType = childLevel === 3 ? DescType.PAGE : DescType.BLOCK;
    const attrLo = (lo & DescLo.LOWER_ATTRS) | childType;
    const attrHi = hi & DescHi.UPPER_ATTRS & ~DescHi.CONTIGUOUS;
    const blockPa = outputAddress(lo, hi, levelOrder(level));
    const t = tableWord(frame);
    const step = 2 ** levelOrder(childLevel);
    for (let i = 0; i < ENTRIES_PER_TABLE; i++) writeEntry(t + 2 * i, blockPa + i * step, attrLo, attrHi);
    writeEntry(e, frame, DescType.TABLE, 0);
    return t;
  }

  /** The order of a supported page size is valid and `va` a user address aligned to it. */
  function validTarget(va: number, order: number): boolean {
    return orderToLevel(order) >= 0 && isUser(va) && va % 2 ** order === 0;
  }

  function unmap(root: number, va: number, order: number, alloc: FrameAllocator): number {
    let t = tableWord(root);
    if (t < 0 || !validTarget(va, order)) return 0;
    const leafLevel = orderToLevel(order);
    const vlo = va >>> 0;
    const vhi = (va - vlo) / TWO_32;
    for (let level = 0; level < leafLevel; level++) {
      const e = t + 2 * indexAt(level, vlo, vhi);
      pathTable[level] = t;
      pathEntry[level] = e;
      const lo = words[e]!;
      const hi = words[e + 1]!;
      if (isTableDesc(lo, level)) {
        t = nextTable(lo, hi);
        if (t < 0) return 0;
        continue;
      }
      if (!isBlockDesc(lo, level)) return 0; // invalid, or a reserved block at level 0
      // A block larger than the range: split it down to the leaf level, or remove it whole.
      if (!allocateFrames(leafLevel - level, alloc)) {
        clearEntry(e);
        pruneEmpty(level, alloc);
        return leafStatus(lo, hi);
      }
      let blockEntry = e;
      for (let l = level; l < leafLevel; l++) {
        t = splitBlock(blockEntry, l, fresh[l - level]!);
        blockEntry = t + 2 * indexAt(l + 1, vlo, vhi);
        pathTable[l + 1] = t;
        pathEntry[l + 1] = blockEntry;
      }
      fresh.length = 0;
      break;
    }
    const e = t + 2 * indexAt(leafLevel, vlo, vhi);
    pathTable[leafLevel] = t;
    pathEntry[leafLevel] = e;
    const lo = words[e]!;
    if ((lo & DescLo.VALID) === 0) return 0;
    const hi = words[e + 1]!;
    let status = 0;
    if (isTableDesc(lo, leafLevel)) {
      // Smaller pages under the range: report them all and drop the sub-table.
      const child = nextTable(lo, hi);
      if (child < 0) return 0;
      status = leavesBelow(child, leafLevel + 1, false);
      freeBelow(child, leafLevel + 1, alloc);
      alloc.free(outputAddress(lo, hi, 12));
    } else if (isLeafDesc(lo, leafLevel)) {
      status = leafStatus(lo, hi);
    }
    clearEntry(e);
    pruneEmpty(leafLevel, alloc);
    return status;
  }

  const format: PageTableFormat = {
    name: 'aarch64 stage-1 4K',
    pageOrders: Object.freeze([12, 21, 30]),
    vaBits: 48,

    isUserAddress: isUser,

    createRoot(alloc: FrameAllocator): number | null {
      if (!allocateFrames(1, alloc)) return null;
      const root = fresh[0]!;
      fresh.length = 0;
      return root;
    },

    map(root, va, pa, order, rights, alloc, memType = MemType.NORMAL) {
      const rootTable = tableWord(root);
      if (rootTable < 0 || !validTarget(va, order)) return false;
      if (!(pa >= 0 && pa < ADDRESS_LIMIT) || pa % 2 ** order !== 0) return false;
      if (memType !== MemType.NORMAL && memType !== MemType.DEVICE) return false;
      const device = memType === MemType.DEVICE;
      if ((rights & 7) === 0) {
        unmap(root, va, order, alloc);
        return true;
      }
      const leafLevel = orderToLevel(order);
      const vlo = va >>> 0;
      const vhi = (va - vlo) / TWO_32;

      // Pass 1: follow the existing tables, changing nothing. From the first level
      // without a table (an invalid entry, or a larger block to split), every level
      // down to the leaf needs a new table.
      let t = rootTable;
      let level = 0;
      for (; level < leafLevel; level++) {
        const e = t + 2 * indexAt(level, vlo, vhi);
        const lo = words[e]!;
        if (!isTableDesc(lo, level)) break;
        t = nextTable(lo, words[e + 1]!);
        if (t < 0) return false;
      }
      if (!allocateFrames(leafLevel - level, alloc)) return false;

      // Pass 2: nothing can fail from here on.
      for (let l = level; l < leafLevel; l++) {
        const e = t + 2 * indexAt(l, vlo, vhi);
        const frame = fresh[l - level]!;
        if (isBlockDesc(words[e]!, l)) {
          t = splitBlock(e, l, frame);
        } else {
          writeEntry(e, frame, DescType.TABLE, 0); // replaces an invalid or reserved entry
          t = tableWord(frame);
        }
      }
      fresh.length = 0;
      const e = t + 2 * indexAt(leafLevel, vlo, vhi);
      const oldLo = words[e]!;
      const oldHi = words[e + 1]!;
      let accessed = false;
      let dirty = false;
      if (isTableDesc(oldLo, leafLevel)) {
        // Smaller pages under the range: free their whole sub-table.
        const child = nextTable(oldLo, oldHi);
        if (child >= 0) {
          freeBelow(child, leafLevel + 1, alloc);
          alloc.free(outputAddress(oldLo, oldHi, 12));
        }
      } else if (isLeafDesc(oldLo, leafLevel) && outputAddress(oldLo, oldHi, order) === pa) {
        // The same frame again (a rights change): keep AF and the dirty state.
        accessed = (oldLo & DescLo.AF) !== 0;
        dirty = isDirty(oldLo, oldHi);
      }
      let attrLo =
        (device ? DEVICE_LEAF_LO : USER_LEAF_LO) | (leafLevel === 3 ? DescType.PAGE : DescType.BLOCK);
      if (accessed) attrLo |= DescLo.AF;
      let attrHi = DescHi.PXN;
      // Device memory is never executable (DDI 0487 B2.7.2): UXN whatever `rights` say.
      if (device || (rights & MemAccess.EXEC) === 0) attrHi |= DescHi.UXN;
      if ((rights & MemAccess.WRITE) !== 0) {
        attrHi |= DescHi.DBM; // writable-clean, or writable-dirty (AP[2] = 0) if it was dirty
        if (dirty) attrLo &= ~DescLo.AP2_RO;
      } else if (dirty) {
        attrHi |= DescHi.SW_DIRTY;
      }
      writeEntry(e, pa, attrLo, attrHi);
      return true;
    },

    unmap,

    walk(root, va, access, out) {
      out.fault = 0;
      out.frame = 0;
      out.order = 0;
      out.rights = 0;
      out.levels = 0;
      if (!(va >= 0 && va < ADDRESS_LIMIT && Math.floor(va) === va)) {
        out.fault = WalkFault.BAD_ADDRESS;
        return out;
      }
      const vlo = va >>> 0;
      const vhi = (va - vlo) / TWO_32;
      let t = tableWord(root);
      let tableHi = 0; // hierarchical attributes of the table descriptors on the way
      for (let level = 0; t >= 0 && level <= 3; level++) {
        const e = t + 2 * indexAt(level, vlo, vhi);
        const lo = words[e]!;
        const hi = words[e + 1]!;
        out.levels = level + 1;
        if ((lo & DescLo.VALID) === 0) break;
        if (isTableDesc(lo, level)) {
          tableHi |= hi;
          t = nextTable(lo, hi);
          continue;
        }
        // A block at level 0 (4 KiB granule, 48-bit OA) and 0b01 at level 3 are reserved.
        if (!isLeafDesc(lo, level)) break;

        // A leaf: page (L3) or block (L2, L1). Stage-1 EL0 permissions, DDI 0487 D5.4.
        const order = levelOrder(level);
        let rights = 0;
        if ((lo & DescLo.AP1_EL0) !== 0 && (tableHi & DescHi.AP_TABLE_NO_EL0) === 0) {
          rights = MemAccess.READ;
          const writable = (lo & DescLo.AP2_RO) === 0 || (hi & DescHi.DBM) !== 0;
          if (writable && (tableHi & DescHi.AP_TABLE_RO) === 0) rights |= MemAccess.WRITE;
        }
        if (((hi | tableHi) & (DescHi.UXN | DescHi.UXN_TABLE)) === 0) rights |= MemAccess.EXEC;
        out.frame = outputAddress(lo, hi, order);
        out.order = order;
        out.rights = rights;
        if ((access & 7 & ~rights) !== 0) {
          out.fault = WalkFault.PROTECTION;
          return out;
        }
        if ((access & 7) !== 0) {
          // FEAT_HAFDBS: set AF; a write to a writable-clean (DBM) page makes it dirty.
          let updated = lo | DescLo.AF;
          if ((access & MemAccess.WRITE) !== 0 && (hi & DescHi.DBM) !== 0) updated &= ~DescLo.AP2_RO;
          if (updated !== (lo | 0)) words[e] = updated;
        }
        return out;
      }
      out.fault = WalkFault.NOT_MAPPED;
      return out;
    },

    destroy(root, alloc) {
      const t = tableWord(root);
      if (t < 0) return;
      freeBelow(t, 0, alloc);
      alloc.free(root);
    },
  };
  return format;
}
