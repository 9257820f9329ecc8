import { KObject, ObjectKind } from './kobject';
import type { Thread } from './thread';

/**
 * An IPC gate: a capability-addressable endpoint bound to one receiving thread, with
 * a label its creator chose (reference facts: "On an open wait, the receiver gets the
 * gate's label. Senders cannot see it").
 *
 * As in Fiasco.OC, the two low bits of the delivered label carry the sender's W and S
 * rights on the gate, so servers can tell read-only clients from writers; labels are
 * therefore chosen with those two bits clear.
 */
export class IpcGate extends KObject {
  readonly kind = ObjectKind.GATE;
  /** The receiving thread, or null while unbound. */
  thread: Thread | null = null;
  /** The creator's label; its two low bits are zero. */
  label = 0;
}

/** Mask of the label bits that carry the sender's rights. */
export const GATE_LABEL_RIGHTS_MASK = 0x3;
