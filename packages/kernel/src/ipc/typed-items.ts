/**
 * Typed items: flexpages mapped or granted by IPC (brief §3, "Flexpages").
 *
 * A send item takes two message registers after the untyped words, as in Fiasco.OC:
 * - word 0, the control word: bit 3 marks a map item (must be set), bit 1 asks for a
 *   grant instead of a map, bits 12 and up give the send base (X.2's "hot spot") in
 *   the flexpage's units;
 * - word 1, the flexpage.
 *
 * The receiver names its receive windows in its buffer registers: BR0, BR1, … each
 * hold one flexpage, and a zero BR ends the list. Items consume windows in order.
 * An item with no window left is a message cut; one that cannot be mapped (malformed,
 * or landing on an occupied slot) fails the map. Items already mapped stay mapped.
 *
 * The receiver finds one descriptor per received item where the item sat in the
 * sender's message: the control word as sent, then an object flexpage naming the
 * slots the capabilities landed in (its rights are those the sender offered).
 *
 * Object, memory and I/O flexpages all take this path; each item's window must be of
 * the item's type (else the message is cut). Memory items map or grant pages (see
 * mem/map.ts); I/O items land at the same port numbers, inside their window.
 */
import { IpcError } from '../abi/errors';
import {
  alignDown,
  FpageType,
  fpageBase,
  fpageOrder,
  fpageRights,
  fpageType,
  ioFpage,
  MemRights,
  memFpage,
  objFpage,
  pow2,
} from '../abi/fpage';
import { CAP_SPACE_ORDER, CAP_SPACE_SLOTS, type CapSpace } from '../cap/cap-space';
import type { Kernel } from '../kernel';
import { grantMemory, mapMemory } from '../mem/map';
import type { Task } from '../objects/task';
import type { Thread } from '../objects/thread';

/** Control-word bit: this is a map item. */
export const ITEM_MAP = 0x8;
/** Control-word bit: grant (move) instead of map (copy). */
export const ITEM_GRANT = 0x2;

/** Builds a map item's control word with `sendBase` as the hot spot. */
export function mapItemControl(sendBase = 0, grant = false): number {
  return sendBase * 4096 + ITEM_MAP + (grant ? ITEM_GRANT : 0);
}

/**
 * The control word of a memory map item whose hot spot is byte address `hotSpot`
 * (rounded down to its page): a pager answering a fault passes the fault address.
 */
export function memMapControl(hotSpot: number, grant = false): number {
  return Math.floor(hotSpot / 4096) * 4096 + ITEM_MAP + (grant ? ITEM_GRANT : 0);
}

/** Where the part of a send flexpage that fits a receive window goes. */
interface Placement {
  src: number;
  dst: number;
  count: number;
}

const placement: Placement = { src: 0, dst: 0, count: 0 };

/**
 * X.2's rule for fitting a 2^s send flexpage into a 2^w receive window: a smaller
 * flexpage lands at the hot spot's offset in the window (aligned to its size); a
 * larger one sends only the window-sized part that contains the hot spot.
 */
export function placeFlexpage(
  sendBase: number,
  sendOrder: number,
  hotSpot: number,
  winBase: number,
  winOrder: number,
): Placement {
  const sendSize = pow2(sendOrder);
  const winSize = pow2(winOrder);
  if (sendOrder <= winOrder) {
    const off = hotSpot - alignDown(hotSpot, winSize);
    placement.src = sendBase;
    placement.dst = winBase + alignDown(off, sendSize);
    placement.count = sendSize;
  } else {
    const off = hotSpot - alignDown(hotSpot, sendSize);
    placement.src = sendBase + alignDown(off, winSize);
    placement.dst = winBase;
    placement.count = winSize;
  }
  return placement;
}

/** True when `[base, base + 2^order)` is an aligned range inside a capability table. */
function validObjectRange(base: number, order: number): boolean {
  return (
    base >= 0 && order <= CAP_SPACE_ORDER && base % 2 ** order === 0 && base + 2 ** order <= CAP_SPACE_SLOTS
  );
}

/**
 * Maps (or grants) the capabilities of object flexpage `fp` from `src` into `dst`
 * starting at slot `dstStart`, `count` slots. Empty source slots are skipped, and so
 * are capabilities whose rights would all be masked away. Returns false, having
 * mapped what came before, when a destination slot is occupied or invalid.
 */
export function mapObjectRange(
  src: CapSpace,
  srcStart: number,
  dst: CapSpace,
  dstStart: number,
  count: number,
  rights: number,
  grant: boolean,
): boolean {
  for (let i = 0; i < count; i++) {
    const node = src.lookup(srcStart + i);
    if (!node || (node.rights & rights) === 0) continue;
    const slot = dstStart + i;
    if (slot <= 0 || slot >= CAP_SPACE_SLOTS) return false;
    const there = dst.lookup(slot);
    if (there) {
      if (grant && there === node) continue;
      return false;
    }
    if (grant) dst.grantInto(node, slot, rights);
    else dst.deriveInto(node, slot, rights);
  }
  return true;
}

/** A receive window that covers a whole address space (a page-fault reply's). */
const WHOLE_SPACE_ORDER = 64;

/**
 * Transfers `items` typed items that start at MR `first` of `s` into `r`. Returns 0,
 * or the send-phase IPC error that stopped the transfer.
 *
 * A thread receiving the reply to its page fault has one implicit receive window, its
 * whole address space, and gets no descriptors: it never sees the message.
 */
export function transferItems(_k: Kernel, s: Thread, r: Thread, first: number, items: number): number {
  const su = s.utcb;
  const ru = r.utcb;
  const srcTask = s.task;
  const dstTask = r.task;
  if (!srcTask || !dstTask) return IpcError.SEMAPFAILED;
  const implicit = r.inPageFault;
  let br = 0;
  for (let i = 0; i < items; i++) {
    const ctl = su.word(first + 2 * i);
    const fp = su.word(first + 2 * i + 1);
    if ((ctl & ITEM_MAP) === 0 || ctl < 0 || fp < 0) return IpcError.SEMAPFAILED;
    const type = fpageType(fp);
    let win: number;
    if (implicit) {
      // The window a fault opens: the whole space of the fault's kind.
      if (type !== (r.pfIo ? FpageType.IO : FpageType.MEMORY)) return IpcError.SEMAPFAILED;
      win = r.pfIo ? ioFpage(0, 16) : WHOLE_SPACE_WINDOW;
    } else {
      if (br >= ru.layout.brCount) return IpcError.SEMSGCUT;
      win = ru.br(br++);
      if (win === 0 || fpageType(win) !== type) return IpcError.SEMSGCUT;
    }
    const grant = (ctl & ITEM_GRANT) !== 0;
    let received: number;
    switch (type) {
      case FpageType.OBJECT:
        received = transferObjects(srcTask.caps, dstTask.caps, ctl, fp, win, grant);
        break;
      case FpageType.MEMORY:
        received = transferMemory(srcTask, dstTask, ctl, fp, win, grant);
        break;
      case FpageType.IO:
        received = transferPorts(srcTask, dstTask, fp, win, grant);
        break;
      default:
        return IpcError.SEMAPFAILED;
    }
    if (received < 0) return IpcError.SEMAPFAILED;
    if (!implicit) {
      ru.setWord(first + 2 * i, ctl);
      ru.setWord(first + 2 * i + 1, received);
    }
  }
  return 0;
}

/** Marker for the implicit whole-space window (not a flexpage a user can name). */
const WHOLE_SPACE_WINDOW = -1;

/** Object flexpage: returns the descriptor of where the capabilities landed, or −1. */
function transferObjects(
  src: CapSpace,
  dst: CapSpace,
  ctl: number,
  fp: number,
  win: number,
  grant: boolean,
): number {
  const sBase = fpageBase(fp);
  const sOrder = fpageOrder(fp);
  const wBase = fpageBase(win);
  const wOrder = fpageOrder(win);
  if (!validObjectRange(sBase, sOrder) || !validObjectRange(wBase, wOrder)) return -1;
  const p = placeFlexpage(sBase, sOrder, Math.floor(ctl / 4096), wBase, wOrder);
  const rights = fpageRights(fp);
  if (!mapObjectRange(src, p.src, dst, p.dst, p.count, rights, grant)) return -1;
  return objFpage(p.dst, Math.min(sOrder, wOrder), rights);
}

/** True when memory flexpage `[base, base + 2^order)` is a page-aligned, aligned range. */
function validMemoryRange(base: number, order: number): boolean {
  return (
    order >= 12 &&
    (order === WHOLE_SPACE_ORDER ? base === 0 : order < WHOLE_SPACE_ORDER && base % pow2(order) === 0)
  );
}

/**
 * Memory flexpage: maps or grants the part that fits the window (X.2 placement, the
 * item's send base as hot spot: a pager answering a fault puts the fault address
 * there). Returns the descriptor of the received range, or −1.
 */
function transferMemory(
  srcTask: Task,
  dstTask: Task,
  ctl: number,
  fp: number,
  win: number,
  grant: boolean,
): number {
  const src = srcTask.space;
  const dst = dstTask.space;
  if (!src || !dst) return -1;
  const sBase = fpageBase(fp);
  const sOrder = fpageOrder(fp);
  const whole = win === WHOLE_SPACE_WINDOW;
  const wBase = whole ? 0 : fpageBase(win);
  const wOrder = whole ? WHOLE_SPACE_ORDER : fpageOrder(win);
  if (!validMemoryRange(sBase, sOrder) || (!whole && !validMemoryRange(wBase, wOrder))) return -1;
  const p = placeFlexpage(sBase, sOrder, Math.floor(ctl / 4096) * 4096, wBase, wOrder);
  const order = Math.min(sOrder, wOrder);
  if (!dst.mappable(p.dst, p.count)) return -1;
  const rights = fpageRights(fp) & MemRights.RWX;
  const err = grant
    ? grantMemory(src, p.src, order, dst, p.dst, rights)
    : mapMemory(src, p.src, order, dst, p.dst, rights);
  return err === 0 ? memFpage(p.dst, order, rights) : -1;
}

/**
 * I/O flexpage: ports land at their own numbers, so the received ports are those in
 * both the send flexpage and the window. Returns their descriptor, or −1.
 */
function transferPorts(srcTask: Task, dstTask: Task, fp: number, win: number, grant: boolean): number {
  const src = srcTask.io;
  const dst = dstTask.io;
  if (!src || !dst) return -1;
  const sBase = fpageBase(fp);
  const sOrder = fpageOrder(fp);
  const wBase = fpageBase(win);
  const wOrder = fpageOrder(win);
  if (!validPortRange(sBase, sOrder, src.portCount) || !validPortRange(wBase, wOrder, dst.portCount))
    return -1;
  // Two aligned power-of-two ranges either nest or are disjoint.
  const order = Math.min(sOrder, wOrder);
  const base = sOrder <= wOrder ? sBase : wBase;
  const inside =
    sOrder <= wOrder ? sBase - (sBase % 2 ** wOrder) === wBase : wBase - (wBase % 2 ** sOrder) === sBase;
  if (!inside) return ioFpage(0, 0, 0);
  dst.mapFrom(src, base, 2 ** order, grant);
  return ioFpage(base, order, fpageRights(fp));
}

/** True when `[base, base + 2^order)` is an aligned range of a machine's ports. */
export function validPortRange(base: number, order: number, portCount: number): boolean {
  return order <= 16 && base % 2 ** order === 0 && base + 2 ** order <= portCount;
}
