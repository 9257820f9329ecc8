/**
 * The Irq protocols: with label −1 (IRQ) trigger (needs W) and EOI/unmask (needs S);
 * with label −18 (IRQ sender) attach and detach a handler thread (need S, as L4Re
 * requires for attaching to an Irq).
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { IrqOp, Proto } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import { raiseIrq, unmaskIrq } from '../ipc/ipc';
import { dequeueSender } from '../ipc/sender-queue';
import type { Kernel } from '../kernel';
import type { Cpu } from '../sched/cpu';
import { capArg, hasRights, inRange, replyError, replyOk } from './decode';
import type { Irq } from './irq';
import { ObjectKind } from './kobject';
import type { Thread } from './thread';

/** Invokes an Irq capability with the IRQ or IRQ-sender protocol; returns the reply tag. */
export function invokeIrq(
  k: Kernel,
  cpu: Cpu,
  caller: Thread,
  cap: Cap,
  label: number,
  words: number,
): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const irq = cap.payload as Irq;
  const op = caller.utcb.mr(0);
  if (label === Proto.IRQ) {
    if (op === IrqOp.TRIGGER) {
      if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
      raiseIrq(k, cpu, irq);
      return replyOk();
    }
    if (op === IrqOp.EOI) {
      if (!hasRights(cap, CapRights.S)) return replyError(Errno.EPERM);
      unmaskIrq(k, cpu, irq);
      return replyOk();
    }
    return replyError(Errno.ENOSYS);
  }
  if (!hasRights(cap, CapRights.S)) return replyError(Errno.EPERM);
  if (op === IrqOp.ATTACH) {
    if (words < 3) return replyError(Errno.EMSGTOOSHORT);
    const irqLabel = caller.utcb.mr(1);
    if (!inRange(irqLabel, 0, Number.MAX_SAFE_INTEGER)) return replyError(Errno.EINVAL);
    let handler = caller;
    if (caller.utcb.mr(2) !== 0) {
      const tc = capArg(caller, 2);
      if (typeof tc === 'number') return replyError(-tc);
      if (tc.payload.kind !== ObjectKind.THREAD) return replyError(Errno.EINVAL);
      if (!hasRights(tc, CapRights.W)) return replyError(Errno.EPERM);
      handler = tc.payload as Thread;
    }
    detach(irq);
    irq.target = handler;
    irq.label = irqLabel;
    irq.prio = handler.prio;
    // An interrupt that arrived while detached is delivered now.
    if (irq.pending && !irq.masked) {
      irq.pending = false;
      raiseIrq(k, cpu, irq);
    }
    return replyOk();
  }
  if (op === IrqOp.DETACH) {
    detach(irq);
    return replyOk();
  }
  return replyError(Errno.ENOSYS);
}

function detach(irq: Irq): void {
  if (irq.qOwner) dequeueSender(irq.qOwner, irq);
  irq.target = null;
}
