/**
 * The Thread protocol (label −12): control, ex_regs, switch, stats.
 * Rights: control, ex_regs and switch need W; stats needs R.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { FpageType, fpageBase, fpageType } from '../abi/fpage';
import { ExRegs, THREAD_OPCODE_MASK, ThreadControl, ThreadControlMr, ThreadOp } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import { cancelIpc } from '../ipc/ipc';
import { ITEM_MAP } from '../ipc/typed-items';
import type { Kernel } from '../kernel';
import type { Cpu } from '../sched/cpu';
import { hasRights, inRange, isCapIndex, replyError, replyOk } from './decode';
import { ObjectKind } from './kobject';
import type { Task } from './task';
import { type Thread, ThreadState } from './thread';

const CONTROL_FLAGS = ThreadControl.SET_PAGER | ThreadControl.SET_EXC_HANDLER | ThreadControl.BIND_TASK;
const EX_REGS_FLAGS = ExRegs.CANCEL | ExRegs.TRIGGER_EXCEPTION;
/** An ex_regs IP or SP of ~0 leaves the register unchanged, as in Fiasco. */
export const EX_REGS_KEEP = -1;

/**
 * Invokes a Thread capability with the thread protocol; returns the reply tag. MR0
 * holds the operation in its low 16 bits and the operation's flags above them.
 */
export function invokeThread(k: Kernel, cpu: Cpu, caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const target = cap.payload as Thread;
  const mr0 = caller.utcb.mr(0);
  if (!inRange(mr0, 0, 0xffffffff)) return replyError(Errno.EINVAL);
  const flags = mr0 - (mr0 & THREAD_OPCODE_MASK);
  switch (mr0 & THREAD_OPCODE_MASK) {
    case ThreadOp.CONTROL:
      return control(k, caller, cap, target, flags, words);
    case ThreadOp.EX_REGS:
      return exRegs(k, caller, cap, target, flags, words);
    case ThreadOp.SWITCH:
      if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
      switchTo(k, cpu, caller, target);
      return replyOk();
    case ThreadOp.STATS:
      if (!hasRights(cap, CapRights.R)) return replyError(Errno.EPERM);
      // Fiasco reports consumed time in µs; the exact cycle count follows in MR1.
      caller.utcb.setMr(0, Math.floor(target.cyclesUsed / k.cyclesPerUs));
      caller.utcb.setMr(1, target.cyclesUsed);
      return replyOk(2);
    default:
      return replyError(Errno.ENOSYS);
  }
}

interface ControlArgs {
  pager: number;
  excHandler: number;
  task: Task | null;
}

function decodeControl(
  caller: Thread,
  cap: Cap,
  target: Thread,
  flags: number,
  words: number,
): ControlArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if ((flags & ~CONTROL_FLAGS) !== 0) return -Errno.EINVAL;
  const u = caller.utcb;
  const args: ControlArgs = { pager: target.pagerCap, excHandler: target.excHandlerCap, task: null };
  if (flags & ThreadControl.SET_PAGER) {
    if (words <= ThreadControlMr.PAGER) return -Errno.EMSGTOOSHORT;
    args.pager = u.mr(ThreadControlMr.PAGER);
    if (args.pager !== 0 && !isCapIndex(args.pager)) return -Errno.EINVAL;
  }
  if (flags & ThreadControl.SET_EXC_HANDLER) {
    if (words <= ThreadControlMr.EXC_HANDLER) return -Errno.EMSGTOOSHORT;
    args.excHandler = u.mr(ThreadControlMr.EXC_HANDLER);
    if (args.excHandler !== 0 && !isCapIndex(args.excHandler)) return -Errno.EINVAL;
  }
  if (flags & ThreadControl.BIND_TASK) {
    // The task comes as a map item (control word, object flexpage), as in Fiasco.
    if (words < ThreadControlMr.BIND_TASK + 2) return -Errno.EMSGTOOSHORT;
    const ctl = u.mr(ThreadControlMr.BIND_TASK);
    const fp = u.mr(ThreadControlMr.BIND_TASK + 1);
    if (!inRange(ctl, 0, Number.MAX_SAFE_INTEGER) || (ctl & ITEM_MAP) === 0) return -Errno.EINVAL;
    if (!inRange(fp, 1, Number.MAX_SAFE_INTEGER) || fpageType(fp) !== FpageType.OBJECT) return -Errno.EINVAL;
    const taskCap = caller.task?.caps.lookup(fpageBase(fp));
    if (!taskCap || taskCap.payload.kind !== ObjectKind.TASK) return -Errno.EINVAL;
    if (!hasRights(taskCap, CapRights.W)) return -Errno.EPERM;
    // A thread that is executing cannot move to another address space underneath itself.
    if (target.state !== ThreadState.INACTIVE && target.state !== ThreadState.DEAD) return -Errno.EBUSY;
    args.task = taskCap.payload as Task;
  }
  return args;
}

function control(k: Kernel, caller: Thread, cap: Cap, target: Thread, flags: number, words: number): number {
  const a = decodeControl(caller, cap, target, flags, words);
  if (typeof a === 'number') return replyError(-a);
  // Binding may need a UTCB page the task cannot pay for: do it before anything else.
  if (a.task && !k.bindThread(target, a.task, 0)) return replyError(Errno.ENOMEM);
  target.pagerCap = a.pager;
  target.excHandlerCap = a.excHandler;
  return replyOk();
}

interface ExRegsArgs {
  flags: number;
  ip: number;
  sp: number;
}

function decodeExRegs(
  caller: Thread,
  cap: Cap,
  target: Thread,
  flags: number,
  words: number,
): ExRegsArgs | number {
  if (!hasRights(cap, CapRights.W)) return -Errno.EPERM;
  if (words < 3) return -Errno.EMSGTOOSHORT;
  const u = caller.utcb;
  const ip = u.mr(1);
  const sp = u.mr(2);
  if ((flags & ~EX_REGS_FLAGS) !== 0) return -Errno.EINVAL;
  if (ip !== EX_REGS_KEEP && !inRange(ip, 0, Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
  if (sp !== EX_REGS_KEEP && !Number.isSafeInteger(sp)) return -Errno.EINVAL;
  // Setting an IP only means something for a thread that has an address space. A
  // thread that had stopped before its task was deleted is still bound to the dead
  // task; started, it would run there and receive capabilities nobody can reach.
  if (ip !== EX_REGS_KEEP && (target.task === null || !target.task.alive)) return -Errno.EINVAL;
  return { flags, ip, sp };
}

function exRegs(k: Kernel, caller: Thread, cap: Cap, target: Thread, flags: number, words: number): number {
  const a = decodeExRegs(caller, cap, target, flags, words);
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
