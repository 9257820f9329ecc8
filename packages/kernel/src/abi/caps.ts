/**
 * Capability indices, fixed slots and invoke flags, numbered as in Fiasco.OC
 * (reference facts, "Capabilities").
 *
 * A capability index is `slot << 12`; the low 12 bits of the invoke register carry
 * the invoke flags. Slot 0 is the invalid capability.
 */

/** Shift from a slot number to a capability index. */
export const CAP_SHIFT = 12;

/** Converts a capability-table slot to the capability index user code passes around. */
export function capIndex(slot: number): number {
  return slot * 4096;
}

/** Converts a capability index back to its slot. */
export function capSlot(index: number): number {
  return Math.floor(index / 4096);
}

/** The invalid capability. */
export const INVALID_CAP = 0;

/**
 * The slots every task is started with (Fiasco.OC's initial capabilities). A slot is
 * empty when the creator did not provide that object.
 */
export const FixedSlot = {
  TASK: 1,
  FACTORY: 2,
  THREAD: 3,
  PAGER: 4,
  LOG: 5,
  ICU: 6,
  SCHEDULER: 7,
  DEBUGGER: 10,
} as const;

/** The first slot that is not reserved for a fixed capability. */
export const FIRST_FREE_SLOT = 16;

/**
 * Slots a loader fills with a program's named capabilities before it starts (the
 * root task of `@pecan/servers` does, from {@link LOADER_SLOTS.first}), as L4Re's
 * loader fills the capabilities of a program's initial environment. A task's own
 * capability allocator never hands them out, so the two never collide.
 */
export const LOADER_SLOTS = { first: 512, count: 256 } as const;

/** Invoke flags (low bits of the capability register). */
export const Invoke = {
  SEND: 1,
  RECV: 2,
  OPEN_WAIT: 4,
  REPLY: 8,
  CALL: 1 | 2,
  REPLY_AND_WAIT: 1 | 2 | 4 | 8,
  /** Receive from any partner (open wait), without a send phase. */
  WAIT: 2 | 4,
} as const;

/** Object capability rights (flexpage rights bits for object flexpages). */
export const CapRights = {
  /** Write: mutate the object. */
  W: 0x1,
  /** Special: privileged operations (bind, attach, kernel protocol on a gate). */
  S: 0x2,
  /** Read: the basic right to invoke and inspect. */
  R: 0x4,
  /** Delete: destroy the object, revoking every capability to it. */
  D: 0x8,
  RW: 0x5,
  RWS: 0x7,
  ALL: 0xf,
} as const;

/** Spells rights as L4Re's ned does, e.g. `"rws"` or `"rwsd"`; `"-"` for none. */
export function rightsString(rights: number): string {
  let s = '';
  if (rights & CapRights.R) s += 'r';
  if (rights & CapRights.W) s += 'w';
  if (rights & CapRights.S) s += 's';
  if (rights & CapRights.D) s += 'd';
  return s || '-';
}
