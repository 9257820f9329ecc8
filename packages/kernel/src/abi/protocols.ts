/**
 * Protocol labels and operation codes of the kernel objects, as Fiasco.OC numbers them
 * (reference facts, "Protocol labels"). A kernel object interprets a message by the
 * label of its tag; the operation code travels in MR0.
 */
export const Proto = {
  /** Interrupt messages and the Irq object's trigger/unmask protocol. */
  IRQ: -1,
  PAGE_FAULT: -2,
  PREEMPTION: -3,
  EXCEPTION: -5,
  SIGMA0: -6,
  IO_PAGE_FAULT: -8,
  KOBJECT: -10,
  TASK: -11,
  THREAD: -12,
  LOG: -13,
  SCHEDULER: -14,
  FACTORY: -15,
  VM: -16,
  /** The Irq object's attach/detach protocol. */
  IRQ_SENDER: -18,
  SEMAPHORE: -20,
  META: -21,
  DEBUGGER: -23,
  VCPU_CONTEXT: -25,
} as const;

/**
 * Thread protocol operations, Fiasco's `L4_THREAD_*_OP`. The operation sits in the
 * low 16 bits of MR0 ({@link THREAD_OPCODE_MASK}); control and ex_regs put their
 * flags in the bits above it.
 */
export const ThreadOp = { CONTROL: 0, EX_REGS: 1, SWITCH: 2, STATS: 3 } as const;

/** The bits of MR0 that hold a thread operation; flags are above them. */
export const THREAD_OPCODE_MASK = 0xffff;

/**
 * Flags of a thread-control message (MR0, with the operation), Fiasco's
 * `L4_THREAD_CONTROL_*`: which of the fields MR1 (pager), MR2 (exception handler)
 * and MR6–7 (the task, as a map item) carry.
 */
export const ThreadControl = {
  SET_PAGER: 0x0010000,
  BIND_TASK: 0x0200000,
  SET_EXC_HANDLER: 0x1000000,
} as const;

/** Message registers of a thread-control message, Fiasco's `L4_THREAD_CONTROL_MR_IDX_*`. */
export const ThreadControlMr = {
  FLAGS: 0,
  PAGER: 1,
  EXC_HANDLER: 2,
  FLAG_VALS: 4,
  BIND_UTCB: 5,
  BIND_TASK: 6,
} as const;

/**
 * Flags of an ex_regs message (MR0, with the operation), Fiasco's
 * `L4_THREAD_EX_REGS_*`. An IP or SP of ~0 (−1) leaves that register unchanged.
 */
export const ExRegs = {
  /** Cancel the thread's ongoing IPC with the cancelled error. */
  CANCEL: 0x10000,
  /** Raise an exception in the thread (reported to its exception handler). */
  TRIGGER_EXCEPTION: 0x20000,
} as const;

/** Task protocol operations. */
export const TaskOp = { MAP: 0, UNMAP: 1, CAP_INFO: 2, DELETE: 3 } as const;

/** Flags for Task.unmap, in MR1. */
export const UnmapFlags = {
  /** Revoke only the mappings derived from the caller's (the default). */
  OTHER_SPACES: 0,
  /** Also remove the caller's own mapping (X.2's flush). */
  ALL_SPACES: 1,
} as const;

/** CAP_INFO sub-operations, in MR1. */
export const CapInfo = { VALID: 0, EQUAL: 1, RIGHTS: 2 } as const;

/** Factory protocol: MR0 names the protocol of the object to create. */
export const FactoryCreate = {
  GATE: 0,
  IRQ: Proto.IRQ,
  TASK: Proto.TASK,
  THREAD: Proto.THREAD,
  LOG: Proto.LOG,
  SCHEDULER: Proto.SCHEDULER,
  FACTORY: Proto.FACTORY,
} as const;

/** IPC gate operations, sent with the KOBJECT label and the S right. */
export const GateOp = { BIND: 0x10, GET_INFO: 0x11 } as const;

/** Icu operations (label IRQ), Fiasco's `L4_ICU_OP_*`. */
export const IcuOp = { BIND: 0, UNBIND: 1, INFO: 2, MSI_INFO: 3, UNMASK: 4, MASK: 5, SET_MODE: 6 } as const;

/** Irq operations: with the IRQ label EOI and TRIGGER, with IRQ_SENDER ATTACH/DETACH. */
export const IrqOp = { EOI: 0, ATTACH: 1, TRIGGER: 2, DETACH: 5 } as const;

/** Scheduler operations. */
export const SchedOp = { INFO: 0, RUN_THREAD: 1, IDLE_TIME: 2 } as const;

/** Log operations (Fiasco's vcon write). */
export const LogOp = { WRITE: 0 } as const;

/**
 * Debugger operations (label −23) on any kernel object, numbered as Fiasco's
 * `L4_DEBUGGER_*_OP`: name the object, or ask for its global id.
 */
export const DebuggerOp = { NAME_SET: 0, GLOBAL_ID: 1 } as const;

/** The longest object name {@link DebuggerOp.NAME_SET} accepts, in bytes of UTF-8. */
export const OBJECT_NAME_MAX = 32;
