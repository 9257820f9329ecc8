import { capIndex, FIRST_FREE_SLOT, FixedSlot, Invoke, LOADER_SLOTS } from '../abi/caps';
import { memFpage, objFpage } from '../abi/fpage';
import { decodeKip, type KernelInterfacePage } from '../abi/kip';
import { msgtag } from '../abi/msgtag';
import { TIMEOUT_NEVER, TIMEOUT_ZERO, timeouts } from '../abi/timeout';
import type { Utcb } from '../abi/utcb';
import { l4Error } from './l4-error';
import { UserMemory } from './memory';
import { FactoryRef, IrqRef, LogRef, SchedulerRef, TaskRef, ThreadRef } from './objects';
import { UserPorts } from './ports';
import type { UserCode } from './program';
import { COMPUTE, type EntryPoint, SYSCALL, type SyscallRegisters, type ThreadPort } from './registers';

/**
 * Hands out free capability slots of a task, like L4Re's capability allocator. It
 * lives in the task's own memory, so all threads of a task share it.
 */
export class CapAllocator {
  private next = FIRST_FREE_SLOT;
  private readonly freed: number[] = [];

  /** A free capability index (slot << 12), never one of the loader's slots. */
  alloc(): number {
    const reused = this.freed.pop();
    if (reused !== undefined) return capIndex(reused);
    if (this.next === LOADER_SLOTS.first) this.next += LOADER_SLOTS.count;
    return capIndex(this.next++);
  }

  /** Gives a capability index back for reuse. */
  free(cap: number): void {
    this.freed.push(cap / 4096);
  }
}

/** Options for {@link ThreadEnv.spawn}. */
export interface SpawnOptions {
  readonly priority?: number;
  readonly cpu?: number;
  /** Start argument (the new thread's stack pointer). */
  readonly arg?: number;
  /** Exception handler capability index for the new thread (default: none). */
  readonly exceptionHandler?: number;
  /** Pager capability index for the new thread (default: none). */
  readonly pager?: number;
}

/**
 * The environment of one user thread: its registers and UTCB, the raw IPC
 * operations, and typed wrappers for the fixed capabilities.
 *
 * The raw operations load registers and return the kernel-entry token, so the
 * thread enters the kernel with a plain `yield` and no allocation:
 *
 * ```ts
 * const tag = yield env.call(gate, msgtag(0, 2));
 * ```
 *
 * The wrappers (`env.factory`, `env.task`, …) are generators used with `yield*`.
 */
export class ThreadEnv {
  readonly utcb: Utcb;
  readonly regs: SyscallRegisters;
  /** The start argument (the thread's initial stack pointer). */
  readonly arg: number;
  /** This thread's capability index in its task, or 0 when it has none. */
  readonly self: number;
  /** The task's shared capability-slot allocator. */
  readonly caps: CapAllocator;
  /** The task itself (slot 1). */
  readonly task: TaskRef;
  /** The task's factory (slot 2). */
  readonly factory: FactoryRef;
  /** The task's Log (slot 5). */
  readonly log: LogRef;
  /** The scheduler (slot 7). */
  readonly scheduler: SchedulerRef;
  /** The task's virtual memory: `yield* env.mem.readU32(va)` and friends. */
  readonly mem: UserMemory;
  /** x86 I/O ports: `yield* env.io.out8(port, v)` and friends. */
  readonly io: UserPorts;
  private readonly port: ThreadPort;

  constructor(port: ThreadPort, arg: number) {
    this.port = port;
    this.utcb = port.utcb;
    this.regs = port.regs;
    this.arg = arg;
    this.self = port.self;
    const mem = port.taskMemory;
    if (!(mem.capAllocator instanceof CapAllocator)) mem.capAllocator = new CapAllocator();
    this.caps = mem.capAllocator as CapAllocator;
    this.task = new TaskRef(this, capIndex(FixedSlot.TASK));
    this.factory = new FactoryRef(this, capIndex(FixedSlot.FACTORY));
    this.log = new LogRef(this, capIndex(FixedSlot.LOG));
    this.scheduler = new SchedulerRef(this, capIndex(FixedSlot.SCHEDULER));
    this.mem = new UserMemory(port.mem, port.regs);
    this.io = new UserPorts(port.regs);
  }

  /**
   * Virtual address of this thread's UTCB in its task (0 without memory): the message
   * registers are ordinary memory of the task, readable through {@link ThreadEnv.mem}.
   */
  get utcbAddress(): number {
    return this.port.utcbAddress;
  }

  /** Virtual address of the Kernel Interface Page in this task (0 without memory). */
  get kipAddress(): number {
    return this.port.kipAddress;
  }

  /**
   * Reads and decodes the Kernel Interface Page (X.2's KernelInterface): the memory
   * map, CPUs, page sizes and the kernel-reserved region.
   */
  *kernelInterface(): UserCode<KernelInterfacePage> {
    const page = yield* this.mem.read(this.port.kipAddress, 4096);
    const words = new DataView(page.buffer);
    return decodeKip((i) => words.getUint32(i * 8, true) + words.getUint32(i * 8 + 4, true) * 2 ** 32);
  }

  // --- raw kernel entries ------------------------------------------------------------

  /** Loads the invoke registers and returns the syscall token to `yield`. */
  invoke(capAndFlags: number, tag: number, timeoutsWord = 0): typeof SYSCALL {
    const r = this.regs;
    r.cap = capAndFlags;
    r.tag = tag;
    r.timeouts = timeoutsWord;
    return SYSCALL;
  }

  /** Call: send to `cap`, then wait for the reply (implicit reply capability). */
  call(cap: number, tag: number, timeoutsWord = 0): typeof SYSCALL {
    return this.invoke(cap | Invoke.CALL, tag, timeoutsWord);
  }

  /** Send only. */
  send(cap: number, tag: number, timeoutsWord = 0): typeof SYSCALL {
    return this.invoke(cap | Invoke.SEND, tag, timeoutsWord);
  }

  /** Closed receive from the thread or Irq `cap`. */
  receive(cap: number, timeoutsWord = 0): typeof SYSCALL {
    return this.invoke(cap | Invoke.RECV, 0, timeoutsWord);
  }

  /** Open wait: receive from any sender; the gate label is then in {@link ThreadEnv.label}. */
  wait(timeoutsWord = 0): typeof SYSCALL {
    return this.invoke(Invoke.WAIT, 0, timeoutsWord);
  }

  /** Reply through the implicit reply capability, without waiting. */
  reply(tag: number): typeof SYSCALL {
    return this.invoke(Invoke.SEND | Invoke.REPLY, tag, timeouts(TIMEOUT_ZERO, TIMEOUT_NEVER));
  }

  /** Reply, then open wait: the server loop's single system call. */
  replyAndWait(tag: number, timeoutsWord = 0): typeof SYSCALL {
    return this.invoke(Invoke.REPLY_AND_WAIT, tag, timeoutsWord);
  }

  /** Models `cycles` of user work on the virtual clock; `yield` it. */
  compute(cycles: number): typeof COMPUTE {
    this.regs.arg = cycles;
    return COMPUTE;
  }

  /** The label delivered by the last open wait (gate label + the sender's W/S rights). */
  get label(): number {
    return this.regs.label;
  }

  /** The L4Re-style error of a result tag: 0, −errno, or −(2000 + IPC error). */
  error(tag: number): number {
    return l4Error(tag, this.utcb);
  }

  /** The code address of `entry`, as a linker would assign it; use it with ex_regs. */
  addressOf(entry: EntryPoint | { readonly entry: EntryPoint }): number {
    return this.port.addressOf(typeof entry === 'function' ? entry : entry.entry);
  }

  // --- conveniences --------------------------------------------------------------------

  /** A wrapper for the thread capability `cap`. */
  thread(cap: number): ThreadRef {
    return new ThreadRef(this, cap);
  }

  /** A wrapper for the Irq capability `cap`. */
  irq(cap: number): IrqRef {
    return new IrqRef(this, cap);
  }

  /** Prints a line through the task's Log. */
  *print(text: string): UserCode<number> {
    return yield* this.log.print(text);
  }

  /**
   * Starts a new thread in this task at `entry`: create it from the task's factory,
   * bind it here, give it its priority and CPU, and set its IP. Returns the new
   * thread's capability index, or a negative error.
   */
  *spawn(entry: EntryPoint | { readonly entry: EntryPoint }, options: SpawnOptions = {}): UserCode<number> {
    const cap = this.caps.alloc();
    let err = yield* this.factory.createThread(cap);
    if (err < 0) return err;
    const t = new ThreadRef(this, cap);
    err = yield* t.control({
      bindTask: capIndex(FixedSlot.TASK),
      exceptionHandler: options.exceptionHandler ?? 0,
      pager: options.pager ?? 0,
    });
    if (err < 0) return err;
    if (options.priority !== undefined || options.cpu !== undefined) {
      err = yield* this.scheduler.runThread(cap, options.priority ?? 1, options.cpu ?? 0);
      if (err < 0) return err;
    }
    err = yield* t.exRegs(this.addressOf(entry), options.arg ?? 0);
    return err < 0 ? err : cap;
  }

  /**
   * Sets buffer register `brIndex` to a memory receive window: `2^order` bytes at `va`
   * (aligned), and ends the list after it.
   */
  receiveMemoryAt(va: number, order: number, brIndex = 0): void {
    this.utcb.setBr(brIndex, memFpage(va, order, 0));
    this.utcb.setBr(brIndex + 1, 0);
  }

  /** Sets buffer register 0 to receive one capability into `cap` (factory create, map). */
  receiveCapInto(cap: number, brIndex = 0): void {
    this.utcb.setBr(brIndex, objFpage(cap / 4096, 0, 0));
    this.utcb.setBr(brIndex + 1, 0);
  }

  /** Invokes a kernel object protocol with `words` MRs already set; returns l4Error. */
  *kernelCall(cap: number, label: number, words: number): UserCode<number> {
    const tag = yield this.call(cap, msgtag(label, words));
    return l4Error(tag, this.utcb);
  }
}
