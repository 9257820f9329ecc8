import type { Icu } from './icu';
import { KObject, ObjectKind } from './kobject';
import type { Sender, Thread } from './thread';

/**
 * An interrupt object. Triggering it (in software here; hardware lines arrive with
 * the back ends through the Icu) sends an IRQ message to the attached thread.
 *
 * Like Fiasco's Irq_sender it queues in the handler's sender queue, so interrupts are
 * ordered with ordinary senders by priority. Once delivered the Irq is masked until
 * the handler unmasks it, by replying or by the EOI operation.
 *
 * Invariants: `queuedOn !== null` iff the Irq is in that thread's sender queue;
 * `pending` is true while an interrupt waits to be delivered; `masked` is true
 * from delivery until unmask, and while masked no second message is delivered.
 */
export class Irq extends KObject implements Sender {
  readonly kind = ObjectKind.IRQ;
  /** The handler thread, or null while detached. */
  target: Thread | null = null;
  /** Label the handler receives with each interrupt. */
  label = 0;
  /** An interrupt arrived and has not been delivered yet. */
  pending = false;
  /** Delivered and not yet unmasked. */
  masked = false;
  /** Number of interrupts delivered, for statistics. */
  delivered = 0;
  /** Interrupts that arrived while one was already pending (coalesced, as edge IRQs are). */
  coalesced = 0;
  prio = 0;
  qNext: Sender | null = null;
  qPrev: Sender | null = null;
  qOwner: Thread | null = null;
  /** Threads in a closed receive from this Irq (woken with an error if it is deleted). */
  closedWaitersHead: Thread | null = null;
  /** The hardware line bound to this Irq through an Icu, or -1. */
  line = -1;
  /** The Icu the line belongs to, while bound. */
  icu: Icu | null = null;
}
