/**
 * The IPC fastpath, as seL4 and Fiasco.OC have one: the two system calls a
 * client/server pair spends its life in — a call to a gate whose server waits in an
 * open wait, and a replyAndWait that answers a waiting caller with no other sender
 * queued — handled in one straight-line function each.
 *
 * Each first checks every precondition and returns false without touching anything
 * when one fails; the full path in ipc.ts then handles the call. When it succeeds the
 * outcome — thread states, queues, labels, cycles charged — is exactly what the full
 * path produces; `test/fastpath.test.ts` runs workloads both ways and compares.
 *
 * Preconditions shared by both: nobody listens to kernel events, the message is
 * untyped words only (no items, no flags, a non-negative label), the receive phase
 * has no timeout, and the partner runs on this CPU at a priority no queued thread
 * beats (so switching to it directly is what the scheduler would do anyway).
 */
import type { Kernel } from '../kernel';
import { IpcGate } from '../objects/ipc-gate';
import { Thread, ThreadState } from '../objects/thread';
import type { Cpu } from '../sched/cpu';
import { addReplyWaiter, removeReplyWaiter } from './sender-queue';

/** Tag bits that send the message down the full path: typed items and flags. */
const SLOW_TAG_BITS = 0xffc0;

/**
 * The preconditions both fastpaths share: nobody observes the kernel, the message is
 * untyped words under a non-negative label, and the receive phase has no timeout.
 */
function eligible(k: Kernel, tag: number, timeouts: number): boolean {
  return (
    k.events.active === 0 &&
    !k.debugSched &&
    tag >= 0 &&
    (tag & SLOW_TAG_BITS) === 0 &&
    (timeouts & 0xffff) === 0
  );
}

/**
 * Charges the whole syscall — kernel entry, transfer, switch — at once, and puts
 * `next` on the CPU: what the full path does in three steps (see Kernel.dispatch).
 */
function transferAndSwitch(k: Kernel, cpu: Cpu, from: Thread, next: Thread, words: number): void {
  const work = k.cEntry + k.cIpc + words * k.cWord;
  const task = next.task;
  const sw = k.cSwitch + (cpu.lastTask !== task ? k.cSpace : 0);
  cpu.time += work + sw;
  from.cyclesUsed += work;
  from.sliceLeft -= work;
  next.cyclesUsed += sw;
  if (next.sliceLeft <= 0) next.sliceLeft = next.quantum;
  cpu.lastTask = task;
  cpu.lastThread = next;
  cpu.switches++;
  cpu.current = next;
}

/** A call through a gate to a server waiting in an open wait. */
export function fastCall(
  k: Kernel,
  cpu: Cpu,
  t: Thread,
  capw: number,
  tag: number,
  timeouts: number,
): boolean {
  if (!eligible(k, tag, timeouts)) return false;
  const cap = t.task!.caps.lookup(capw >>> 12);
  if (cap === undefined) return false;
  const gate = cap.payload;
  if (!(gate instanceof IpcGate)) return false;
  const dst = gate.thread;
  if (
    dst === null ||
    dst.state !== ThreadState.RECV_WAIT ||
    dst.partner !== null ||
    dst.partnerIrq !== null ||
    dst.cpu !== cpu.index ||
    dst.inException ||
    (cpu.runQueue.length !== 0 && cpu.runQueue.highestPriority() > dst.prio)
  ) {
    return false;
  }
  if (dst.heapIndex >= 0) k.timers.cancel(dst);
  const words = tag & 0x3f;
  if (words !== 0) dst.utcb.copyWordsFrom(t.utcb, 0, words);
  // Labels go up to 2^53 and have their two low bits clear: add, never OR (32-bit).
  dst.regs.label = gate.label + (cap.rights & 3);
  dst.regs.tag = tag;
  dst.resumeValue = tag;
  k.ipcCount++;
  t.state = ThreadState.REPLY_WAIT;
  t.partner = dst;
  addReplyWaiter(dst, t);
  dst.replyTo = t;
  dst.state = ThreadState.READY;
  transferAndSwitch(k, cpu, t, dst, words);
  return true;
}

/** A reply to a waiting caller, then an open wait that finds no sender and blocks. */
export function fastReplyWait(k: Kernel, cpu: Cpu, t: Thread, tag: number, timeouts: number): boolean {
  if (!eligible(k, tag, timeouts)) return false;
  const c = t.replyTo;
  if (
    !(c instanceof Thread) ||
    c.state !== ThreadState.REPLY_WAIT ||
    c.inException ||
    c.inPageFault ||
    t.sendersHead !== null ||
    c.cpu !== cpu.index ||
    (cpu.runQueue.length !== 0 && cpu.runQueue.highestPriority() > c.prio)
  ) {
    return false;
  }
  t.replyTo = null;
  if (c.heapIndex >= 0) k.timers.cancel(c);
  removeReplyWaiter(t, c);
  c.partner = null;
  const words = tag & 0x3f;
  if (words !== 0) c.utcb.copyWordsFrom(t.utcb, 0, words);
  c.regs.label = 0;
  c.regs.tag = tag;
  c.resumeValue = tag;
  k.ipcCount++;
  t.state = ThreadState.RECV_WAIT;
  t.partner = null;
  t.partnerIrq = null;
  c.state = ThreadState.READY;
  transferAndSwitch(k, cpu, t, c, words);
  return true;
}
