import type { InterruptController } from '../platform/interrupts';
import type { Irq } from './irq';
import { KObject, ObjectKind } from './kobject';

/**
 * The interrupt-controller object (Fiasco.OC's Icu, fixed slot 6): binds hardware
 * interrupt lines to Irq objects. The kernel owns the controller; this object is the
 * authority to use its lines.
 *
 * Invariant: `bound.get(line) === irq` iff `irq.line === line && irq.icu === this`; a
 * bound line is masked at the controller exactly while its Irq is masked.
 */
export class Icu extends KObject {
  readonly kind = ObjectKind.ICU;
  readonly bound = new Map<number, Irq>();

  constructor(
    id: number,
    name: string,
    readonly controller: InterruptController,
  ) {
    super(id, name, null, 0);
  }
}
