/**
 * The mapping database: the derivation tree of every mapping, as in L4 X.2 and
 * Fiasco.OC. It is generic over the kind of space, so object capabilities (this
 * package), memory pages and I/O ports (the memory issue) share one mechanism.
 *
 * Invariants, checked by `checkMappingTree` in tests:
 * - a node's rights are a subset of its parent's rights;
 * - a node is in its space at `index` exactly while it is linked into the tree;
 * - the sibling list of a parent is doubly linked and every child's `parent` is it.
 *
 * Revocation walks the subtree below a node iteratively, so its cost is proportional
 * to what it removes, never to the size of the database.
 */

/** A space that holds mappings at integer indices (slots, page numbers, ports). */
export interface MappingSpace<T> {
  /** Called after `node` has been unlinked, so the space clears its entry. */
  detach(node: MapNode<T>): void;
  /**
   * Called when `node` lost some rights but stays mapped, so the space can update what
   * enforces them (a page-table entry). Capability tables need nothing.
   */
  restricted?(node: MapNode<T>): void;
}

/** One mapping: `payload` is mapped into `space` at `index` with `rights`. */
export class MapNode<T> {
  /**
   * What is mapped. Set once, in the constructor (a subclass may point it at itself
   * so that a mapping and its payload are one object).
   */
  payload: T;
  parent: MapNode<T> | null = null;
  firstChild: MapNode<T> | null = null;
  nextSibling: MapNode<T> | null = null;
  prevSibling: MapNode<T> | null = null;

  constructor(
    public space: MappingSpace<T>,
    public index: number,
    public rights: number,
    payload: T,
  ) {
    this.payload = payload;
  }
}

/** Creates a root mapping: the first mapping of a freshly created object or frame. */
export function createRoot<T>(space: MappingSpace<T>, index: number, rights: number, payload: T): MapNode<T> {
  return new MapNode(space, index, rights, payload);
}

/**
 * Derives a child of `parent` (X.2 map): the child gets the parent's rights ANDed with
 * `rights`. Returns the new node; the caller installs it in `space`.
 */
export function deriveChild<T>(
  parent: MapNode<T>,
  space: MappingSpace<T>,
  index: number,
  rights: number,
): MapNode<T> {
  const child = new MapNode(space, index, parent.rights & rights, parent.payload);
  linkChild(parent, child);
  return child;
}

/**
 * Links an unlinked `child` below `parent`, first among its siblings. The caller keeps
 * the rights invariant (memory derives a smaller page with its own payload this way).
 */
export function linkChild<T>(parent: MapNode<T>, child: MapNode<T>): void {
  child.parent = parent;
  child.prevSibling = null;
  child.nextSibling = parent.firstChild;
  if (parent.firstChild) parent.firstChild.prevSibling = child;
  parent.firstChild = child;
}

/**
 * Moves `node` to a new place (X.2 grant) keeping its position in the tree, and
 * reduces its rights (and so its subtree's) by `rights`. The caller has cleared the
 * old entry and installs the new one.
 */
export function moveNode<T>(node: MapNode<T>, space: MappingSpace<T>, index: number, rights: number): void {
  node.space = space;
  node.index = index;
  if ((node.rights & rights) !== node.rights) restrictSubtree(node, rights);
}

/** ANDs `rights` into `node` and every node below it. */
function restrictSubtree<T>(node: MapNode<T>, rights: number): void {
  for (let n: MapNode<T> | null = node; n; n = nextInSubtree(n, node)) {
    const before = n.rights;
    n.rights &= rights;
    if (n.rights !== before) n.space.restricted?.(n);
  }
}

/** Pre-order successor of `n` within the subtree rooted at `root`, or null at the end. */
function nextInSubtree<T>(n: MapNode<T>, root: MapNode<T>): MapNode<T> | null {
  if (n.firstChild) return n.firstChild;
  let cur: MapNode<T> | null = n;
  while (cur && cur !== root) {
    if (cur.nextSibling) return cur.nextSibling;
    cur = cur.parent;
  }
  return null;
}

/** Takes `node` out of its parent's child list (its own children stay below it). */
export function unlink<T>(node: MapNode<T>): void {
  const p = node.parent;
  if (node.prevSibling) node.prevSibling.nextSibling = node.nextSibling;
  else if (p) p.firstChild = node.nextSibling;
  if (node.nextSibling) node.nextSibling.prevSibling = node.prevSibling;
  node.parent = null;
  node.prevSibling = null;
  node.nextSibling = null;
}

/**
 * The node after `n`'s whole subtree in a pre-order walk of `root`'s subtree, or null.
 */
function nextAfterSubtree<T>(n: MapNode<T>, root: MapNode<T>): MapNode<T> | null {
  for (let cur: MapNode<T> | null = n; cur && cur !== root; cur = cur.parent) {
    if (cur.nextSibling) return cur.nextSibling;
  }
  return null;
}

/**
 * Revokes rights below `node` (X.2 unmap of one mapping).
 *
 * Every descendant loses `rights`; a descendant left with no rights is removed, and
 * its whole subtree with it. When `includeSelf` is set (X.2 flush) the same applies
 * to `node` itself. Returns the number of nodes removed. The walk is iterative, so a
 * derivation chain of any depth cannot exhaust the host's stack.
 */
export function revoke<T>(node: MapNode<T>, rights: number, includeSelf: boolean): number {
  const keep = ~rights & 0xff;
  if (includeSelf) {
    const before = node.rights;
    node.rights &= keep;
    if (node.rights === 0) return removeSubtree(node);
    if (node.rights !== before) node.space.restricted?.(node);
  }
  let removed = 0;
  let n = node.firstChild;
  while (n) {
    const before = n.rights;
    n.rights &= keep;
    if (n.rights !== before && n.rights !== 0) n.space.restricted?.(n);
    if (n.rights === 0) {
      // Find the successor first: removal unlinks n and everything below it.
      const next = nextAfterSubtree(n, node);
      removed += removeSubtree(n);
      n = next;
    } else {
      n = nextInSubtree(n, node);
    }
  }
  return removed;
}

/** Removes `node` and everything derived from it. Returns how many nodes went. */
export function removeSubtree<T>(node: MapNode<T>): number {
  let removed = 0;
  // Post-order without recursion: descend to a leaf, detach it, climb.
  let cur: MapNode<T> | null = node;
  while (cur) {
    if (cur.firstChild) {
      cur = cur.firstChild;
      continue;
    }
    const parent: MapNode<T> | null = cur === node ? null : cur.parent;
    unlink(cur);
    cur.space.detach(cur);
    removed++;
    cur = parent;
  }
  return removed;
}
