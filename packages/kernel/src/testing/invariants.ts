import type { Kernel } from '../kernel';
import type { Factory } from '../objects/factory';
import type { KObject } from '../objects/kobject';
import { ObjectKind } from '../objects/kobject';
import type { Task } from '../objects/task';
import { type Thread, ThreadState } from '../objects/thread';

/**
 * Checks the kernel's invariants and returns every violation found (empty when all
 * hold). The property tests call it after every step:
 * - every capability names a live object, sits where its node says, and has rights
 *   that are a subset of its parent's;
 * - every object's capability count matches the capabilities that name it;
 * - run queues hold exactly the ready threads that are not running, and each CPU's
 *   current thread is ready;
 * - blocked senders are in their receiver's queue; factories stay within quota.
 */
export function checkInvariants(k: Kernel): string[] {
  const problems: string[] = [];
  const counts = new Map<KObject, number>();
  const spaces = [
    k.bootSpace,
    ...[...k.objects].filter((o): o is Task => o.kind === ObjectKind.TASK).map((t) => t.caps),
  ];
  for (const space of spaces) {
    for (const [slot, cap] of space.entries()) {
      const o = cap.payload;
      counts.set(o, (counts.get(o) ?? 0) + 1);
      if (!o.alive || !k.objects.has(o)) problems.push(`slot ${slot} names dead ${o.kind} "${o.name}"`);
      if (cap.index !== slot || cap.space !== space)
        problems.push(`slot ${slot}: node thinks it is at ${cap.index}`);
      if (cap.parent && (cap.rights & ~cap.parent.rights) !== 0) {
        problems.push(`slot ${slot}: rights ${cap.rights} exceed parent's ${cap.parent.rights}`);
      }
      if (cap.parent && cap.parent.payload !== o) problems.push(`slot ${slot}: parent maps another object`);
    }
  }
  for (const o of k.objects) {
    const n = counts.get(o) ?? 0;
    if (n !== o.capCount) problems.push(`${o.kind} "${o.name}": capCount ${o.capCount}, found ${n}`);
    if (n === 0) problems.push(`${o.kind} "${o.name}" is alive without capabilities`);
    if (o.kind === ObjectKind.FACTORY) {
      const f = o as Factory;
      if (f.used < 0 || f.used > f.limit) problems.push(`factory "${f.name}": used ${f.used} of ${f.limit}`);
    }
  }
  const queued = new Set<Thread>();
  for (const cpu of k.cpus) {
    for (const t of cpu.runQueue.threads() as Iterable<Thread>) {
      queued.add(t);
      if (t.state !== ThreadState.READY)
        problems.push(`"${t.name}" queued on cpu${cpu.index} but ${t.state}`);
      if (t.cpu !== cpu.index)
        problems.push(`"${t.name}" queued on cpu${cpu.index} but belongs to cpu${t.cpu}`);
    }
    const cur = cpu.current;
    if (cur && (cur.state !== ThreadState.READY || cur.queued || cur.cpu !== cpu.index)) {
      problems.push(`cpu${cpu.index} runs "${cur.name}" in state ${cur.state}`);
    }
  }
  for (const t of k.threads) {
    const running = k.cpus[t.cpu]?.current === t;
    if (t.state === ThreadState.READY && !running && !queued.has(t))
      problems.push(`ready "${t.name}" is not queued`);
    if (t.state !== ThreadState.READY && (queued.has(t) || running))
      problems.push(`${t.state} "${t.name}" is scheduled`);
    const closedOn = t.state === ThreadState.RECV_WAIT ? (t.partner ?? t.partnerIrq) : null;
    if (closedOn) {
      let found = false;
      for (let w = closedOn.closedWaitersHead; w; w = w.cwNext) if (w === t) found = true;
      if (!found)
        problems.push(`"${t.name}" waits on "${closedOn.name}" but is not in its closed-waiter list`);
    }
    if (t.state === ThreadState.SEND_WAIT) {
      let found = false;
      for (let s = t.qOwner?.sendersHead ?? null; s; s = s.qNext) if (s === t) found = true;
      if (!found) problems.push(`sending "${t.name}" is not in its receiver's queue`);
    }
  }
  return problems;
}
