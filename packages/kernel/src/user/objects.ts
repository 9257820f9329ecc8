/**
 * Typed wrappers for kernel objects, used from user threads with `yield*`. Each
 * method fills the message registers as the object's protocol expects, invokes the
 * capability, and returns the L4Re-style error: 0 (or a non-negative result) on
 * success, −errno from the object, or −(2000 + IPC error).
 */

import { objFpage } from '../abi/fpage';
import { msgtag } from '../abi/msgtag';
import {
  CapInfo,
  DebuggerOp,
  ExRegs,
  FactoryCreate,
  GateOp,
  IcuOp,
  IrqOp,
  LogOp,
  Proto,
  SchedOp,
  TaskOp,
  ThreadControl,
  ThreadOp,
  UnmapFlags,
} from '../abi/protocols';
import { ITEM_MAP } from '../ipc/typed-items';
import type { ThreadEnv } from './env';
import type { UserCode } from './program';

abstract class ObjectRef {
  constructor(
    protected readonly env: ThreadEnv,
    /** The capability index this wrapper invokes. */
    readonly cap: number,
  ) {}

  protected mr(values: readonly number[]): void {
    const u = this.env.utcb;
    for (let i = 0; i < values.length; i++) u.setMr(i, values[i]!);
  }

  protected *op(label: number, values: readonly number[], items = 0): UserCode<number> {
    this.mr(values);
    const tag = yield this.env.call(this.cap, msgtag(label, values.length - 2 * items, items));
    return this.env.error(tag);
  }
}

/** Fields of a Thread.control call; omitted fields are left unchanged. */
export interface ThreadControlArgs {
  readonly pager?: number;
  readonly exceptionHandler?: number;
  /** Capability index of the task to bind the thread to. */
  readonly bindTask?: number;
}

/** A Thread capability. */
export class ThreadRef extends ObjectRef {
  /**
   * Sets pager, exception handler and/or task, laid out as Fiasco's thread control:
   * operation and flags in MR0, pager MR1, handler MR2, the task as a map item in
   * MR6–7.
   */
  *control(args: ThreadControlArgs): UserCode<number> {
    let flags = 0;
    if (args.pager !== undefined) flags |= ThreadControl.SET_PAGER;
    if (args.exceptionHandler !== undefined) flags |= ThreadControl.SET_EXC_HANDLER;
    const mrs = [ThreadOp.CONTROL, args.pager ?? 0, args.exceptionHandler ?? 0, 0, 0, 0];
    if (args.bindTask === undefined) {
      mrs[0] = ThreadOp.CONTROL + flags;
      return yield* this.op(Proto.THREAD, mrs);
    }
    mrs[0] = ThreadOp.CONTROL + flags + ThreadControl.BIND_TASK;
    return yield* this.op(Proto.THREAD, [...mrs, ITEM_MAP, objFpage(args.bindTask / 4096, 0, 0xf)], 1);
  }

  /**
   * Exchanges registers: sets IP and SP (−1 keeps one) and applies `flags`
   * ({@link ExRegs}). The old flags, IP and SP are in MR0–MR2 afterwards.
   */
  *exRegs(ip: number, sp: number, flags = 0): UserCode<number> {
    return yield* this.op(Proto.THREAD, [ThreadOp.EX_REGS + flags, ip, sp]);
  }

  /** Cancels the thread's ongoing IPC (it gets the cancelled error). */
  *cancel(): UserCode<number> {
    return yield* this.exRegs(-1, -1, ExRegs.CANCEL);
  }

  /** Gives the rest of this thread's time to the target. */
  *switchTo(): UserCode<number> {
    return yield* this.op(Proto.THREAD, [ThreadOp.SWITCH]);
  }

  /** Cycles the thread has consumed (MR1; MR0 has Fiasco's µs), or a negative error. */
  *cycles(): UserCode<number> {
    const err = yield* this.op(Proto.THREAD, [ThreadOp.STATS]);
    return err < 0 ? err : this.env.utcb.mr(1);
  }
}

/** A Task capability. */
export class TaskRef extends ObjectRef {
  /**
   * Maps (or grants) flexpage `fpage` of task `srcTask` into this task at `dst`: a
   * capability index for an object flexpage, a virtual address (aligned to the
   * flexpage's size) for a memory flexpage; I/O ports land at their own numbers.
   */
  *map(srcTask: number, fpage: number, dst: number, grant = false): UserCode<number> {
    return yield* this.op(Proto.TASK, [TaskOp.MAP, srcTask, fpage, dst + (grant ? 2 : 0)]);
  }

  /**
   * Revokes the rights of `fpages` from everything derived from them (and, with
   * `self`, here too). On success MR0… hold each flexpage with its rights replaced by
   * the referenced (4) / written (2) status of what was removed.
   */
  *unmap(fpages: readonly number[], self = false): UserCode<number> {
    return yield* this.op(Proto.TASK, [
      TaskOp.UNMAP,
      self ? UnmapFlags.ALL_SPACES : UnmapFlags.OTHER_SPACES,
      ...fpages,
    ]);
  }

  /** 1 when capability index `cap` is occupied in this task, 0 when empty. */
  *capValid(cap: number): UserCode<number> {
    this.mr([TaskOp.CAP_INFO, CapInfo.VALID, cap]);
    const tag = yield this.env.call(this.cap, msgtag(Proto.TASK, 3));
    const err = this.env.error(tag);
    return err < 0 ? err : (tag - (tag & 0xffff)) / 0x10000;
  }

  /** 1 when both capability indices name the same object. */
  *capEqual(a: number, b: number): UserCode<number> {
    this.mr([TaskOp.CAP_INFO, CapInfo.EQUAL, a, b]);
    const tag = yield this.env.call(this.cap, msgtag(Proto.TASK, 4));
    const err = this.env.error(tag);
    return err < 0 ? err : (tag - (tag & 0xffff)) / 0x10000;
  }

  /** The rights of capability `cap` in this task, or a negative error. */
  *capRights(cap: number): UserCode<number> {
    const err = yield* this.op(Proto.TASK, [TaskOp.CAP_INFO, CapInfo.RIGHTS, cap]);
    return err < 0 ? err : this.env.utcb.mr(0);
  }

  /** Destroys the object that capability `cap` (with the D right) names. */
  *deleteObject(cap: number): UserCode<number> {
    return yield* this.op(Proto.TASK, [TaskOp.DELETE, cap]);
  }

  /** Removes capability `cap` (and what was derived from it) from this task. */
  *release(cap: number): UserCode<number> {
    return yield* this.unmap([objFpage(cap / 4096, 0, 0xf)], true);
  }
}

/** A Factory capability. Each create puts the new object's capability at `cap`. */
export class FactoryRef extends ObjectRef {
  private *create(cap: number, values: readonly number[]): UserCode<number> {
    this.env.receiveCapInto(cap);
    return yield* this.op(Proto.FACTORY, values);
  }

  *createThread(cap: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.THREAD]);
  }

  *createTask(cap: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.TASK]);
  }

  /** An IPC gate bound to thread `thread` (0: unbound) with `label` (two low bits clear). */
  *createGate(cap: number, thread: number, label: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.GATE, thread, label]);
  }

  *createIrq(cap: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.IRQ]);
  }

  *createLog(cap: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.LOG]);
  }

  /** A sub-factory with a `limit`-byte quota taken from this one. */
  *createFactory(cap: number, limit: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.FACTORY, limit]);
  }

  /** A scheduler derived from `parent`, limited to `maxPrio` and the CPUs in `cpuMask`. */
  *createScheduler(cap: number, parent: number, maxPrio: number, cpuMask: number): UserCode<number> {
    return yield* this.create(cap, [FactoryCreate.SCHEDULER, parent, maxPrio, cpuMask]);
  }
}

/** A Scheduler capability. */
export class SchedulerRef extends ObjectRef {
  /** Runs thread `thread` at `prio` on `cpu` (quantum in cycles, 0 keeps it). */
  *runThread(thread: number, prio: number, cpu: number, quantum = 0): UserCode<number> {
    return yield* this.op(Proto.SCHEDULER, [SchedOp.RUN_THREAD, thread, prio, cpu, quantum]);
  }

  /** CPU mask (MR0), CPU count (MR1) and maximum priority (MR2). */
  *info(): UserCode<number> {
    return yield* this.op(Proto.SCHEDULER, [SchedOp.INFO]);
  }
}

/** An Irq capability. */
export class IrqRef extends ObjectRef {
  /** Attaches handler `thread` (0: the calling thread); it receives `label` with each interrupt. */
  *attach(label: number, thread = 0): UserCode<number> {
    return yield* this.op(Proto.IRQ_SENDER, [IrqOp.ATTACH, label, thread]);
  }

  *detach(): UserCode<number> {
    return yield* this.op(Proto.IRQ_SENDER, [IrqOp.DETACH]);
  }

  /** Raises the interrupt in software. */
  *trigger(): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IrqOp.TRIGGER]);
  }

  /** Unmasks the line (end of interrupt). */
  *unmask(): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IrqOp.EOI]);
  }
}

/** The Icu capability (slot 6): hardware interrupt lines. */
export class IcuRef extends ObjectRef {
  /** Binds hardware `line` to the Irq at `irq` (which needs S), as a map item like Fiasco. */
  *bind(line: number, irq: number): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IcuOp.BIND, line, ITEM_MAP, objFpage(irq / 4096, 0, 0xf)], 1);
  }

  *unbind(line: number): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IcuOp.UNBIND, line]);
  }

  /** Number of lines (MR1 afterwards), or a negative error. */
  *info(): UserCode<number> {
    const err = yield* this.op(Proto.IRQ, [IcuOp.INFO]);
    return err < 0 ? err : this.env.utcb.mr(1);
  }

  *mask(line: number): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IcuOp.MASK, line]);
  }

  *unmask(line: number): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IcuOp.UNMASK, line]);
  }

  /** Sets `line` edge- (0) or level-triggered (1). */
  *setMode(line: number, mode: number): UserCode<number> {
    return yield* this.op(Proto.IRQ, [IcuOp.SET_MODE, line, mode]);
  }
}

/** An IPC gate capability (its own protocol needs the S right). */
export class GateRef extends ObjectRef {
  *bind(thread: number, label: number): UserCode<number> {
    return yield* this.op(Proto.KOBJECT, [GateOp.BIND, thread, label]);
  }
}

const encoder = new TextEncoder();

/** A Log capability. */
export class LogRef extends ObjectRef {
  /** Writes `text`, split into messages that fit the message registers. */
  *print(text: string): UserCode<number> {
    const bytes = encoder.encode(text);
    const u = this.env.utcb;
    const perMsg = (u.layout.mrCount - 2) * 8;
    for (let off = 0; off === 0 || off < bytes.length; off += perMsg) {
      const chunk = bytes.subarray(off, off + perMsg);
      u.setMr(0, LogOp.WRITE);
      u.setMr(1, chunk.length);
      const words = Math.ceil(chunk.length / 8);
      new Uint8Array(u.u32.buffer, u.u32.byteOffset + 16, words * 8).fill(0).set(chunk);
      const err = yield* this.env.kernelCall(this.cap, Proto.LOG, 2 + words);
      if (err < 0) return err;
    }
    return 0;
  }
}

/**
 * Names the kernel object behind `cap` (any kind; an IPC gate needs the S right) with
 * the debugger protocol, as Fiasco's `l4_debugger_set_object_name` does. Names show in
 * traces and `pecan run` reports. Returns 0, or −EINVAL for an empty name or one longer
 * than `OBJECT_NAME_MAX` bytes of UTF-8.
 */
export function* nameObject(env: ThreadEnv, cap: number, name: string): UserCode<number> {
  const bytes = encoder.encode(name);
  const u = env.utcb;
  const words = Math.min(Math.ceil((bytes.length + 1) / 8), u.layout.mrCount - 1);
  u.setMr(0, DebuggerOp.NAME_SET);
  new Uint8Array(u.u32.buffer, u.u32.byteOffset + 8, words * 8).fill(0).set(bytes.subarray(0, words * 8));
  return yield* env.kernelCall(cap, Proto.DEBUGGER, 1 + words);
}
