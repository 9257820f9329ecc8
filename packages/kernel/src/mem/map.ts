/**
 * Map, grant and unmap of memory flexpages (L4 X.2 §"Map, grant and unmap"; brief §3),
 * on top of the generic mapping database.
 *
 * - **Map** derives, for every page of the sender's range, a child mapping in the
 *   receiver with the rights ANDed. Pages are as large as the flexpage, the sender's
 *   page and the back end allow: a 2 MiB flexpage backed by 4 KiB pages maps 512
 *   pages, a 4 KiB flexpage inside a 2 MiB page maps one 4 KiB page of it, a 2 MiB
 *   flexpage of a 2 MiB page maps one large page.
 * - **Grant** moves the sender's mappings (splitting a larger one first), keeping
 *   their place in the derivation tree, and reduces their rights.
 * - **Unmap** revokes rights in every mapping derived from the range, or removes them
 *   when no right is left; with `self` the range's own mappings too. A mapping that
 *   is only partly inside the range is split first.
 *
 * What a destination already holds: a mapping of the same frame derived from the same
 * parent gains the new rights (X.2's rights upgrade); anything else in the way is
 * unmapped first, whole, as the page tables of a receiver cannot hold two pages at one
 * address.
 */
import { Errno } from '../abi/errors';
import { pow2 } from '../abi/fpage';
import { linkChild, removeSubtree, revoke, unlink } from '../cap/mapdb';
import { type AddressSpace, type MemMapping, mappingSize, PageMapping } from './address-space';

/** True when `a` is `m` or one of its ancestors. */
function isAncestorOrSelf(a: MemMapping, m: MemMapping): boolean {
  for (let n: MemMapping | null = m; n; n = n.parent) if (n === a) return true;
  return false;
}

/**
 * Makes room for a page at `[va, va + size)` in `dst`: unmaps whatever overlaps it
 * unless it is `keep`. Returns false when what is in the way is the source mapping
 * itself or one of its ancestors (mapping a page onto its own origin).
 */
function clearDestination(dst: AddressSpace, va: number, size: number, source: MemMapping): boolean {
  // A smallest page overlaps at most the one mapping that covers it.
  if (size === dst.minPageSize) {
    const m = dst.mappingAt(va);
    if (!m) return true;
    if (isAncestorOrSelf(m, source)) return false;
    removeSubtree(m);
    return true;
  }
  for (const m of dst.mappingsIn(va, size)) {
    if (isAncestorOrSelf(m, source)) return false;
  }
  for (const m of dst.mappingsIn(va, size)) if (dst.holds(m)) removeSubtree(m);
  return true;
}

/**
 * Maps `[srcBase, srcBase + 2^order)` of `src` to `dstBase` in `dst` with `rights`
 * (X.2 rwx bits). Both ranges must be aligned and in user space (the caller checks).
 * Returns 0, or the errno that stopped it: ENOMEM when a page-table frame cannot be
 * had, EINVAL when a page would land on its own origin. Pages mapped before a failure
 * stay mapped, as in Fiasco.
 */
export function mapMemory(
  src: AddressSpace,
  srcBase: number,
  order: number,
  dst: AddressSpace,
  dstBase: number,
  rights: number,
): number {
  const size = pow2(order);
  // Usually one source mapping covers the whole flexpage (a pager handing out a page).
  const first = src.mappingAt(srcBase);
  if (first && first.index + first.payload.size >= srcBase + size) {
    return mapFrom(first, srcBase, order, dst, dstBase, rights);
  }
  for (const n of src.mappingsIn(srcBase, size)) {
    if (!src.holds(n)) continue;
    const err = mapFrom(n, srcBase, order, dst, dstBase, rights);
    if (err !== 0) return err;
  }
  return 0;
}

/** Maps the part of source mapping `n` inside the flexpage (see {@link mapMemory}). */
function mapFrom(
  n: MemMapping,
  srcBase: number,
  order: number,
  dst: AddressSpace,
  dstBase: number,
  rights: number,
): number {
  const r = n.rights & rights;
  if (r === 0) return 0;
  const p = n.payload;
  const smaller = dst.pageOrderAtMost(Math.min(order, p.order));
  const step = pow2(smaller);
  const lo = Math.max(n.index, srcBase);
  const hi = Math.min(n.index + p.size, srcBase + pow2(order));
  for (let va = lo; va < hi; va += step) {
    const dva = dstBase + (va - srcBase);
    const pa = p.pa + (va - n.index);
    const there = dst.mappingAt(dva);
    if (there && there.index === dva && there.payload.size === step && there.payload.pa === pa) {
      if (there === n) continue;
      if (there.parent === n) {
        // X.2: mapping a page again from the same parent only adds rights.
        if ((there.rights | r) !== there.rights) {
          there.rights |= r;
          if (!dst.install(there)) return Errno.ENOMEM;
        }
        continue;
      }
    }
    // Nothing covers dva, and a smallest page cannot hold smaller ones: nothing to clear.
    if ((there || step !== dst.minPageSize) && !clearDestination(dst, dva, step, n)) return Errno.EINVAL;
    const child = new PageMapping(dst, dva, r, pa, smaller, p.memType);
    linkChild(n, child);
    if (!dst.install(child)) {
      unlink(child);
      return Errno.ENOMEM;
    }
  }
  return 0;
}

/**
 * Grants `[srcBase, srcBase + 2^order)` of `src` to `dstBase` in `dst`: moves each
 * mapping, with its rights reduced by `rights`. Returns 0 or ENOMEM / EINVAL as
 * {@link mapMemory} does.
 */
export function grantMemory(
  src: AddressSpace,
  srcBase: number,
  order: number,
  dst: AddressSpace,
  dstBase: number,
  rights: number,
): number {
  const size = 2 ** order;
  for (let list = src.mappingsIn(srcBase, size); list.length > 0; ) {
    const n = list.shift()!;
    if (!src.holds(n)) continue;
    if (n.index < srcBase || n.index + mappingSize(n) > srcBase + size) {
      // Larger than the flexpage: grant only the part inside it.
      if (!src.split(n)) return Errno.ENOMEM;
      list = src.mappingsIn(srcBase, size).concat(list);
      continue;
    }
    const dva = dstBase + (n.index - srcBase);
    if (dst === src && dva === n.index) {
      revoke(n, ~rights & 7, true);
      continue;
    }
    if (!clearDestination(dst, dva, mappingSize(n), n)) return Errno.EINVAL;
    const reduced = n.rights & rights;
    // The destination's page table takes the page before the source lets go of it: a
    // grant that runs out of table frames must leave the mapping, and everything derived
    // from it, where it was.
    if (reduced !== 0 && !dst.prepare(dva, n)) return Errno.ENOMEM;
    src.release(n);
    n.space = dst;
    n.index = dva;
    if (reduced === 0 || !dst.install(n)) {
      // Nothing left to hold (install cannot fail after prepare): the mapping goes, and
      // what was derived from it with it.
      n.space = dst;
      removeSubtree(n);
      if (reduced !== 0) return Errno.ENOMEM;
      continue;
    }
    if (reduced !== n.rights) revoke(n, n.rights & ~rights, true);
  }
  return 0;
}

/**
 * Unmaps `[base, base + size)` of `space`: every mapping derived from it loses
 * `rights` (and goes when it has none left); with `self`, the range's own mappings
 * too. Returns the accessed/dirty status (PageStatus bits) of every entry it removed,
 * in any space.
 */
export function unmapMemory(
  space: AddressSpace,
  base: number,
  size: number,
  rights: number,
  self: boolean,
): number {
  space.takeStatus();
  for (const m of space.mappingsIn(base, size)) {
    if (space.holds(m)) unmapMapping(m, base, size, rights, self);
  }
  return space.takeStatus();
}

/** Unmaps the part `[base, base + size)` of mapping `m` (addresses in `m`'s space). */
function unmapMapping(m: MemMapping, base: number, size: number, rights: number, self: boolean): void {
  const start = m.index;
  const end = start + mappingSize(m);
  if (base <= start && end <= base + size) {
    revoke(m, rights, self);
    return;
  }
  const space = m.space as AddressSpace;
  if (self) {
    // Only part of m goes: split it and unmap the pieces inside the range. Without a
    // frame for the split, unmap all of m, which revokes more but never less.
    if (!space.split(m)) {
      revoke(m, rights, true);
      return;
    }
    for (const piece of space.mappingsIn(
      Math.max(base, start),
      Math.min(base + size, end) - Math.max(base, start),
    )) {
      if (space.holds(piece)) unmapMapping(piece, base, size, rights, true);
    }
    return;
  }
  // Only what was derived from the range goes: find the children whose frames overlap it.
  const paLo = m.payload.pa + (Math.max(base, start) - start);
  const paHi = m.payload.pa + (Math.min(base + size, end) - start);
  const hit: MemMapping[] = [];
  for (let c = m.firstChild; c; c = c.nextSibling) {
    const cLo = c.payload.pa;
    if (cLo < paHi && cLo + mappingSize(c) > paLo) hit.push(c);
  }
  for (const c of hit) {
    const lo = Math.max(paLo, c.payload.pa);
    const hi = Math.min(paHi, c.payload.pa + mappingSize(c));
    unmapMapping(c, c.index + (lo - c.payload.pa), hi - lo, rights, true);
  }
}
