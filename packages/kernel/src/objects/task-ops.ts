/**
 * The Task protocol (label −11): map, unmap, capability info, delete. Map and unmap
 * take object, memory and I/O flexpages.
 * Rights: map, unmap and delete need W on the task; delete also needs D on the
 * capability of the object to delete; cap info needs R.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { FpageType, fpageBase, fpageOrder, fpageRights, fpageType, MemRights } from '../abi/fpage';
import { msgtag } from '../abi/msgtag';
import { CapInfo, TaskOp, UnmapFlags } from '../abi/protocols';
import { CAP_SPACE_ORDER, CAP_SPACE_SLOTS, type Cap } from '../cap/cap-space';
import { removeSubtree, revoke } from '../cap/mapdb';
import { ITEM_GRANT, mapObjectRange, validPortRange } from '../ipc/typed-items';
import type { Kernel } from '../kernel';
import { IO_RIGHTS, type IoSpace } from '../mem/io-space';
import { grantMemory, mapMemory, unmapMemory } from '../mem/map';
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

/** A validated Task.map: which space, which range, where to. */
type MapArgs =
  | {
      kind: 'object';
      src: Task;
      srcBase: number;
      dstBase: number;
      count: number;
      rights: number;
      grant: boolean;
    }
  | {
      kind: 'memory';
      src: Task;
      srcBase: number;
      order: number;
      dstBase: number;
      rights: number;
      grant: boolean;
    }
  | { kind: 'io'; src: Task; base: number; order: number; grant: boolean };

/** A memory flexpage's range, or null when it is not an aligned range of whole pages. */
function memoryRange(fp: number): { base: number; order: number } | null {
  if (!Number.isSafeInteger(fp) || fp < 0 || fpageType(fp) !== FpageType.MEMORY) return null;
  const base = fpageBase(fp);
  const order = fpageOrder(fp);
  if (order < 12 || base % 2 ** order !== 0) return null;
  return { base, order };
}

/** An I/O flexpage's range, or null when it is not one inside the machine's ports. */
function portRange(fp: number, io: IoSpace | null): { base: number; order: number } | null {
  if (!io || !Number.isSafeInteger(fp) || fp < 0 || fpageType(fp) !== FpageType.IO) return null;
  const base = fpageBase(fp);
  const order = fpageOrder(fp);
  return validPortRange(base, order, io.portCount) ? { base, order } : null;
}

function decodeMap(caller: Thread, cap: Cap, dst: Task, words: number): MapArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 4) return -Errno.EMSGTOOSHORT;
  const srcCap = capArg(caller, 1);
  if (typeof srcCap === 'number') return srcCap;
  if (srcCap.payload.kind !== ObjectKind.TASK) return -Errno.EINVAL;
  if (!hasRights(srcCap, CapRights.R)) return -Errno.EPERM;
  const src = srcCap.payload as Task;
  const fp = caller.utcb.mr(2);
  const ctl = caller.utcb.mr(3);
  if (!Number.isSafeInteger(ctl) || ctl < 0) return -Errno.EINVAL;
  const grant = (ctl & ITEM_GRANT) !== 0;
  if (Number.isSafeInteger(fp) && fp >= 0 && fpageType(fp) === FpageType.MEMORY) {
    const range = memoryRange(fp);
    if (!range || !src.space || !dst.space) return -Errno.EINVAL;
    const dstBase = Math.floor(ctl / 4096) * 4096;
    const size = 2 ** range.order;
    if (dstBase % size !== 0 || !dst.space.mappable(dstBase, size)) return -Errno.EINVAL;
    const rights = fpageRights(fp) & MemRights.RWX;
    return { kind: 'memory', src, srcBase: range.base, order: range.order, dstBase, rights, grant };
  }
  if (Number.isSafeInteger(fp) && fp >= 0 && fpageType(fp) === FpageType.IO) {
    // Ports land at their own numbers: the send base of the control word plays no part.
    const range = portRange(fp, src.io);
    if (!range || !dst.io) return -Errno.EINVAL;
    return { kind: 'io', src, base: range.base, order: range.order, grant };
  }
  const range = objectRange(fp);
  if (!range) return -Errno.EINVAL;
  const dstBase = Math.floor(ctl / 4096);
  const count = 2 ** range.order;
  if (dstBase + count > CAP_SPACE_SLOTS || dstBase % count !== 0) return -Errno.EINVAL;
  const rights = fpageRights(fp);
  // Check every destination first, so that performing the map cannot fail halfway.
  for (let i = 0; i < count; i++) {
    const node = src.caps.lookup(range.base + i);
    if (!node || (node.rights & rights) === 0) continue;
    if (dstBase + i === 0) return -Errno.EINVAL;
    // Only a grant of a capability onto its own slot is a no-op; anything else there fails.
    const there = dst.caps.lookup(dstBase + i);
    if (there && !(grant && there === node)) return -Errno.EEXIST;
  }
  return { kind: 'object', src, srcBase: range.base, dstBase, count, rights, grant };
}

/**
 * Task.map. Object and I/O maps cannot fail once decoded. A memory map can still run
 * out of page-table frames part-way (ENOMEM, what was mapped stays, as in Fiasco):
 * counting the frames up front would cost a second walk of every page.
 */
function map(caller: Thread, cap: Cap, dst: Task, words: number): number {
  const a = decodeMap(caller, cap, dst, words);
  if (typeof a === 'number') return replyError(-a);
  switch (a.kind) {
    case 'object':
      mapObjectRange(a.src.caps, a.srcBase, dst.caps, a.dstBase, a.count, a.rights, a.grant);
      return replyOk();
    case 'io':
      dst.io!.mapFrom(a.src.io!, a.base, 2 ** a.order, a.grant);
      return replyOk();
    case 'memory': {
      const err = a.grant
        ? grantMemory(a.src.space!, a.srcBase, a.order, dst.space!, a.dstBase, a.rights)
        : mapMemory(a.src.space!, a.srcBase, a.order, dst.space!, a.dstBase, a.rights);
      return err === 0 ? replyOk() : replyError(err);
    }
  }
}

/**
 * Task.unmap: MR1 the flags, MR2… the flexpages (object, memory or I/O). The reply
 * gives back each flexpage with its rights bits replaced by the status of what was
 * removed: for memory, referenced (4) and written (2), as X.2's unmap reports them.
 */
function unmap(k: Kernel, caller: Thread, cap: Cap, task: Task, words: number): number {
  if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
  if (words < 3) return replyError(Errno.EMSGTOOSHORT);
  const u = caller.utcb;
  const flags = u.mr(1);
  if (flags !== UnmapFlags.OTHER_SPACES && flags !== UnmapFlags.ALL_SPACES) return replyError(Errno.EINVAL);
  for (let i = 2; i < words; i++) {
    const fp = u.mr(i);
    const ok =
      objectRange(fp) !== null ||
      (memoryRange(fp) !== null && task.space !== null) ||
      portRange(fp, task.io) !== null;
    if (!ok) return replyError(Errno.EINVAL);
  }
  // Perform: every fpage is valid, nothing below can fail.
  const self = flags === UnmapFlags.ALL_SPACES;
  for (let i = 2; i < words; i++) {
    const fp = u.mr(i);
    const rights = fpageRights(fp);
    let status = 0;
    switch (fpageType(fp)) {
      case FpageType.OBJECT: {
        const r = objectRange(fp)!;
        for (let s = r.base; s < r.base + 2 ** r.order; s++) {
          const node = task.caps.lookup(s);
          if (node) revoke(node, rights, self);
        }
        break;
      }
      case FpageType.MEMORY: {
        const r = memoryRange(fp)!;
        status = unmapMemory(task.space!, r.base, 2 ** r.order, rights & MemRights.RWX, self);
        break;
      }
      default: {
        const r = portRange(fp, task.io)!;
        const io = task.io!;
        for (let p = r.base; p < r.base + 2 ** r.order; p++) {
          const node = io.lookup(p);
          if (node) revoke(node, IO_RIGHTS, self);
        }
      }
    }
    u.setMr(i - 2, fp - rights + status);
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
