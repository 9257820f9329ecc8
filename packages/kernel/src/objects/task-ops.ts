/**
 * The Task protocol (label −11): map, unmap, capability info, delete.
 * Rights: map, unmap and delete need W on the task; delete also needs D on the
 * capability of the object to delete; cap info needs R.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { FpageType, fpageBase, fpageOrder, fpageRights, fpageType } from '../abi/fpage';
import { msgtag } from '../abi/msgtag';
import { CapInfo, TaskOp, UnmapFlags } from '../abi/protocols';
import { CAP_SPACE_ORDER, CAP_SPACE_SLOTS, type Cap } from '../cap/cap-space';
import { removeSubtree, revoke } from '../cap/mapdb';
import { ITEM_GRANT, mapObjectRange } from '../ipc/typed-items';
import type { Kernel } from '../kernel';
import { capArg, hasRights, isCapIndex, replyError, replyOk } from './decode';
import { ObjectKind } from './kobject';
import type { Task } from './task';
import type { Thread } from './thread';

/** Invokes a Task capability with the task protocol; returns the reply tag. */
export function invokeTask(k: Kernel, caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const task = cap.payload as Task;
  switch (caller.utcb.mr(0)) {
    case TaskOp.MAP:
      return map(caller, cap, task, words);
    case TaskOp.UNMAP:
      return unmap(k, caller, cap, task, words);
    case TaskOp.CAP_INFO:
      return capInfo(caller, cap, task, words);
    case TaskOp.DELETE:
      return deleteObject(k, caller, cap, task, words);
    default:
      return replyError(Errno.ENOSYS);
  }
}

/** An object flexpage's slot range, or null when it is not one inside a capability table. */
function objectRange(fp: number): { base: number; order: number } | null {
  if (!Number.isSafeInteger(fp) || fp < 0 || fpageType(fp) !== FpageType.OBJECT) return null;
  const base = fpageBase(fp);
  const order = fpageOrder(fp);
  if (order > CAP_SPACE_ORDER || base % 2 ** order !== 0 || base + 2 ** order > CAP_SPACE_SLOTS) return null;
  return { base, order };
}

interface MapArgs {
  src: Task;
  srcBase: number;
  dstBase: number;
  count: number;
  rights: number;
  grant: boolean;
}

function decodeMap(caller: Thread, cap: Cap, dst: Task, words: number): MapArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 4) return -Errno.EMSGTOOSHORT;
  const srcCap = capArg(caller, 1);
  if (typeof srcCap === 'number') return srcCap;
  if (srcCap.payload.kind !== ObjectKind.TASK) return -Errno.EINVAL;
  if (!hasRights(srcCap, CapRights.R)) return -Errno.EPERM;
  const fp = caller.utcb.mr(2);
  const range = objectRange(fp);
  if (!range) return -Errno.EINVAL;
  const ctl = caller.utcb.mr(3);
  if (!Number.isSafeInteger(ctl) || ctl < 0) return -Errno.EINVAL;
  const dstBase = Math.floor(ctl / 4096);
  const count = 2 ** range.order;
  if (dstBase + count > CAP_SPACE_SLOTS || dstBase % count !== 0) return -Errno.EINVAL;
  const src = srcCap.payload as Task;
  const rights = fpageRights(fp);
  const grant = (ctl & ITEM_GRANT) !== 0;
  // Check every destination first, so that performing the map cannot fail halfway.
  for (let i = 0; i < count; i++) {
    const node = src.caps.lookup(range.base + i);
    if (!node || (node.rights & rights) === 0) continue;
    if (dstBase + i === 0) return -Errno.EINVAL;
    // Only a grant of a capability onto its own slot is a no-op; anything else there fails.
    const there = dst.caps.lookup(dstBase + i);
    if (there && !(grant && there === node)) return -Errno.EEXIST;
  }
  return { src, srcBase: range.base, dstBase, count, rights, grant };
}

function map(caller: Thread, cap: Cap, dst: Task, words: number): number {
  const a = decodeMap(caller, cap, dst, words);
  if (typeof a === 'number') return replyError(-a);
  mapObjectRange(a.src.caps, a.srcBase, dst.caps, a.dstBase, a.count, a.rights, a.grant);
  return replyOk();
}

function unmap(k: Kernel, caller: Thread, cap: Cap, task: Task, words: number): number {
  if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
  if (words < 3) return replyError(Errno.EMSGTOOSHORT);
  const u = caller.utcb;
  const flags = u.mr(1);
  if (flags !== UnmapFlags.OTHER_SPACES && flags !== UnmapFlags.ALL_SPACES) return replyError(Errno.EINVAL);
  for (let i = 2; i < words; i++) if (!objectRange(u.mr(i))) return replyError(Errno.EINVAL);
  // Perform: every fpage is valid, nothing below can fail.
  const self = flags === UnmapFlags.ALL_SPACES;
  for (let i = 2; i < words; i++) {
    const fp = u.mr(i);
    const r = objectRange(fp)!;
    const rights = fpageRights(fp);
    for (let s = r.base; s < r.base + 2 ** r.order; s++) {
      const node = task.caps.lookup(s);
      if (node) revoke(node, rights, self);
    }
    // Status word per flexpage (accessed/dirty bits for memory; none for objects).
    u.setMr(i - 2, 0);
  }
  k.reap();
  return replyOk(words - 2);
}

function capInfo(caller: Thread, cap: Cap, task: Task, words: number): number {
  if (!hasRights(cap, CapRights.R)) return replyError(Errno.EPERM);
  if (words < 3) return replyError(Errno.EMSGTOOSHORT);
  const u = caller.utcb;
  const a = u.mr(2);
  // Capability index 0 is the invalid capability: a valid question with answer "no".
  if (a !== 0 && !isCapIndex(a)) return replyError(Errno.EINVAL);
  const ca = a === 0 ? undefined : task.caps.lookup(a / 4096);
  switch (u.mr(1)) {
    case CapInfo.VALID:
      return msgtag(ca ? 1 : 0, 0);
    case CapInfo.EQUAL: {
      if (words < 4) return replyError(Errno.EMSGTOOSHORT);
      const b = u.mr(3);
      if (b !== 0 && !isCapIndex(b)) return replyError(Errno.EINVAL);
      const cb = b === 0 ? undefined : task.caps.lookup(b / 4096);
      return msgtag(ca && cb && ca.payload === cb.payload ? 1 : 0, 0);
    }
    case CapInfo.RIGHTS:
      if (!ca) return replyError(Errno.ENOENT);
      u.setMr(0, ca.rights);
      return replyOk(1);
    default:
      return replyError(Errno.ENOSYS);
  }
}

function deleteObject(k: Kernel, caller: Thread, cap: Cap, task: Task, words: number): number {
  if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
  if (words < 2) return replyError(Errno.EMSGTOOSHORT);
  const idx = caller.utcb.mr(1);
  if (!isCapIndex(idx)) return replyError(Errno.EINVAL);
  const victim = task.caps.lookup(idx / 4096);
  if (!victim) return replyError(Errno.ENOENT);
  if (!hasRights(victim, CapRights.D)) return replyError(Errno.EPERM);
  let root = victim;
  while (root.parent) root = root.parent;
  removeSubtree(root);
  k.reap();
  return replyOk();
}
