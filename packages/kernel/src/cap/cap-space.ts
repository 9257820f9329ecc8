import type { KObject } from '../objects/kobject';
import { deriveChild, type MapNode, type MappingSpace, moveNode } from './mapdb';

/** A capability: a mapping-database node whose payload is a kernel object. */
export type Cap = MapNode<KObject>;

/** Largest number of slots a capability table may have (2^16). */
export const CAP_SPACE_SLOTS = 1 << 16;
/** log2 of {@link CAP_SPACE_SLOTS}: the largest order of an object flexpage. */
export const CAP_SPACE_ORDER = 16;

/**
 * A task's capability table: a flat array of slots, slot 0 always empty.
 *
 * Invariant: `slots[i]` is a node with `space === this` and `index === i`, or empty.
 * Every occupied slot counts once in its object's `capCount`.
 */
export class CapSpace implements MappingSpace<KObject> {
  private readonly slots: (Cap | undefined)[] = [];
  /** Number of occupied slots. */
  size = 0;

  constructor(
    /** Called when an object loses its last capability. */
    private readonly onLastCap: (obj: KObject) => void,
  ) {}

  /** The capability in `slot`, or undefined. Out-of-range slots are empty. */
  lookup(slot: number): Cap | undefined {
    return this.slots[slot];
  }

  /** True when `slot` may hold a capability at all. */
  static validSlot(slot: number): boolean {
    return Number.isInteger(slot) && slot > 0 && slot < CAP_SPACE_SLOTS;
  }

  /** Installs a node that the caller created for this space at `node.index`. */
  install(node: Cap): void {
    this.slots[node.index] = node;
    node.payload.capCount++;
    this.size++;
  }

  /** Maps `src` into `slot` with rights ANDed by `rights` (the slot must be empty). */
  deriveInto(src: Cap, slot: number, rights: number): Cap {
    const node = deriveChild(src, this, slot, rights);
    this.install(node);
    return node;
  }

  /**
   * Moves `src` (from any space) into `slot` of this space (the slot must be empty),
   * reducing its rights by `rights`.
   */
  grantInto(src: Cap, slot: number, rights: number): void {
    const from = src.space as CapSpace;
    from.slots[src.index] = undefined;
    from.size--;
    moveNode(src, this, slot, rights);
    this.slots[slot] = src;
    this.size++;
  }

  detach(node: Cap): void {
    if (this.slots[node.index] === node) {
      this.slots[node.index] = undefined;
      this.size--;
    }
    const obj = node.payload;
    if (--obj.capCount === 0) this.onLastCap(obj);
  }

  /** Every occupied slot with its capability, in slot order. */
  *entries(): IterableIterator<[number, Cap]> {
    for (let i = 0; i < this.slots.length; i++) {
      const c = this.slots[i];
      if (c) yield [i, c];
    }
  }

  /** The lowest empty slot at or above `from`, or -1 when the table is full. */
  findFree(from: number): number {
    for (let i = Math.max(from, 1); i < CAP_SPACE_SLOTS; i++) if (!this.slots[i]) return i;
    return -1;
  }
}
