/**
 * The Icu protocol (label −1, as Fiasco's `l4_icu_*`): bind a hardware line to an Irq,
 * unbind, info, mask, unmask, set the trigger mode. Rights: info needs R, everything
 * else W on the Icu; binding also needs S on the Irq (the right to attach to it).
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { FpageType, fpageBase, fpageType } from '../abi/fpage';
import { IcuOp } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import { unmaskIrq } from '../ipc/ipc';
import { ITEM_MAP } from '../ipc/typed-items';
import type { Kernel } from '../kernel';
import { TriggerMode } from '../platform/interrupts';
import type { Cpu } from '../sched/cpu';
import { hasRights, inRange, replyError, replyOk } from './decode';
import type { Icu } from './icu';
import type { Irq } from './irq';
import { ObjectKind } from './kobject';
import type { Thread } from './thread';

/** Invokes an Icu capability; returns the reply tag. */
export function invokeIcu(k: Kernel, cpu: Cpu, caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const icu = cap.payload as Icu;
  const u = caller.utcb;
  const op = u.mr(0);
  if (op === IcuOp.INFO) {
    if (!hasRights(cap, CapRights.R)) return replyError(Errno.EPERM);
    u.setMr(0, 0); // features: no MSIs
    u.setMr(1, icu.controller.lines.length);
    u.setMr(2, 0);
    return replyOk(3);
  }
  if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
  if (words < 2) return replyError(Errno.EMSGTOOSHORT);
  const line = u.mr(1);
  if (!icu.controller.lines.includes(line)) return replyError(Errno.EINVAL);
  const bound = icu.bound.get(line);
  switch (op) {
    case IcuOp.BIND: {
      const irq = decodeBind(caller, words);
      if (typeof irq === 'number') return replyError(-irq);
      if (bound || irq.icu) return replyError(Errno.EBUSY);
      bindLine(icu, line, irq);
      return replyOk();
    }
    case IcuOp.UNBIND:
      if (!bound) return replyError(Errno.ENOENT);
      unbindLine(bound);
      return replyOk();
    case IcuOp.UNMASK:
      if (!bound) return replyError(Errno.ENOENT);
      unmaskIrq(k, cpu, bound);
      return replyOk();
    case IcuOp.MASK:
      if (!bound) return replyError(Errno.ENOENT);
      bound.masked = true;
      icu.controller.mask(line);
      return replyOk();
    case IcuOp.SET_MODE: {
      if (words < 3) return replyError(Errno.EMSGTOOSHORT);
      const mode = u.mr(2);
      if (mode !== TriggerMode.EDGE && mode !== TriggerMode.LEVEL) return replyError(Errno.EINVAL);
      icu.controller.configure(line, mode);
      return replyOk();
    }
    default:
      return replyError(Errno.ENOSYS);
  }
}

/** The Irq named by the map item in MR2–MR3, as Fiasco's `l4_icu_bind` passes it. */
function decodeBind(caller: Thread, words: number): Irq | number {
  if (words < 4) return -Errno.EMSGTOOSHORT;
  const ctl = caller.utcb.mr(2);
  const fp = caller.utcb.mr(3);
  if (!inRange(ctl, 0, Number.MAX_SAFE_INTEGER) || (ctl & ITEM_MAP) === 0) return -Errno.EINVAL;
  if (!inRange(fp, 1, Number.MAX_SAFE_INTEGER) || fpageType(fp) !== FpageType.OBJECT) return -Errno.EINVAL;
  const irqCap = caller.task?.caps.lookup(fpageBase(fp));
  if (!irqCap || irqCap.payload.kind !== ObjectKind.IRQ) return -Errno.EINVAL;
  if (!hasRights(irqCap, CapRights.S)) return -Errno.EPERM;
  return irqCap.payload as Irq;
}

/** Binds `line` to `irq` and enables it at the controller. */
function bindLine(icu: Icu, line: number, irq: Irq): void {
  icu.bound.set(line, irq);
  irq.line = line;
  irq.icu = icu;
  if (!irq.masked) icu.controller.unmask(line);
}

/** Releases `irq`'s line: masked at the controller, free to bind again. */
export function unbindLine(irq: Irq): void {
  const icu = irq.icu;
  if (!icu) return;
  icu.controller.mask(irq.line);
  icu.bound.delete(irq.line);
  irq.line = -1;
  irq.icu = null;
}
