import { KObject, ObjectKind } from './kobject';

/**
 * A factory: creates kernel objects and pays for them from a kernel-memory quota
 * (Fiasco.OC's Factory with its Ram_quota).
 *
 * A sub-factory's whole limit is charged to its parent when it is created, so the
 * sum of what a tree of factories can ever spend is bounded by the root's quota.
 *
 * Invariants: `0 <= used <= limit`; `used` is the sum of `kmem` over the live objects
 * this factory created (sub-factories included). When the factory object has been
 * destroyed and `used` drops to 0, its own charge goes back to its parent.
 */
export class Factory extends KObject {
  readonly kind = ObjectKind.FACTORY;
  /** Bytes this factory may have outstanding. */
  readonly limit: number;
  /** Bytes currently charged. */
  used = 0;

  constructor(id: number, name: string, factory: Factory | null, kmem: number, limit: number) {
    super(id, name, factory, kmem);
    this.limit = limit;
  }

  /** Bytes still available. */
  get available(): number {
    return this.limit - this.used;
  }

  /** Charges `bytes`; false (and nothing charged) when the quota does not cover them. */
  charge(bytes: number): boolean {
    if (bytes > this.limit - this.used) return false;
    this.used += bytes;
    return true;
  }

  /** Returns `bytes` charged earlier. */
  release(bytes: number): void {
    this.used -= bytes;
  }
}
