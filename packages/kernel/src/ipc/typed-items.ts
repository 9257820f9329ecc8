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
 * This issue maps object flexpages; memory and I/O flexpages arrive with the memory
 * issue and fail to map until then.
 */
import { IpcError } from '../abi/errors';
import { FpageType, fpageBase, fpageOrder, fpageRights, fpageType, objFpage } from '../abi/fpage';
import { CAP_SPACE_ORDER, CAP_SPACE_SLOTS, type CapSpace } from '../cap/cap-space';
import type { Kernel } from '../kernel';
import type { Thread } from '../objects/thread';

/** Control-word bit: this is a map item. */
export const ITEM_MAP = 0x8;
/** Control-word bit: grant (move) instead of map (copy). */
export const ITEM_GRANT = 0x2;

/** Builds a map item's control word with `sendBase` as the hot spot. */
export function mapItemControl(sendBase = 0, grant = false): number {
  return sendBase * 4096 + ITEM_MAP + (grant ? ITEM_GRANT : 0);
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
  if (sendOrder <= winOrder) {
    const off = hotSpot % 2 ** winOrder;
    placement.src = sendBase;
    placement.dst = winBase + (off - (off % 2 ** sendOrder));
    placement.count = 2 ** sendOrder;
  } else {
    const off = hotSpot % 2 ** sendOrder;
    placement.src = sendBase + (off - (off % 2 ** winOrder));
    placement.dst = winBase;
    placement.count = 2 ** winOrder;
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

/**
 * Transfers `items` typed items that start at MR `first` of `s` into `r`. Returns 0,
 * or the send-phase IPC error that stopped the transfer.
 */
export function transferItems(_k: Kernel, s: Thread, r: Thread, first: number, items: number): number {
  const su = s.utcb;
  const ru = r.utcb;
  const srcTask = s.task;
  const dstTask = r.task;
  if (!srcTask || !dstTask) return IpcError.SEMAPFAILED;
  let br = 0;
  for (let i = 0; i < items; i++) {
    const ctl = su.word(first + 2 * i);
    const fp = su.word(first + 2 * i + 1);
    if ((ctl & ITEM_MAP) === 0 || ctl < 0) return IpcError.SEMAPFAILED;
    if (br >= ru.layout.brCount) return IpcError.SEMSGCUT;
    const win = ru.br(br++);
    if (win === 0) return IpcError.SEMSGCUT;
    const type = fpageType(fp);
    if (type !== FpageType.OBJECT) return IpcError.SEMAPFAILED;
    if (fpageType(win) !== FpageType.OBJECT) return IpcError.SEMSGCUT;
    const sBase = fpageBase(fp);
    const sOrder = fpageOrder(fp);
    const wBase = fpageBase(win);
    const wOrder = fpageOrder(win);
    if (!validObjectRange(sBase, sOrder) || !validObjectRange(wBase, wOrder)) return IpcError.SEMAPFAILED;
    const p = placeFlexpage(sBase, sOrder, Math.floor(ctl / 4096), wBase, wOrder);
    const rights = fpageRights(fp);
    const ok = mapObjectRange(
      srcTask.caps,
      p.src,
      dstTask.caps,
      p.dst,
      p.count,
      rights,
      (ctl & ITEM_GRANT) !== 0,
    );
    if (!ok) return IpcError.SEMAPFAILED;
    ru.setWord(first + 2 * i, ctl);
    ru.setWord(first + 2 * i + 1, objFpage(p.dst, Math.min(sOrder, wOrder), rights));
  }
  return 0;
}
