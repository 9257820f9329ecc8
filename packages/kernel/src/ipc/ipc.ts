/**
 * Synchronous, rendezvous IPC (brief §4): send and receive phases, calls with the
 * implicit one-shot reply capability, timeouts, and every error path.
 *
 * Conventions:
 * - The sender in {@link sendMessage} and the replier in {@link replyAndReceive} are
 *   the current thread of `cpu`; these functions switch away from it when it blocks.
 * - {@link receivePhase} never switches: it returns false when the thread blocked,
 *   and the caller decides whom to run.
 * - A result reaches a thread through {@link deliverResult}, which also routes the
 *   reply of an exception handler.
 * - Nothing here allocates on the success path.
 */
import { IpcError } from '../abi/errors';
import { MSGTAG_FLAG_ERROR, msgtag } from '../abi/msgtag';
import { Proto } from '../abi/protocols';
import { isZeroTimeout, TIMEOUT_NEVER, timeoutMicroseconds } from '../abi/timeout';
import type { Kernel } from '../kernel';
import type { IpcGate } from '../objects/ipc-gate';
import type { Irq } from '../objects/irq';
import { ObjectKind } from '../objects/kobject';
import { type Sender, type Thread, ThreadState } from '../objects/thread';
import type { Cpu } from '../sched/cpu';
import { dbg } from '../trace/debug';
import { EventBit, type IpcKind } from '../trace/events';
import { completePageFault } from './page-fault';
import {
  addReplyWaiter,
  dequeueSender,
  enqueueSender,
  joinClosedWait,
  leaveClosedWait,
  removeReplyWaiter,
} from './sender-queue';
import { transferItems } from './typed-items';

/** The result tag of a successful send phase. */
const SEND_OK = 0;

/**
 * Hands `tag` to `t` as the result of its IPC. For a thread in an exception IPC this
 * is the handler's verdict instead. Returns whether `t` is to run again.
 */
export function deliverResult(k: Kernel, t: Thread, tag: number): boolean {
  if (t.inException) return k.completeException(t, tag);
  if (t.inPageFault) return completePageFault(k, t, tag);
  t.regs.tag = tag;
  t.resumeValue = tag;
  return true;
}

/**
 * Ends `t`'s IPC with error `code` (an {@link IpcError}, phase bit included): the
 * error TCR gets the code and the result tag the error flag. Returns whether `t` is
 * to run again (a thread whose exception IPC failed dies instead).
 */
export function failIpc(k: Kernel, t: Thread, code: number): boolean {
  t.utcb.error = code;
  if (k.events.active & EventBit['ipc-error']) {
    k.events.emit('ipc-error', { thread: t, code, time: k.cpus[t.cpu]!.time });
  }
  if (k.debug.ipc) dbg.ipc('%s: IPC error 0x%s', t.name, code.toString(16));
  return deliverResult(k, t, MSGTAG_FLAG_ERROR);
}

/**
 * Takes `t` out of every IPC structure it is blocked in (sender queue, reply-waiter
 * list, timer queue) and forgets its partner. Its state is left to the caller.
 */
export function abortIpc(k: Kernel, t: Thread): void {
  if (t.heapIndex >= 0) k.timers.cancel(t);
  if (t.state === ThreadState.SEND_WAIT) {
    if (t.qOwner) dequeueSender(t.qOwner, t);
  } else if (t.state === ThreadState.REPLY_WAIT) {
    const server = t.qOwner;
    if (server) {
      removeReplyWaiter(server, t);
      if (server.replyTo === t) server.replyTo = null;
    }
  } else if (t.state === ThreadState.RECV_WAIT) {
    leaveClosedWait(t);
  }
  t.partner = null;
  t.partnerIrq = null;
  t.viaGate = null;
}

/** Arms the timeout of a thread that has just blocked; `t16` is a 16-bit timeout. */
function armIpcTimeout(k: Kernel, cpu: Cpu, t: Thread, t16: number): void {
  if (t16 === TIMEOUT_NEVER) return;
  k.armTimeout(t, k.timerDeadline(cpu.time + Math.round(timeoutMicroseconds(t16) * k.cyclesPerUs)));
}

/** How a trace names a call: a kernel-generated one says what made it. */
function callKind(s: Thread): IpcKind {
  return s.inException ? 'exception' : s.inPageFault ? 'page-fault' : 'call';
}

function emitIpc(k: Kernel, kind: IpcKind, from: Thread | null, to: Thread, tag: number, cpu: Cpu): void {
  k.events.emit('ipc', {
    kind,
    from,
    to,
    time: cpu.time,
    cpu: cpu.index,
    tag,
    label: to.regs.label,
    seq: k.ipcCount,
  });
}

/** Set by {@link transfer}: 0, or the send-phase IPC error that stopped it. */
let transferError = 0;

/**
 * Copies a message from `s` to `r`: `tag`'s untyped words, then its typed items, and
 * delivers `label`. Returns the tag `r` receives; on failure sets `transferError`.
 */
function transfer(k: Kernel, cpu: Cpu, s: Thread, r: Thread, tag: number, label: number): number {
  const words = tag & 0x3f;
  const items = (tag >>> 6) & 0x3f;
  transferError = 0;
  // A page-fault reply only maps: the faulting thread's MRs stay its own.
  if (!r.inPageFault) r.utcb.copyWordsFrom(s.utcb, 0, words);
  let cost = k.cIpc + words * k.cWord;
  if (items !== 0) {
    cost += items * k.cItem;
    transferError = transferItems(k, s, r, words, items);
  }
  cpu.time += cost;
  s.cyclesUsed += cost;
  s.sliceLeft -= cost;
  r.regs.label = label;
  k.ipcCount++;
  return tag - (tag & 0xf000);
}

/** Both sides of a failed transfer get the error, in their own phase. */
function failTransfer(k: Kernel, s: Thread, r: Thread): { senderRuns: boolean; receiverRuns: boolean } {
  const code = transferError;
  return {
    senderRuns: failIpc(k, s, code),
    receiverRuns: failIpc(k, r, code | 1),
  };
}

/**
 * The send phase of `s` (the current thread) towards `dst`, through `gate` if not
 * null, delivering `label`. A call (`isCall`) continues with a wait for `dst`'s reply;
 * `thenWait` continues with an open wait instead.
 */
export function sendMessage(
  k: Kernel,
  cpu: Cpu,
  s: Thread,
  dst: Thread,
  gate: IpcGate | null,
  label: number,
  tag: number,
  isCall: boolean,
  thenWait: boolean,
  sendTimeout: number,
  recvTimeout: number,
): void {
  if (!dst.alive || dst.state === ThreadState.DEAD) {
    failIpc(k, s, IpcError.ENOT_EXISTENT);
    return;
  }
  if ((tag & 0x3f) + 2 * ((tag >>> 6) & 0x3f) > s.utcb.layout.mrCount) {
    failIpc(k, s, IpcError.SEMSGCUT);
    return;
  }
  const waitingForUs =
    dst.state === ThreadState.RECV_WAIT &&
    (dst.partner === null ? dst.partnerIrq === null : dst.partner === s);
  if (!waitingForUs) {
    if (isZeroTimeout(sendTimeout)) {
      failIpc(k, s, IpcError.SETIMEOUT);
      return;
    }
    s.state = ThreadState.SEND_WAIT;
    s.partner = dst;
    s.viaGate = gate;
    s.sendLabel = label;
    s.sendTag = tag;
    s.sendIsCall = isCall;
    s.sendThenWait = thenWait;
    s.pendingRecvTimeout = recvTimeout;
    enqueueSender(dst, s);
    armIpcTimeout(k, cpu, s, sendTimeout);
    k.blockAndSwitch(cpu, null);
    return;
  }

  // Rendezvous: the receiver is waiting for us.
  if (dst.heapIndex >= 0) k.timers.cancel(dst);
  if (dst.partner !== null) {
    leaveClosedWait(dst);
    dst.partner = null;
  }
  const rtag = transfer(k, cpu, s, dst, tag, label);
  if (transferError !== 0) {
    const runs = failTransfer(k, s, dst);
    if (runs.receiverRuns) k.makeReady(dst, cpu.time);
    return;
  }
  if (k.events.active & EventBit.ipc) emitIpc(k, isCall ? callKind(s) : 'send', s, dst, rtag, cpu);
  const dstRuns = deliverResult(k, dst, rtag);
  if (isCall) {
    if (!awaitReply(k, cpu, s, dst, recvTimeout)) {
      if (dstRuns) k.makeReady(dst, cpu.time);
      return;
    }
    k.blockAndSwitch(cpu, dstRuns ? dst : null);
    return;
  }
  if (thenWait) {
    if (receivePhase(k, cpu, s, null, null, recvTimeout)) {
      if (dstRuns) k.makeReady(dst, cpu.time);
    } else {
      k.blockAndSwitch(cpu, dstRuns ? dst : null);
    }
    return;
  }
  deliverResult(k, s, SEND_OK);
  if (dstRuns) k.makeReady(dst, cpu.time);
}

/**
 * After its call was delivered, `c` waits for `server`'s reply: `server` holds the
 * one-shot reply capability. Returns false when the wait ended at once (zero receive
 * timeout), with `c` failed and still runnable.
 */
function awaitReply(k: Kernel, cpu: Cpu, c: Thread, server: Thread, recvTimeout: number): boolean {
  if (isZeroTimeout(recvTimeout)) {
    failIpc(k, c, IpcError.RETIMEOUT);
    return false;
  }
  c.state = ThreadState.REPLY_WAIT;
  c.partner = server;
  addReplyWaiter(server, c);
  server.replyTo = c;
  armIpcTimeout(k, cpu, c, recvTimeout);
  return true;
}

/**
 * The receive phase of `t`: from `from` (closed wait), from Irq `fromIrq`, or from
 * anyone (both null: open wait). Takes a queued sender if there is one and returns
 * true with `t`'s result set. Otherwise blocks `t` (without switching) and returns
 * false — or, with a zero timeout, fails it and returns true.
 */
export function receivePhase(
  k: Kernel,
  cpu: Cpu,
  t: Thread,
  from: Thread | null,
  fromIrq: Irq | null,
  recvTimeout: number,
): boolean {
  let s: Sender | null;
  if (from !== null) {
    if (!from.alive || from.state === ThreadState.DEAD) {
      failIpc(k, t, IpcError.RENOT_EXISTENT);
      return true;
    }
    s = from.state === ThreadState.SEND_WAIT && from.qOwner === t ? from : null;
  } else if (fromIrq !== null) {
    s = fromIrq.qOwner === t ? fromIrq : null;
  } else {
    s = t.sendersHead;
  }
  if (s !== null) {
    acceptSender(k, cpu, t, s);
    return true;
  }
  if (isZeroTimeout(recvTimeout)) {
    failIpc(k, t, IpcError.RETIMEOUT);
    return true;
  }
  t.state = ThreadState.RECV_WAIT;
  t.partner = from;
  t.partnerIrq = fromIrq;
  joinClosedWait(t);
  armIpcTimeout(k, cpu, t, recvTimeout);
  return false;
}

/** `r` takes queued sender `s`: the message moves, and `s` goes on to its next phase. */
function acceptSender(k: Kernel, cpu: Cpu, r: Thread, s: Sender): void {
  dequeueSender(r, s);
  if (s.kind === ObjectKind.IRQ) {
    deliverIrq(k, cpu, r, s as Irq);
    return;
  }
  const st = s as Thread;
  if (st.heapIndex >= 0) k.timers.cancel(st);
  st.viaGate = null;
  st.partner = null;
  const rtag = transfer(k, cpu, st, r, st.sendTag, st.sendLabel);
  if (transferError !== 0) {
    const runs = failTransfer(k, st, r);
    if (runs.senderRuns) k.makeReady(st, cpu.time);
    return;
  }
  if (k.events.active & EventBit.ipc) {
    emitIpc(k, st.sendIsCall ? callKind(st) : 'send', st, r, rtag, cpu);
  }
  deliverResult(k, r, rtag);
  if (st.sendIsCall) {
    if (!awaitReply(k, cpu, st, r, st.pendingRecvTimeout)) k.makeReady(st, cpu.time);
    return;
  }
  if (st.sendThenWait) {
    if (receivePhase(k, cpu, st, null, null, st.pendingRecvTimeout)) k.makeReady(st, cpu.time);
    return;
  }
  if (deliverResult(k, st, SEND_OK)) k.makeReady(st, cpu.time);
}

/** Delivers an interrupt to handler `r`: an IRQ-protocol message with the Irq's label. */
function deliverIrq(k: Kernel, cpu: Cpu, r: Thread, irq: Irq): void {
  irq.pending = false;
  irq.masked = true;
  irq.delivered++;
  r.regs.label = irq.label;
  r.replyTo = irq;
  k.ipcCount++;
  const tag = msgtag(Proto.IRQ, 0);
  if (k.events.active & EventBit.ipc) emitIpc(k, 'irq', null, r, tag, cpu);
  deliverResult(k, r, tag);
}

/**
 * An interrupt arrives at `irq` (at the time of `cpu`). It is delivered at once to a
 * handler that waits for it, queued as a sender otherwise; while the Irq is masked
 * or already pending it stays pending, never lost, and repeats coalesce as an edge
 * interrupt's do.
 */
export function raiseIrq(k: Kernel, cpu: Cpu, irq: Irq): void {
  if (irq.pending) {
    irq.coalesced++;
    return;
  }
  irq.pending = true;
  if (!irq.masked) offerIrq(k, cpu, irq);
}

/** Unmasks `irq` (EOI); a pending interrupt is offered to the handler again. */
export function unmaskIrq(k: Kernel, cpu: Cpu, irq: Irq): void {
  irq.masked = false;
  if (irq.pending && irq.qOwner === null) offerIrq(k, cpu, irq);
  // A hardware line re-enables at the controller, which re-delivers a level line that
  // is still asserted, or an edge that arrived while it was masked.
  if (irq.icu) irq.icu.controller.unmask(irq.line);
}

function offerIrq(k: Kernel, cpu: Cpu, irq: Irq): void {
  const h = irq.target;
  if (h === null || !h.alive || h.state === ThreadState.DEAD) return;
  const waiting =
    h.state === ThreadState.RECV_WAIT &&
    (h.partner === null ? h.partnerIrq === null || h.partnerIrq === irq : false);
  if (waiting) {
    if (h.heapIndex >= 0) k.timers.cancel(h);
    leaveClosedWait(h);
    h.partnerIrq = null;
    deliverIrq(k, cpu, h, irq);
    k.makeReady(h, cpu.time);
  } else {
    enqueueSender(h, irq);
  }
}

/**
 * The reply phase of `t` (the current thread) through its implicit reply capability,
 * optionally followed by an open wait (`thenWait`, the server loop's replyAndWait).
 */
export function replyAndReceive(
  k: Kernel,
  cpu: Cpu,
  t: Thread,
  tag: number,
  thenWait: boolean,
  recvTimeout: number,
): void {
  const c = t.replyTo;
  if (c === null) {
    failIpc(k, t, IpcError.ENOREPLY);
    return;
  }
  t.replyTo = null;
  let woken: Thread | null = null;
  if (c.kind === ObjectKind.IRQ) {
    unmaskIrq(k, cpu, c as Irq);
  } else {
    const caller = c as Thread;
    if ((tag & 0x3f) + 2 * ((tag >>> 6) & 0x3f) > t.utcb.layout.mrCount) {
      t.replyTo = caller;
      failIpc(k, t, IpcError.SEMSGCUT);
      return;
    }
    if (caller.heapIndex >= 0) k.timers.cancel(caller);
    removeReplyWaiter(t, caller);
    caller.partner = null;
    const rtag = transfer(k, cpu, t, caller, tag, 0);
    if (transferError !== 0) {
      const runs = failTransfer(k, t, caller);
      if (runs.receiverRuns) k.makeReady(caller, cpu.time);
      return;
    }
    if (k.events.active & EventBit.ipc) emitIpc(k, 'reply', t, caller, rtag, cpu);
    if (deliverResult(k, caller, rtag)) woken = caller;
  }
  if (!thenWait) {
    deliverResult(k, t, SEND_OK);
    if (woken) k.makeReady(woken, cpu.time);
    return;
  }
  if (receivePhase(k, cpu, t, null, null, recvTimeout)) {
    if (woken) k.makeReady(woken, cpu.time);
  } else if (cpu.current === t) {
    k.blockAndSwitch(cpu, woken);
  } else {
    // The reply phase woke a thread that preempted `t`: an exception reply that killed
    // the faulting thread released its partners, or the unmasked Irq went to another
    // handler. `t` blocks from the run queue instead of from its CPU.
    k.descheduled(t);
    if (woken) k.makeReady(woken, cpu.time);
  }
}

/**
 * Cancels the IPC `t` is blocked in, as ex_regs with the cancel flag does: the
 * thread resumes with the cancelled error of the phase it was in.
 */
export function cancelIpc(k: Kernel, t: Thread): boolean {
  if (
    t.state !== ThreadState.SEND_WAIT &&
    t.state !== ThreadState.RECV_WAIT &&
    t.state !== ThreadState.REPLY_WAIT
  ) {
    return false;
  }
  const code = t.state === ThreadState.SEND_WAIT ? IpcError.SECANCELED : IpcError.RECANCELED;
  abortIpc(k, t);
  if (failIpc(k, t, code)) k.makeReady(t, k.now());
  return true;
}
