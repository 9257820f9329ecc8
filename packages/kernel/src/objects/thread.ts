import type { Utcb } from '../abi/utcb';
import type { ExceptionCause } from '../platform/platform';
import type { Runnable } from '../sched/run-queue';
import type { Timed } from '../sched/timer-queue';
import { SyscallRegisters, type ThreadPort } from '../user/registers';
import type { IpcGate } from './ipc-gate';
import type { Irq } from './irq';
import { KObject, ObjectKind } from './kobject';
import type { Task } from './task';

/** The register file of a thread the kernel has not given one yet. */
const NO_REGISTERS = new Float64Array(0);

/** A thread's scheduling and IPC state. */
export const ThreadState = {
  /** Created but never started: no task, or no instruction pointer yet. */
  INACTIVE: 'inactive',
  /** Running on its CPU, or queued to run. */
  READY: 'ready',
  /** Blocked in a send phase, queued on the receiver. */
  SEND_WAIT: 'send-wait',
  /** Blocked in a receive phase: open wait, or closed wait on `partner`. */
  RECV_WAIT: 'recv-wait',
  /** Sent a call; waiting for the reply from `partner`. */
  REPLY_WAIT: 'reply-wait',
  /** Finished, deleted, or stopped by an exception nobody handled. */
  DEAD: 'dead',
} as const;
export type ThreadState = (typeof ThreadState)[keyof typeof ThreadState];

/**
 * Anything that can sit in a receiver's sender queue: a thread in its send phase, or
 * an Irq with a pending interrupt (as in Fiasco, an Irq is a sender).
 */
export interface Sender {
  readonly kind: typeof ObjectKind.THREAD | typeof ObjectKind.IRQ;
  prio: number;
  qNext: Sender | null;
  qPrev: Sender | null;
  /** The thread whose queue this sender is in, or null. */
  qOwner: Thread | null;
}

/** Why a thread is {@link ThreadState.DEAD}. */
export type DeathReason = 'exited' | 'exception' | 'deleted';

/** A generator-based user thread, as the kernel resumes it. */
export type ThreadBody = Generator<unknown, unknown, number>;

/**
 * The thread control block.
 *
 * Invariants (checked by the kernel's invariant checker in tests):
 * - `state === READY` iff the thread is its CPU's current thread or is `queued` in
 *   exactly that CPU's run queue;
 * - `state === SEND_WAIT` iff `qOwner` is set and the thread is in `qOwner`'s sender
 *   queue; `partner === qOwner`;
 * - `state === REPLY_WAIT` iff the thread is in `partner`'s reply-waiter list;
 * - `state === RECV_WAIT` with a `partner` or `partnerIrq` iff the thread is in that
 *   object's closed-waiter list;
 * - `heapIndex >= 0` only while blocked with a finite, non-zero timeout.
 */
export class Thread extends KObject implements Runnable, Timed, Sender {
  readonly kind = ObjectKind.THREAD;
  state: ThreadState = ThreadState.INACTIVE;
  deathReason: DeathReason | null = null;
  /** The task the thread executes in; null until bound by Thread.control. */
  task: Task | null = null;
  /** The UTCB: in the task's UTCB area once bound on a machine with memory. */
  utcb: Utcb;
  /** Virtual address of the UTCB in the task, or 0 when it is kernel-private. */
  utcbAddress = 0;

  // --- CPU state ---------------------------------------------------------------------
  /** The generator that is this thread's user-level execution, once started. */
  body: ThreadBody | null = null;
  /** The value the next resume passes in (the syscall's result). */
  resumeValue = 0;
  /** Code address the thread (re)starts at; see CodeRegistry. */
  ip = 0;
  /** Stack pointer: passed to the entry function as its argument. */
  sp = 0;
  flags = 0;
  /**
   * The architectural register file, in the platform's `registers.names` order. User
   * code runs as TypeScript, so most registers hold only what an exception handler or
   * debugger put there; the syscall-ABI registers and IP/SP/flags are filled in from the
   * thread's state when an exception frame is built.
   */
  gprs: Float64Array = NO_REGISTERS;
  /** The invoke syscall registers, shared with user code through `port`. */
  readonly regs = new SyscallRegisters();
  /** What user code of this thread sees of its CPU; made when the thread is bound. */
  port: ThreadPort | null = null;
  /** ex_regs changed IP while the thread was inside the kernel: restart on return. */
  restartPending = false;
  /** ex_regs asked for an exception: raise it on the thread's next return to user. */
  triggerPending = false;

  // --- scheduling ----------------------------------------------------------------------
  prio = 0;
  cpu = 0;
  rqNext: Runnable | null = null;
  rqPrev: Runnable | null = null;
  queued = false;
  /** Round-robin quantum in cycles, and what is left of the current one. */
  quantum: number;
  sliceLeft: number;
  /** Cycles of modelled user work still to run (compute). */
  computeLeft = 0;
  /** Cycles consumed on any CPU, user and kernel time on its behalf. */
  cyclesUsed = 0;

  // --- timeouts ----------------------------------------------------------------------
  wakeAt = 0;
  wakeSeq = 0;
  heapIndex = -1;

  // --- IPC -----------------------------------------------------------------------------
  /** Thread being sent to (SEND_WAIT), replied by (REPLY_WAIT) or received from. */
  partner: Thread | null = null;
  /** Irq a closed receive waits for. */
  partnerIrq: Irq | null = null;
  /** Gate a pending send goes through (its label is delivered), or null. */
  viaGate: IpcGate | null = null;
  /** Label delivered with the pending send. */
  sendLabel = 0;
  /** Tag of the pending send. */
  sendTag = 0;
  /** The pending send is a call: afterwards wait for the reply. */
  sendIsCall = false;
  /** After the pending send, go to an open wait (send + open receive). */
  sendThenWait = false;
  /** The receive timeout to apply once the send phase has completed. */
  pendingRecvTimeout = 0;
  /** Sender-queue / reply-waiter links. */
  qNext: Sender | null = null;
  qPrev: Sender | null = null;
  qOwner: Thread | null = null;
  /** Head and tail of the queue of senders waiting for this thread to receive. */
  sendersHead: Sender | null = null;
  sendersTail: Sender | null = null;
  /** Threads waiting for this thread's reply. */
  replyWaitersHead: Thread | null = null;
  /** The implicit one-shot reply capability: who the next reply goes to. */
  replyTo: Thread | Irq | null = null;
  /** Threads in a closed receive from this thread (woken with an error if it dies). */
  closedWaitersHead: Thread | null = null;
  /** Links in the closed-waiter list of `partner` or `partnerIrq`. */
  cwNext: Thread | null = null;
  cwPrev: Thread | null = null;

  // --- exceptions ----------------------------------------------------------------------
  /** Capability index (in `task`) of the pager. */
  pagerCap = 0;
  /** Capability index (in `task`) of the exception handler; 0 for none. */
  excHandlerCap = 0;
  /** The thread is blocked in an exception IPC; its reply restarts or kills it. */
  inException = false;
  /** Last exception raised, for reports. */
  lastException: string | null = null;

  // --- page faults ---------------------------------------------------------------------
  /** The thread is blocked in a page-fault IPC to its pager. */
  inPageFault = false;
  /** That fault is an I/O page fault (a port), not a memory one. */
  pfIo = false;
  /** Address and access of the fault being resolved (the implicit receive window's hot spot). */
  pfAddress = 0;
  pfAccess = 0;
  /** WalkFault and translation level of that fault, for the exception if the pager cannot help. */
  pfFault = 0;
  pfLevel = 0;
  /** UTCB words and registers that the page-fault IPC borrowed, restored after it. */
  pfSaved: Float64Array | null = null;
  /** An exception to raise when the thread next runs (a fault no pager resolved). */
  pendingFault: ExceptionCause | null = null;
  /** Added to the exception's description, e.g. why the pager could not help. */
  pendingFaultNote = '';

  constructor(
    id: number,
    name: string,
    factory: KObject['factory'],
    kmem: number,
    utcb: Utcb,
    quantum: number,
  ) {
    super(id, name, factory, kmem);
    this.utcb = utcb;
    this.quantum = quantum;
    this.sliceLeft = quantum;
  }
}
