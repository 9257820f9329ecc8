/**
 * The one kernel entry: invoke a capability (brief §3). This decodes the invoke
 * flags and the capability, and routes to IPC (gates, threads) or to a kernel
 * object's protocol. Read it top to bottom to trace any system call.
 */
import { CapRights, Invoke } from '../abi/caps';
import { Errno, IpcError } from '../abi/errors';
import { MSGTAG_LABEL_LIMIT, msgtag, tagLabel } from '../abi/msgtag';
import { Proto } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import type { Kernel } from '../kernel';
import { invokeDebugger } from '../objects/debugger-ops';
import { replyError } from '../objects/decode';
import { invokeFactory } from '../objects/factory-ops';
import { invokeGate } from '../objects/gate-ops';
import { invokeIcu } from '../objects/icu-ops';
import { IpcGate } from '../objects/ipc-gate';
import type { Irq } from '../objects/irq';
import { invokeIrq } from '../objects/irq-ops';
import { ObjectKind } from '../objects/kobject';
import { invokeLog } from '../objects/log-ops';
import { invokeScheduler } from '../objects/scheduler-ops';
import { invokeTask } from '../objects/task-ops';
import { Thread, ThreadState } from '../objects/thread';
import { invokeThread } from '../objects/thread-ops';
import type { Cpu } from '../sched/cpu';
import { fastCall, fastReplyWait } from './fastpath';
import { deliverResult, failIpc, receivePhase, replyAndReceive, sendMessage } from './ipc';

/** Largest capability register value that can name a slot (slot < 2^16). */
const CAP_REGISTER_LIMIT = 2 ** 28;
/** Tags beyond this would have a label outside ±2^36. */
const TAG_LIMIT = MSGTAG_LABEL_LIMIT * 0x10000;

/** Handles the invoke syscall of `t`, the current thread of `cpu`. */
export function invokeCapability(k: Kernel, cpu: Cpu, t: Thread): void {
  const regs = t.regs;
  const capw = regs.cap;
  const tag = regs.tag;
  const timeouts = regs.timeouts;
  // Registers are whatever user code put there: check types before trusting them.
  if (
    capw >>> 0 !== capw ||
    capw >= CAP_REGISTER_LIMIT ||
    timeouts >>> 0 !== timeouts ||
    ((tag | 0) !== tag && !(Number.isSafeInteger(tag) && tag > -TAG_LIMIT && tag < TAG_LIMIT))
  ) {
    chargeEntry(k, cpu, t);
    // Report it in the phase the thread asked for: a receive-only call never sends.
    const receiveOnly = capw >>> 0 === capw && (capw & Invoke.SEND) === 0;
    failIpc(k, t, receiveOnly ? IpcError.REINVALCAP : IpcError.EINVALCAP);
    return;
  }
  const flags = capw & 0xf;
  if (k.fastpath) {
    if (flags === Invoke.CALL) {
      if (fastCall(k, cpu, t, capw, tag, timeouts)) return;
    } else if (flags === Invoke.REPLY_AND_WAIT) {
      if (fastReplyWait(k, cpu, t, tag, timeouts)) return;
    }
  }
  chargeEntry(k, cpu, t);
  const sendTimeout = timeouts >>> 16;
  const recvTimeout = timeouts & 0xffff;
  const recv = (flags & Invoke.RECV) !== 0;
  const open = (flags & Invoke.OPEN_WAIT) !== 0;

  if ((flags & Invoke.SEND) === 0) {
    if (!recv) {
      deliverResult(k, t, 0);
      return;
    }
    receiveOnly(k, cpu, t, capw, open, recvTimeout);
    return;
  }
  if (flags & Invoke.REPLY) {
    replyAndReceive(k, cpu, t, tag, recv, recvTimeout);
    return;
  }
  const cap = t.task!.caps.lookup(capw >>> 12);
  if (cap === undefined) {
    failIpc(k, t, IpcError.EINVALCAP);
    return;
  }
  const obj = cap.payload;
  const label = (tag - (tag & 0xffff)) / 0x10000;
  // instanceof keeps this check monomorphic; `kind` differs in shape per class.
  if (
    obj instanceof IpcGate &&
    !((label === Proto.KOBJECT || label === Proto.DEBUGGER) && cap.rights & CapRights.S)
  ) {
    const gate = obj;
    const dst = gate.thread;
    if (dst === null) {
      failIpc(k, t, IpcError.ENOT_EXISTENT);
      return;
    }
    sendMessage(
      k,
      cpu,
      t,
      dst,
      gate,
      gate.label + (cap.rights & 3),
      tag,
      recv && !open,
      recv && open,
      sendTimeout,
      recvTimeout,
    );
    return;
  }
  if (obj instanceof Thread && label !== Proto.THREAD && label !== Proto.DEBUGGER) {
    sendMessage(k, cpu, t, obj, null, 0, tag, recv && !open, recv && open, sendTimeout, recvTimeout);
    return;
  }

  // A kernel object: decode and perform, reply at once. The decoders read as many
  // message words as the tag claims, so a tag that claims more than the MRs hold is
  // cut here, before anything reads past the UTCB.
  const claimed = (tag & 0x3f) + 2 * ((tag >>> 6) & 0x3f);
  if (claimed > t.utcb.layout.mrCount) {
    failIpc(k, t, IpcError.SEMSGCUT);
    return;
  }
  k.chargeCycles(cpu, t, k.cKop);
  // Kernel protocols may carry typed items (Thread.control binds a task with one).
  const rtag = invokeKernelObject(k, cpu, t, cap, label, claimed);
  k.reap();
  // The operation may have deleted the caller (its own thread or task): it has
  // nothing to return to, and it must not block or be switched away from again.
  if (t.state === ThreadState.DEAD) return;
  // With send + open wait the object's reply has nowhere to go, so a failure is
  // reported at once instead of being lost in the wait.
  if (open && recv && tagLabel(rtag) >= 0) {
    // It may also have preempted the caller or moved it to another CPU (it woke a
    // higher-priority thread, or ran the caller elsewhere): a caller that blocks is
    // taken off wherever it is scheduled now, not off this CPU.
    if (!receivePhase(k, cpu, t, null, null, recvTimeout)) {
      if (cpu.current === t) k.blockAndSwitch(cpu, null);
      else k.descheduled(t);
    }
    return;
  }
  deliverResult(k, t, rtag);
}

/** Charges the kernel entry (the fastpath folds it into one charge of its own). */
function chargeEntry(k: Kernel, cpu: Cpu, t: Thread): void {
  k.chargeCycles(cpu, t, k.cEntry);
}

/** Routes a kernel-object invocation by object kind and protocol label. */
function invokeKernelObject(k: Kernel, cpu: Cpu, t: Thread, cap: Cap, label: number, words: number): number {
  if (label === Proto.DEBUGGER) return invokeDebugger(t, cap, words);
  switch (cap.payload.kind) {
    case ObjectKind.THREAD:
      return invokeThread(k, cpu, t, cap, words);
    case ObjectKind.TASK:
      return label === Proto.TASK ? invokeTask(k, t, cap, words) : replyError(Errno.EBADPROTO);
    case ObjectKind.FACTORY:
      return label === Proto.FACTORY ? invokeFactory(k, t, cap, words) : replyError(Errno.EBADPROTO);
    case ObjectKind.SCHEDULER:
      return label === Proto.SCHEDULER ? invokeScheduler(k, t, cap, words) : replyError(Errno.EBADPROTO);
    case ObjectKind.IRQ:
      return label === Proto.IRQ || label === Proto.IRQ_SENDER
        ? invokeIrq(k, cpu, t, cap, label, words)
        : replyError(Errno.EBADPROTO);
    case ObjectKind.LOG:
      return label === Proto.LOG ? invokeLog(k, cpu, t, cap, words) : replyError(Errno.EBADPROTO);
    case ObjectKind.GATE:
      return invokeGate(k, t, cap, words);
    case ObjectKind.ICU:
      return label === Proto.IRQ ? invokeIcu(k, cpu, t, cap, words) : replyError(Errno.EBADPROTO);
    default:
      return msgtag(-Errno.ENOSYS, 0);
  }
}

/** A receive without a send phase: open wait, or a closed wait on a thread or Irq. */
function receiveOnly(k: Kernel, cpu: Cpu, t: Thread, capw: number, open: boolean, recvTimeout: number): void {
  let from: Thread | null = null;
  let fromIrq: Irq | null = null;
  if (!open) {
    const cap = t.task!.caps.lookup(capw >>> 12);
    const obj = cap?.payload;
    if (obj?.kind === ObjectKind.THREAD) from = obj as Thread;
    else if (obj?.kind === ObjectKind.IRQ) fromIrq = obj as Irq;
    else {
      failIpc(k, t, IpcError.REINVALCAP);
      return;
    }
  }
  if (!receivePhase(k, cpu, t, from, fromIrq, recvTimeout)) k.blockAndSwitch(cpu, null);
}
