/**
 * The Scheduler protocol (label −14): info, run_thread, idle time.
 * Rights: info and idle time need R; run_thread needs W on the scheduler and W on
 * the thread.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { SchedOp } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import type { Kernel } from '../kernel';
import { PRIORITY_LEVELS } from '../sched/run-queue';
import { capArg, hasRights, inRange, replyError, replyOk } from './decode';
import { ObjectKind } from './kobject';
import type { Scheduler } from './scheduler';
import type { Thread } from './thread';

/** Invokes a Scheduler capability; returns the reply tag. */
export function invokeScheduler(k: Kernel, caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const sched = cap.payload as Scheduler;
  const u = caller.utcb;
  switch (u.mr(0)) {
    case SchedOp.INFO:
      if (!hasRights(cap, CapRights.R)) return replyError(Errno.EPERM);
      u.setMr(0, sched.cpuMask);
      u.setMr(1, k.cpus.length);
      u.setMr(2, sched.maxPrio);
      return replyOk(3);
    case SchedOp.RUN_THREAD: {
      const a = decodeRunThread(k, caller, cap, sched, words);
      if (typeof a === 'number') return replyError(-a);
      k.setSchedParams(a.thread, a.prio, a.cpu, a.quantum);
      return replyOk();
    }
    case SchedOp.IDLE_TIME: {
      if (!hasRights(cap, CapRights.R)) return replyError(Errno.EPERM);
      if (words < 2) return replyError(Errno.EMSGTOOSHORT);
      const c = u.mr(1);
      if (!inRange(c, 0, k.cpus.length - 1)) return replyError(Errno.EINVAL);
      u.setMr(0, k.cpus[c]!.idleCycles);
      return replyOk(1);
    }
    default:
      return replyError(Errno.ENOSYS);
  }
}

interface RunThreadArgs {
  thread: Thread;
  prio: number;
  cpu: number;
  quantum: number;
}

function decodeRunThread(
  k: Kernel,
  caller: Thread,
  cap: Cap,
  sched: Scheduler,
  words: number,
): RunThreadArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 4) return -Errno.EMSGTOOSHORT;
  const u = caller.utcb;
  const tc = capArg(caller, 1);
  if (typeof tc === 'number') return tc;
  if (tc.payload.kind !== ObjectKind.THREAD) return -Errno.EINVAL;
  if (!hasRights(tc, CapRights.W)) return -Errno.EPERM;
  const thread = tc.payload as Thread;
  const prio = u.mr(2);
  const cpu = u.mr(3);
  const quantum = words > 4 ? u.mr(4) : 0;
  if (!inRange(prio, 0, PRIORITY_LEVELS - 1)) return -Errno.EINVAL;
  if (!inRange(cpu, 0, k.cpus.length - 1)) return -Errno.EINVAL;
  if (!inRange(quantum, 0, Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
  if (prio > sched.maxPrio) return -Errno.EPERM;
  if (((sched.cpuMask >>> cpu) & 1) === 0) return -Errno.EPERM;
  return { thread, prio, cpu, quantum };
}
