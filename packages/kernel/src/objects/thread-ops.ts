/**
 * The Thread protocol (label −12): control, ex_regs, switch, stats.
 * Rights: control, ex_regs and switch need W; stats needs R.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { ExRegs, ThreadControl, ThreadOp } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import { cancelIpc } from '../ipc/ipc';
import type { Kernel } from '../kernel';
import type { Cpu } from '../sched/cpu';
import { capArg, hasRights, inRange, isCapIndex, replyError, replyOk } from './decode';
import { ObjectKind } from './kobject';
import type { Task } from './task';
import { type Thread, ThreadState } from './thread';

/** MR indices of a thread-control message, as Fiasco's `L4_THREAD_CONTROL_MR_IDX_*`. */
const CtlMr = { FLAGS: 1, PAGER: 2, EXC_HANDLER: 3, BIND_UTCB: 5, BIND_TASK: 6 } as const;
const CONTROL_FLAGS = ThreadControl.SET_PAGER | ThreadControl.SET_EXC_HANDLER | ThreadControl.BIND_TASK;
const EX_REGS_FLAGS = ExRegs.CANCEL | ExRegs.TRIGGER_EXCEPTION;
/** An ex_regs IP or SP of ~0 leaves the register unchanged, as in Fiasco. */
export const EX_REGS_KEEP = -1;

/** Invokes a Thread capability with the thread protocol; returns the reply tag. */
export function invokeThread(k: Kernel, cpu: Cpu, caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const target = cap.payload as Thread;
  switch (caller.utcb.mr(0)) {
    case ThreadOp.CONTROL:
      return control(k, caller, cap, target, words);
    case ThreadOp.EX_REGS:
      return exRegs(k, caller, cap, target, words);
    case ThreadOp.SWITCH:
      if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
      switchTo(k, cpu, caller, target);
      return replyOk();
    case ThreadOp.STATS:
      if (!hasRights(cap, CapRights.R)) return replyError(Errno.EPERM);
      caller.utcb.setMr(0, target.cyclesUsed);
      return replyOk(1);
    default:
      return replyError(Errno.ENOSYS);
  }
}

interface ControlArgs {
  flags: number;
  pager: number;
  excHandler: number;
  task: Task | null;
}

function decodeControl(caller: Thread, cap: Cap, target: Thread, words: number): ControlArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 2) return -Errno.EMSGTOOSHORT;
  const u = caller.utcb;
  const flags = u.mr(CtlMr.FLAGS);
  if (!Number.isSafeInteger(flags) || flags < 0 || (flags & ~CONTROL_FLAGS) !== 0) return -Errno.EINVAL;
  const args: ControlArgs = { flags, pager: target.pagerCap, excHandler: target.excHandlerCap, task: null };
  if (flags & ThreadControl.SET_PAGER) {
    if (words <= CtlMr.PAGER) return -Errno.EMSGTOOSHORT;
    args.pager = u.mr(CtlMr.PAGER);
    if (args.pager !== 0 && !isCapIndex(args.pager)) return -Errno.EINVAL;
  }
  if (flags & ThreadControl.SET_EXC_HANDLER) {
    if (words <= CtlMr.EXC_HANDLER) return -Errno.EMSGTOOSHORT;
    args.excHandler = u.mr(CtlMr.EXC_HANDLER);
    if (args.excHandler !== 0 && !isCapIndex(args.excHandler)) return -Errno.EINVAL;
  }
  if (flags & ThreadControl.BIND_TASK) {
    if (words <= CtlMr.BIND_TASK) return -Errno.EMSGTOOSHORT;
    const taskCap = capArg(caller, CtlMr.BIND_TASK);
    if (typeof taskCap === 'number') return taskCap;
    if (taskCap.payload.kind !== ObjectKind.TASK) return -Errno.EINVAL;
    if (!hasRights(taskCap, CapRights.W)) return -Errno.EPERM;
    // A thread that is executing cannot move to another address space underneath itself.
    if (target.state !== ThreadState.INACTIVE && target.state !== ThreadState.DEAD) return -Errno.EBUSY;
    args.task = taskCap.payload as Task;
  }
  return args;
}

function control(k: Kernel, caller: Thread, cap: Cap, target: Thread, words: number): number {
  const a = decodeControl(caller, cap, target, words);
  if (typeof a === 'number') return replyError(-a);
  target.pagerCap = a.pager;
  target.excHandlerCap = a.excHandler;
  if (a.task) k.bindThread(target, a.task, 0);
  return replyOk();
}

interface ExRegsArgs {
  flags: number;
  ip: number;
  sp: number;
}

function decodeExRegs(caller: Thread, cap: Cap, target: Thread, words: number): ExRegsArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 4) return -Errno.EMSGTOOSHORT;
  const u = caller.utcb;
  const flags = u.mr(1);
  const ip = u.mr(2);
  const sp = u.mr(3);
  if (!Number.isSafeInteger(flags) || flags < 0 || (flags & ~EX_REGS_FLAGS) !== 0) return -Errno.EINVAL;
  if (ip !== EX_REGS_KEEP && !inRange(ip, 0, Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
  if (sp !== EX_REGS_KEEP && !Number.isSafeInteger(sp)) return -Errno.EINVAL;
  // Setting an IP only means something for a thread that has an address space. A
  // thread that had stopped before its task was deleted is still bound to the dead
  // task; started, it would run there and receive capabilities nobody can reach.
  if (ip !== EX_REGS_KEEP && (target.task === null || !target.task.alive)) return -Errno.EINVAL;
  if (target.state === ThreadState.DEAD && target.deathReason === 'deleted') return -Errno.EINVAL;
  return { flags, ip, sp };
}

function exRegs(k: Kernel, caller: Thread, cap: Cap, target: Thread, words: number): number {
  const a = decodeExRegs(caller, cap, target, words);
  if (typeof a === 'number') return replyError(-a);
  const u = caller.utcb;
  u.setMr(0, target.flags);
  u.setMr(1, target.ip);
  u.setMr(2, target.sp);
  if (a.sp !== EX_REGS_KEEP) target.sp = a.sp;
  if (a.flags & ExRegs.CANCEL) cancelIpc(k, target);
  const stopped = target.state === ThreadState.INACTIVE || target.state === ThreadState.DEAD;
  if (a.ip !== EX_REGS_KEEP) {
    target.ip = a.ip;
    if (stopped) k.startThread(target, k.now());
    else target.restartPending = true;
  }
  if (a.flags & ExRegs.TRIGGER_EXCEPTION && !stopped) {
    target.triggerPending = true;
    cancelIpc(k, target);
  }
  return replyOk(3);
}

/** Thread.switch: hand the rest of the caller's time to `target` if it is ready here. */
function switchTo(k: Kernel, cpu: Cpu, caller: Thread, target: Thread): void {
  if (target !== caller && target.queued && target.cpu === cpu.index && cpu.current === caller) {
    cpu.runQueue.remove(target);
    cpu.runQueue.enqueueFront(target);
  }
  k.yieldCpu(cpu, caller);
}
