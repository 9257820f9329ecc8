/**
 * The Factory protocol (label −15): create an object of the protocol in MR0, paid by
 * this factory's quota. The new capability (all rights) lands in the slot named by
 * the caller's BR0, an object flexpage, as in Fiasco.OC. Needs W on the factory.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { FpageType, fpageBase, fpageType } from '../abi/fpage';
import { FactoryCreate } from '../abi/protocols';
import { type Cap, CapSpace } from '../cap/cap-space';
import { createRoot } from '../cap/mapdb';
import type { Kernel } from '../kernel';
import { PRIORITY_LEVELS } from '../sched/run-queue';
import { capArg, hasRights, inRange, replyError, replyOk } from './decode';
import type { Factory } from './factory';
import type { KObject } from './kobject';
import { ObjectKind } from './kobject';
import type { Scheduler } from './scheduler';
import type { Thread } from './thread';

type Creation = () => KObject | null;

/** Invokes a Factory capability; returns the reply tag. */
export function invokeFactory(k: Kernel, caller: Thread, cap: Cap, words: number): number {
  const decoded = decodeCreate(k, caller, cap, words);
  if (typeof decoded === 'number') return replyError(-decoded);
  const obj = decoded.create();
  if (!obj) return replyError(Errno.ENOMEM);
  const node = createRoot(caller.task!.caps, decoded.slot, CapRights.ALL, obj);
  caller.task!.caps.install(node);
  return replyOk();
}

function decodeCreate(
  k: Kernel,
  caller: Thread,
  cap: Cap,
  words: number,
): { slot: number; create: Creation } | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 1) return -Errno.EMSGTOOSHORT;
  const f = cap.payload as Factory;
  const u = caller.utcb;
  const br0 = u.br(0);
  if (!Number.isSafeInteger(br0) || br0 <= 0 || fpageType(br0) !== FpageType.OBJECT) return -Errno.EINVAL;
  const slot = fpageBase(br0);
  if (!CapSpace.validSlot(slot)) return -Errno.EINVAL;
  if (caller.task!.caps.lookup(slot)) return -Errno.EEXIST;
  const name = `${caller.task!.name}.obj${slot}`;
  switch (u.mr(0)) {
    case FactoryCreate.GATE: {
      if (words < 3) return -Errno.EMSGTOOSHORT;
      let thread: Thread | null = null;
      if (u.mr(1) !== 0) {
        const tc = capArg(caller, 1);
        if (typeof tc === 'number') return tc;
        if (tc.payload.kind !== ObjectKind.THREAD) return -Errno.EINVAL;
        if (!hasRights(tc, CapRights.W)) return -Errno.EPERM;
        thread = tc.payload as Thread;
      }
      const label = u.mr(2);
      if (!inRange(label, 0, Number.MAX_SAFE_INTEGER) || (label & 3) !== 0) return -Errno.EINVAL;
      return { slot, create: () => k.newGate(f, name, thread, label) };
    }
    case FactoryCreate.IRQ:
      return { slot, create: () => k.newIrq(f, name) };
    case FactoryCreate.TASK:
      return { slot, create: () => k.newTask(f, name) };
    case FactoryCreate.THREAD:
      return { slot, create: () => k.newThread(f, name) };
    case FactoryCreate.LOG:
      return { slot, create: () => k.newLog(f, name) };
    case FactoryCreate.SCHEDULER: {
      if (words < 4) return -Errno.EMSGTOOSHORT;
      const pc = capArg(caller, 1);
      if (typeof pc === 'number') return pc;
      if (pc.payload.kind !== ObjectKind.SCHEDULER) return -Errno.EINVAL;
      if (!hasRights(pc, CapRights.S)) return -Errno.EPERM;
      const parent = pc.payload as Scheduler;
      const maxPrio = u.mr(2);
      const mask = u.mr(3);
      if (!inRange(maxPrio, 0, PRIORITY_LEVELS - 1) || !inRange(mask, 0, 0xffffffff)) return -Errno.EINVAL;
      // A derived scheduler can only narrow its parent's authority.
      if (maxPrio > parent.maxPrio || (mask & ~parent.cpuMask) !== 0) return -Errno.EPERM;
      return { slot, create: () => k.newScheduler(f, name, maxPrio, mask) };
    }
    case FactoryCreate.FACTORY: {
      if (words < 2) return -Errno.EMSGTOOSHORT;
      const limit = u.mr(1);
      if (!inRange(limit, 0, Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
      return { slot, create: () => k.newFactory(f, name, limit) };
    }
    default:
      return -Errno.ENOSYS;
  }
}
