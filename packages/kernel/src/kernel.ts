import { CapRights, capIndex, FixedSlot } from './abi/caps';
import { IpcError } from './abi/errors';
import { msgtag, tagHasError, tagLabel, tagWords } from './abi/msgtag';
import { Proto } from './abi/protocols';
import { TIMEOUT_NEVER } from './abi/timeout';
import { UtcbAllocator } from './abi/utcb';
import { type Cap, CapSpace } from './cap/cap-space';
import { createRoot, removeSubtree } from './cap/mapdb';
import { invokeCapability } from './ipc/invoke';
import { abortIpc, failIpc, raiseIrq, sendMessage } from './ipc/ipc';
import { handleMemoryAccess, handlePortAccess } from './ipc/page-fault';
import { dequeueSender, enqueueSender } from './ipc/sender-queue';
import { IoSpace } from './mem/io-space';
import { KernelMemory } from './mem/kernel-memory';
import { MemoryPort } from './mem/memory-port';
import { Factory } from './objects/factory';
import { abortSendersVia } from './objects/gate-ops';
import { Icu } from './objects/icu';
import { unbindLine } from './objects/icu-ops';
import { IpcGate } from './objects/ipc-gate';
import { Irq } from './objects/irq';
import { KernelMemoryCost, type KObject, ObjectKind } from './objects/kobject';
import { Log } from './objects/log';
import { Scheduler } from './objects/scheduler';
import { Task } from './objects/task';
import { type DeathReason, Thread, ThreadState } from './objects/thread';
import type { ExceptionCause, Platform } from './platform/platform';
import { describeException, describeWait } from './report';
import { Cpu } from './sched/cpu';
import { SplitMix32 } from './sched/random';
import { PRIORITY_LEVELS } from './sched/run-queue';
import { TimerQueue } from './sched/timer-queue';
import { dbg, debugFlags } from './trace/debug';
import { EventBit, KernelEvents, type LogEvent } from './trace/events';
import { CodeRegistry } from './user/code-registry';
import { COMPUTE, type EntryPoint, MEMORY, PORT_IO, SYSCALL } from './user/registers';

/** Options for {@link Kernel}. */
export interface KernelOptions {
  /** The machine to run on. */
  readonly platform: Platform;
  /** Number of simulated CPUs (default 1). */
  readonly cpus?: number;
  /** Seed for the deterministic tie-breaking between CPUs (default 0). */
  readonly seed?: number;
  /** Kernel memory of the root factory, in bytes (default 64 MiB). */
  readonly kernelMemory?: number;
  /**
   * Physical RAM the kernel keeps for page tables, UTCBs and the KIP, in bytes, taken
   * from the top of RAM (default: an eighth of RAM, at least 1 MiB). The rest of RAM
   * belongs to sigma0. Ignored on a platform without memory.
   */
  readonly kernelRam?: number;
  /**
   * Receives every Log write. Without one, the kernel keeps the output in
   * {@link Kernel.logOutput}.
   */
  readonly logSink?: (e: LogEvent) => void;
  /**
   * Use the IPC fastpath (default true). Turning it off changes nothing observable
   * but speed; the tests run workloads both ways and compare.
   */
  readonly fastpath?: boolean;
}

/** Limits for {@link Kernel.run}. */
export interface RunLimits {
  /** Stop once virtual time would pass this many cycles. */
  readonly maxTime?: number;
  /** Stop after this many thread resumptions in this call. */
  readonly maxSteps?: number;
}

/**
 * Why {@link Kernel.run} returned:
 * - `exited`: every started thread has finished or died;
 * - `idle`: nothing can run, and every remaining thread is in an open wait (servers
 *   waiting for clients that are gone) or waits for an interrupt — a normal end for a
 *   client/server system;
 * - `deadlock`: nothing can run, and some thread waits for a particular thread (send,
 *   call, reply or closed receive) that can never come;
 * - `time-limit` / `step-limit`: a {@link RunLimits} bound was reached.
 */
export type StopReason = 'exited' | 'idle' | 'deadlock' | 'time-limit' | 'step-limit';

/** A thread that was blocked when the run stopped. */
export interface BlockedThread {
  readonly thread: string;
  readonly state: ThreadState;
  /** What it waits for, in words: e.g. `reply from "server"`. */
  readonly waitingFor: string;
}

/** A thread that died during the run. */
export interface DeadThread {
  readonly thread: string;
  readonly reason: DeathReason;
  /** The unhandled exception that stopped it, if that is why. */
  readonly exception: string | null;
}

/** What {@link Kernel.run} reports. */
export interface RunResult {
  readonly reason: StopReason;
  /** Virtual time reached, in cycles (the furthest CPU). */
  readonly time: number;
  /** Thread resumptions in this kernel's lifetime. */
  readonly steps: number;
  /** Messages transferred in this kernel's lifetime. */
  readonly ipcCount: number;
  /** Threads that exist. */
  readonly threads: number;
  readonly blocked: readonly BlockedThread[];
  readonly dead: readonly DeadThread[];
  /** One-paragraph summary for people. */
  readonly message: string;
}

/** Options for {@link Kernel.createThread}. */
export interface ThreadOptions {
  readonly name?: string;
  /** Priority 0–255 (default 1). */
  readonly priority?: number;
  /** CPU index (default 0). */
  readonly cpu?: number;
  /** Start argument, passed as the stack pointer (default 0). */
  readonly arg?: number;
  /** Capability index, in the thread's task, of its exception handler. */
  readonly exceptionHandler?: number;
  /** Capability index, in the thread's task, of its pager. */
  readonly pager?: number;
  /** Round-robin quantum in cycles (default: the platform's time slice). */
  readonly quantum?: number;
  /** Do not start it: leave it inactive until an ex_regs sets its IP. */
  readonly inactive?: boolean;
  /**
   * Slot of the task's capability table for the thread's own capability. Default:
   * slot 3 while that slot is empty (so normally the task's first thread); otherwise
   * none.
   */
  readonly slot?: number;
}

/** Options for {@link Kernel.createTask}. */
export interface TaskOptions {
  /** Kernel-memory quota of the task's own factory, in bytes (default 1 MiB). */
  readonly kernelMemory?: number;
  /** Give the task a capability to the root scheduler (default true). */
  readonly scheduler?: boolean;
  /** Give the task the Icu (slot 6), when the platform has one (default false). */
  readonly icu?: boolean;
  /**
   * Make this the sigma0 task: its address space receives the root mappings of all RAM
   * (except the kernel's) and all device MMIO, one to one, and its I/O space all I/O
   * ports. Only one task can have them (default false).
   */
  readonly sigma0?: boolean;
}

const DEFAULT_KERNEL_MEMORY = 64 * 1024 * 1024;
const DEFAULT_TASK_KERNEL_MEMORY = 1024 * 1024;
/** Cycles per page-table level of a TLB miss when the cost model gives none. */
const DEFAULT_WALK_LEVEL_CYCLES = 25;
/** Cycles per device register access when the cost model gives none. */
const DEFAULT_DEVICE_ACCESS_CYCLES = 100;
/** Priority of threads nobody gave one (Fiasco's default for new threads is low, too). */
export const DEFAULT_PRIORITY = 1;

/**
 * The Pecan kernel: kernel objects, capabilities, IPC and scheduling over a
 * {@link Platform}, with user threads as generators it alone resumes.
 *
 * Host code boots a system through the methods below (the part a boot loader and root
 * task would play), then calls {@link Kernel.run}. Everything user threads do goes
 * through the invoke syscall; nothing they do makes the kernel throw.
 */
export class Kernel {
  readonly platform: Platform;
  readonly cpus: readonly Cpu[];
  readonly events = new KernelEvents();
  readonly code = new CodeRegistry();
  readonly timers = new TimerQueue<Thread>();
  /** Every live kernel object. */
  readonly objects = new Set<KObject>();
  /** Every live thread, in creation order. */
  readonly threads = new Set<Thread>();
  /** The factory at the root of all kernel memory. */
  readonly rootFactory: Factory;
  /** The scheduler that allows every priority on every CPU. */
  readonly rootScheduler: Scheduler;
  /** The capability space that holds the root mapping of every boot-time object. */
  readonly bootSpace: CapSpace;
  /** The interrupt-controller object, when the platform has hardware interrupts. */
  readonly icu: Icu | null;
  /** RAM, page tables and the KIP; null on a platform without memory. */
  readonly memory: KernelMemory | null;
  /** The task that holds the root mappings of all memory, once created. */
  sigma0: Task | null = null;
  /** Log output, when no `logSink` was given. */
  readonly logOutput: LogEvent[] = [];
  /** Messages transferred so far. */
  ipcCount = 0;
  /** Whether the IPC fastpath is on (see ipc/fastpath.ts). */
  readonly fastpath: boolean;
  /** Thread resumptions so far. */
  steps = 0;

  // Cost model, cached as fields for the fast path.
  readonly cEntry: number;
  readonly cIpc: number;
  readonly cWord: number;
  readonly cItem: number;
  readonly cSwitch: number;
  readonly cSpace: number;
  readonly cKop: number;
  readonly cExc: number;
  /** Cycles per page-table level read on a TLB miss. */
  readonly cWalk: number;
  /** Cycles per device register access. */
  readonly cDev: number;
  /** Cycles per microsecond, for IPC timeouts. */
  readonly cyclesPerUs: number;
  /** CPU cycles per tick of the platform's timer (1 without a timer). */
  readonly cyclesPerTick: number;
  /** Number of registers in a thread's register file. */
  private readonly registerCount: number;
  /** Register-file indices of the syscall ABI's registers and of IP, SP and flags (−1: none). */
  private readonly regIndex: {
    cap: number;
    tag: number;
    timeouts: number;
    label: number;
    ip: number;
    sp: number;
    flags: number;
  };

  private readonly utcbs: UtcbAllocator;
  private readonly logSink: (e: LogEvent) => void;
  private readonly bootRoots = new Map<KObject, Cap>();
  private readonly reapQueue: KObject[] = [];
  /** CPU indices in the order that breaks ties between CPUs at the same time. */
  private readonly cpuOrder: number[];
  /** `debug` namespaces enabled when the kernel was made (see trace/debug.ts). */
  readonly debug = debugFlags();
  /** Cached `debug.sched`: read on every switch. */
  readonly debugSched = this.debug.sched;
  private nextId = 1;
  private nextBootSlot = 1;
  /** Set when something may have moved the next event before the running horizon. */
  private horizonDirty = false;
  /** The CPU whose threads {@link Kernel.run} is executing right now. */
  private runningCpu: Cpu | null = null;

  constructor(options: KernelOptions) {
    const { platform } = options;
    const cpus = options.cpus ?? 1;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > 32) {
      throw new RangeError(`Kernel: cpus must be an integer from 1 to 32, got ${cpus}`);
    }
    const kmem = options.kernelMemory ?? DEFAULT_KERNEL_MEMORY;
    if (!Number.isSafeInteger(kmem) || kmem <= 0) {
      throw new RangeError(`Kernel: kernelMemory must be a positive integer byte count, got ${kmem}`);
    }
    this.platform = platform;
    this.fastpath = options.fastpath ?? true;
    this.cpus = Array.from({ length: cpus }, (_, i) => new Cpu(i));
    this.cpuOrder = new SplitMix32(options.seed ?? 0).permutation(cpus);
    this.utcbs = new UtcbAllocator(platform.utcbLayout);
    this.logSink = options.logSink ?? ((e) => this.logOutput.push(e));
    const c = platform.cost;
    this.cEntry = c.kernelEntry;
    this.cIpc = c.ipc;
    this.cWord = c.perWord;
    this.cItem = c.perItem;
    this.cSwitch = c.threadSwitch;
    this.cSpace = c.spaceSwitch;
    this.cKop = c.kernelObjectOp;
    this.cExc = c.exception;
    this.cWalk = c.pageWalkLevel ?? DEFAULT_WALK_LEVEL_CYCLES;
    this.cDev = c.deviceAccess ?? DEFAULT_DEVICE_ACCESS_CYCLES;
    this.cyclesPerUs = platform.cpuHz / 1e6;
    const timer = platform.timer;
    this.cyclesPerTick = timer && timer.frequencyHz > 0 ? platform.cpuHz / timer.frequencyHz : 1;
    const names = platform.registers.names;
    const sc = platform.registers.syscall;
    this.registerCount = names.length;
    this.regIndex = {
      cap: names.indexOf(sc.capAndFlags),
      tag: names.indexOf(sc.tag),
      timeouts: names.indexOf(sc.timeouts),
      label: names.indexOf(sc.label),
      ip: names.indexOf(platform.registers.ip),
      sp: names.indexOf(platform.registers.sp),
      flags: names.indexOf(platform.registers.flags),
    };

    this.memory = platform.memory
      ? new KernelMemory(platform.memory, {
          ...(options.kernelRam === undefined ? {} : { kernelRam: options.kernelRam }),
          cpus,
          cpuHz: platform.cpuHz,
          ioPorts: platform.ioPorts ?? 0,
          utcbLayout: platform.utcbLayout,
          devices: platform.devices ?? [],
          timer: platform.timer ?? null,
        })
      : null;
    this.bootSpace = new CapSpace((o) => this.reapQueue.push(o));
    this.rootFactory = new Factory(this.nextId++, 'root-factory', null, 0, kmem);
    this.adoptBootObject(this.rootFactory);
    this.rootScheduler = new Scheduler(
      this.nextId++,
      'root-scheduler',
      null,
      0,
      PRIORITY_LEVELS - 1,
      2 ** cpus - 1,
    );
    this.adoptBootObject(this.rootScheduler);
    platform.connectClock?.(() => this.now());
    const ic = platform.interrupts;
    this.icu = ic ? new Icu(this.nextId++, 'icu', ic) : null;
    if (this.icu && ic) {
      this.adoptBootObject(this.icu);
      ic.onPending = (cpu) => this.takeInterrupts(cpu);
    }
  }

  /**
   * The controller has interrupts pending for `cpuIndex`: acknowledge each, mask its
   * line until the handler unmasks it (Fiasco's mask-and-ack), signal end of interrupt,
   * and raise the bound Irq. A line nobody bound stays masked.
   */
  private takeInterrupts(cpuIndex: number): void {
    const icu = this.icu;
    if (!icu) return;
    const ic = icu.controller;
    const cpu = this.cpus[cpuIndex] ?? this.cpus[0]!;
    for (let line = ic.acknowledge(cpuIndex); line >= 0; line = ic.acknowledge(cpuIndex)) {
      ic.mask(line);
      ic.endOfInterrupt(cpuIndex, line);
      const irq = icu.bound.get(line);
      if (irq) raiseIrq(this, cpu, irq);
    }
  }

  // ===================================================================================
  // Object creation. Each returns null when the factory's quota does not cover it;
  // callers turn that into ENOMEM.

  private register<T extends KObject>(obj: T): T {
    this.objects.add(obj);
    if (dbg.obj.enabled) dbg.obj('create %s #%d %s', obj.kind, obj.id, obj.name);
    return obj;
  }

  /** Charges `bytes` to `factory`; false when the quota is spent. */
  private chargeKmem(factory: Factory, bytes: number): boolean {
    return factory.alive && factory.charge(bytes);
  }

  /**
   * Creates a task paid by `factory`: with memory, its address space (the KIP mapped)
   * and I/O space, whose page tables are charged to the same factory.
   */
  newTask(factory: Factory, name: string): Task | null {
    const cost = KernelMemoryCost.task;
    if (!this.chargeKmem(factory, cost)) return null;
    const task = new Task(this.nextId++, name, factory, cost, (o) => this.reapQueue.push(o));
    if (this.memory) {
      const made = this.memory.createSpace({
        charge: (bytes) => this.chargeKmem(factory, bytes),
        refund: (bytes) => this.releaseKmem(factory, bytes),
      });
      if (!made) {
        this.releaseKmem(factory, cost);
        return null;
      }
      task.space = made.space;
      task.utcbs = made.utcbs;
      task.memPort = new MemoryPort(made.space, this.memory.ram.buffer);
    }
    if (this.platform.ioPorts) task.io = new IoSpace(this.platform.ioPorts);
    task.userland = {};
    return this.register(task);
  }

  /** Creates an unbound, inactive thread paid by `factory`. */
  newThread(factory: Factory, name: string): Thread | null {
    const cost = KernelMemoryCost.thread;
    if (!this.chargeKmem(factory, cost)) return null;
    const t = new Thread(
      this.nextId++,
      name,
      factory,
      cost,
      this.utcbs.allocate(),
      this.platform.defaultTimeSlice,
    );
    t.prio = DEFAULT_PRIORITY;
    t.gprs = new Float64Array(this.registerCount);
    this.threads.add(t);
    this.register(t);
    if (this.events.active & EventBit.thread)
      this.events.emit('thread', { type: 'create', thread: t, time: this.now() });
    return t;
  }

  /** Creates an IPC gate, bound to `thread` if given. `label` must have its two low bits clear. */
  newGate(factory: Factory, name: string, thread: Thread | null, label: number): IpcGate | null {
    const cost = KernelMemoryCost['ipc-gate'];
    if (!this.chargeKmem(factory, cost)) return null;
    const g = new IpcGate(this.nextId++, name, factory, cost);
    g.thread = thread;
    g.label = label;
    return this.register(g);
  }

  /** Creates an Irq. */
  newIrq(factory: Factory, name: string): Irq | null {
    const cost = KernelMemoryCost.irq;
    if (!this.chargeKmem(factory, cost)) return null;
    return this.register(new Irq(this.nextId++, name, factory, cost));
  }

  /** Creates a Log object whose output is tagged `tag`. */
  newLog(factory: Factory, tag: string): Log | null {
    const cost = KernelMemoryCost.log;
    if (!this.chargeKmem(factory, cost)) return null;
    return this.register(new Log(this.nextId++, `log:${tag}`, factory, cost, tag));
  }

  /** Creates a scheduler limited to `maxPrio` and the CPUs in `cpuMask`. */
  newScheduler(factory: Factory, name: string, maxPrio: number, cpuMask: number): Scheduler | null {
    const cost = KernelMemoryCost.scheduler;
    if (!this.chargeKmem(factory, cost)) return null;
    return this.register(new Scheduler(this.nextId++, name, factory, cost, maxPrio, cpuMask));
  }

  /** Creates a sub-factory with `limit` bytes, charging the whole limit to `parent`. */
  newFactory(parent: Factory, name: string, limit: number): Factory | null {
    const cost = KernelMemoryCost.factory + limit;
    if (!this.chargeKmem(parent, cost)) return null;
    return this.register(new Factory(this.nextId++, name, parent, cost, limit));
  }

  // ===================================================================================
  // Host-side boot API: what a boot loader and root task do before user code runs.

  private adoptBootObject(obj: KObject): Cap {
    this.objects.add(obj);
    const root = createRoot(this.bootSpace, this.nextBootSlot++, CapRights.ALL, obj);
    this.bootSpace.install(root);
    this.bootRoots.set(obj, root);
    return root;
  }

  private bootOrThrow<T extends KObject>(obj: T | null, what: string): T {
    if (!obj)
      throw new Error(
        `Kernel: out of kernel memory creating ${what}; raise kernelMemory or the task's quota`,
      );
    this.adoptBootObject(obj);
    return obj;
  }

  /**
   * Creates a task with the fixed capabilities a Fiasco.OC task starts with: itself
   * (slot 1), its own factory with `kernelMemory` bytes (slot 2), a Log tagged with
   * its name (slot 5) and the root scheduler (slot 7). Threads created with
   * {@link Kernel.createThread} fill slot 3.
   */
  createTask(name: string, options: TaskOptions = {}): Task {
    const quota = options.kernelMemory ?? DEFAULT_TASK_KERNEL_MEMORY;
    if (!Number.isSafeInteger(quota) || quota < 0) {
      throw new RangeError(
        `createTask(${JSON.stringify(name)}): kernelMemory must be a non-negative integer`,
      );
    }
    if (options.sigma0 && this.sigma0) {
      throw new Error(`createTask(${JSON.stringify(name)}): "${this.sigma0.name}" is already sigma0`);
    }
    const task = this.bootOrThrow(this.newTask(this.rootFactory, name), `task ${name}`);
    if (options.sigma0) this.giveAllMemory(task);
    const factory = this.bootOrThrow(
      this.newFactory(this.rootFactory, `${name}.factory`, quota),
      `factory of ${name}`,
    );
    const log = this.bootOrThrow(this.newLog(this.rootFactory, name), `log of ${name}`);
    this.mapCap(task, FixedSlot.TASK, task, CapRights.ALL);
    this.mapCap(task, FixedSlot.FACTORY, factory, CapRights.ALL);
    this.mapCap(task, FixedSlot.LOG, log, CapRights.RW);
    if (options.scheduler ?? true) this.mapCap(task, FixedSlot.SCHEDULER, this.rootScheduler, CapRights.RWS);
    if (options.icu && this.icu) this.mapCap(task, FixedSlot.ICU, this.icu, CapRights.RW);
    return task;
  }

  /** Gives `task` the root mappings of all memory and I/O ports: it becomes sigma0. */
  private giveAllMemory(task: Task): void {
    if (task.space && this.memory && !this.memory.mapAllMemory(task.space)) {
      throw new Error('Kernel: out of kernel memory mapping all memory into sigma0; raise kernelRam');
    }
    task.io?.mapAllPorts();
    this.sigma0 = task;
  }

  /**
   * Creates a thread in `task` that runs `entry` (a {@link Program} or entry point),
   * paid by the task's factory, and starts it unless `inactive` is set. Its capability
   * goes to `options.slot`, or to slot 3 if that is still free.
   */
  createThread(
    task: Task,
    entry: EntryPoint | { readonly entry: EntryPoint },
    options: ThreadOptions = {},
  ): Thread {
    const name = options.name ?? `${task.name}.thread${task.threads.size}`;
    const factoryCap = task.caps.lookup(FixedSlot.FACTORY);
    const factory = factoryCap?.payload instanceof Factory ? factoryCap.payload : this.rootFactory;
    const t = this.bootOrThrow(this.newThread(factory, name), `thread ${name}`);
    const prio = options.priority ?? DEFAULT_PRIORITY;
    const cpu = options.cpu ?? 0;
    if (!Number.isInteger(prio) || prio < 0 || prio >= PRIORITY_LEVELS) {
      throw new RangeError(`createThread(${name}): priority must be an integer from 0 to 255, got ${prio}`);
    }
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.cpus.length) {
      throw new RangeError(
        `createThread(${name}): cpu must be from 0 to ${this.cpus.length - 1}, got ${cpu}`,
      );
    }
    if (options.quantum !== undefined) {
      if (!Number.isSafeInteger(options.quantum) || options.quantum <= 0) {
        throw new RangeError(`createThread(${name}): quantum must be a positive integer cycle count`);
      }
      t.quantum = options.quantum;
      t.sliceLeft = options.quantum;
    }
    const slot = options.slot ?? (task.caps.lookup(FixedSlot.THREAD) ? 0 : FixedSlot.THREAD);
    if (slot !== 0) this.mapCap(task, slot, t, CapRights.ALL);
    t.prio = prio;
    t.cpu = cpu;
    t.excHandlerCap = options.exceptionHandler ?? 0;
    t.pagerCap = options.pager ?? 0;
    if (!this.bindThread(t, task, slot === 0 ? 0 : capIndex(slot))) {
      throw new Error(
        `createThread(${name}): no room for a UTCB in task "${task.name}"; raise its quota or kernelRam`,
      );
    }
    t.ip = this.code.addressOf(typeof entry === 'function' ? entry : entry.entry);
    t.sp = options.arg ?? 0;
    if (!options.inactive) this.startThread(t, this.now());
    return t;
  }

  /** Creates an IPC gate bound to `thread`, with `label` (two low bits clear). */
  createGate(thread: Thread | null, label: number, name = `gate:${label}`): IpcGate {
    if (!Number.isSafeInteger(label) || label < 0 || (label & 3) !== 0) {
      throw new RangeError(
        `createGate(${name}): label must be a non-negative safe integer with bits 0–1 clear`,
      );
    }
    return this.bootOrThrow(this.newGate(this.rootFactory, name, thread, label), `gate ${name}`);
  }

  /** Creates an Irq object (software-triggered until a back end binds a line to it). */
  createIrq(name: string): Irq {
    return this.bootOrThrow(this.newIrq(this.rootFactory, name), `irq ${name}`);
  }

  /** Creates a scheduler limited to `maxPrio` on the CPUs of `cpuMask`. */
  createScheduler(name: string, maxPrio: number, cpuMask = 2 ** this.cpus.length - 1): Scheduler {
    return this.bootOrThrow(this.newScheduler(this.rootFactory, name, maxPrio, cpuMask), `scheduler ${name}`);
  }

  /**
   * Puts a capability to boot-time object `obj` into `slot` of `task`, derived from
   * the object's root mapping with `rights`. The slot must be empty.
   */
  mapCap(task: Task, slot: number, obj: KObject, rights: number): void {
    const root = this.bootRoots.get(obj);
    if (!root) throw new Error(`mapCap: ${obj.kind} "${obj.name}" was not created through the host API`);
    if (!CapSpace.validSlot(slot))
      throw new RangeError(`mapCap: slot ${slot} is outside the capability table`);
    if (task.caps.lookup(slot))
      throw new Error(`mapCap: slot ${slot} of task "${task.name}" is already occupied`);
    task.caps.deriveInto(root, slot, rights);
  }

  /** Destroys a boot-time object: revokes every capability to it in every task. */
  deleteObject(obj: KObject): void {
    const root = this.bootRoots.get(obj);
    if (!root)
      throw new Error(`deleteObject: ${obj.kind} "${obj.name}" was not created through the host API`);
    removeSubtree(root);
    this.reap();
  }

  // ===================================================================================
  // Thread lifecycle.

  /**
   * Binds `t` to `task` and gives it its user-visible port. With memory, the thread's
   * UTCB moves into the task's UTCB area; returns false (nothing changed) when the task
   * cannot pay for it.
   */
  bindThread(t: Thread, task: Task, selfCap: number): boolean {
    if (task.utcbs) {
      const u = task.utcbs.allocate();
      if (!u) return false;
      this.releaseUtcb(t);
      t.utcb = u;
      t.utcbAddress = task.utcbs.addressOf(u);
    } else if (t.task?.utcbs) {
      this.releaseUtcb(t);
      t.utcb = this.utcbs.allocate();
      t.utcbAddress = 0;
    }
    t.task?.threads.delete(t);
    t.task = task;
    task.threads.add(t);
    t.port = {
      regs: t.regs,
      utcb: t.utcb,
      taskMemory: task.userland as Record<string, unknown>,
      self: selfCap,
      addressOf: this.addressOf,
      mem: task.memPort,
      kipAddress: this.memory?.kipAddress ?? 0,
      utcbAddress: t.utcbAddress,
    };
    return true;
  }

  /** Gives `t`'s UTCB back to wherever it came from. */
  private releaseUtcb(t: Thread): void {
    if (t.task?.utcbs && t.utcbAddress !== 0) t.task.utcbs.release(t.utcb);
    else this.utcbs.release(t.utcb);
  }

  private readonly addressOf = (entry: EntryPoint): number => this.code.addressOf(entry);

  /** Makes an inactive or dead, bound thread run from its IP. */
  startThread(t: Thread, now: number): void {
    t.body = null;
    t.restartPending = true;
    t.deathReason = null;
    t.computeLeft = 0;
    if (this.events.active & EventBit.thread)
      this.events.emit('thread', { type: 'start', thread: t, time: now });
    this.makeReady(t, now);
  }

  /** Creates a fresh body at `t.ip`; false when nothing is registered there. */
  private loadBody(t: Thread): boolean {
    const entry = this.code.lookup(t.ip);
    t.restartPending = false;
    if (!entry || !t.port) return false;
    t.body = entry(t.port, t.sp);
    t.resumeValue = 0;
    return true;
  }

  // ===================================================================================
  // Scheduling.

  /** The furthest virtual time any CPU has reached. */
  now(): number {
    let t = 0;
    for (const c of this.cpus) if (c.time > t) t = c.time;
    return t;
  }

  /** Charges `cycles` of kernel work on `cpu` to thread `t`. */
  chargeCycles(cpu: Cpu, t: Thread, cycles: number): void {
    cpu.time += cycles;
    t.cyclesUsed += cycles;
    t.sliceLeft -= cycles;
  }

  /** Brings an idle or computing CPU's clock forward to `now`. */
  private syncCpu(cpu: Cpu, now: number): void {
    if (cpu.time >= now) return;
    const t = cpu.current;
    if (!t) {
      cpu.idleCycles += now - cpu.time;
    } else if (t.computeLeft > 0) {
      const d = Math.min(now - cpu.time, t.computeLeft);
      t.computeLeft -= d;
      t.cyclesUsed += d;
      t.sliceLeft -= d;
    }
    cpu.time = now;
  }

  /** Puts `next` on `cpu` (which has no current thread) and charges the switch. */
  dispatch(cpu: Cpu, next: Thread | null): void {
    const from = cpu.lastThread;
    cpu.current = next;
    if (next) {
      cpu.lastThread = next;
      cpu.switches++;
      const task = next.task;
      const c = this.cSwitch + (cpu.lastTask !== task ? this.cSpace : 0);
      cpu.lastTask = task;
      cpu.time += c;
      next.cyclesUsed += c;
      if (next.sliceLeft <= 0) next.sliceLeft = next.quantum;
    }
    if (this.events.active & EventBit.schedule) {
      this.events.emit('schedule', { cpu: cpu.index, from, to: next, time: cpu.time });
    }
    if (this.debugSched) dbg.sched('cpu%d @%d -> %s', cpu.index, cpu.time, next?.name ?? 'idle');
  }

  /**
   * Makes `t` READY on its CPU at time `now` (the waker's time): it runs at once if the
   * CPU is idle or runs something of lower priority, else it queues behind its equals.
   */
  makeReady(t: Thread, now: number): void {
    t.state = ThreadState.READY;
    const cpu = this.cpus[t.cpu]!;
    const cur = cpu.current;
    // Another CPU's next event moves: the running CPU must re-check its horizon.
    if (cpu !== this.runningCpu) this.horizonDirty = true;
    if (cur === null) {
      this.syncCpu(cpu, now);
      this.dispatch(cpu, t);
    } else if (t.prio > cur.prio) {
      this.syncCpu(cpu, now);
      cpu.runQueue.enqueueFront(cur);
      cpu.current = null;
      this.dispatch(cpu, t);
    } else {
      cpu.runQueue.enqueue(t);
    }
  }

  /**
   * The current thread of `cpu` has blocked (its state is already set): run `next`
   * if it was woken by this operation and may run here now (direct switch, as L4's
   * IPC path does), otherwise the highest-priority ready thread.
   */
  blockAndSwitch(cpu: Cpu, next: Thread | null): void {
    cpu.current = null;
    if (next !== null) {
      next.state = ThreadState.READY;
      if (next.cpu === cpu.index && cpu.runQueue.highestPriority() <= next.prio) {
        this.dispatch(cpu, next);
        return;
      }
      this.makeReady(next, cpu.time);
      if (cpu.current !== null) return;
    }
    this.dispatch(cpu, cpu.runQueue.dequeueHighest() as Thread | null);
  }

  /** Removes `t` from wherever the scheduler holds it (CPU or run queue). */
  descheduled(t: Thread): void {
    const cpu = this.cpus[t.cpu]!;
    if (cpu.current === t) {
      cpu.current = null;
      this.dispatch(cpu, cpu.runQueue.dequeueHighest() as Thread | null);
    } else if (t.queued) {
      cpu.runQueue.remove(t);
    }
  }

  /** Changes priority, CPU and quantum of `t`, keeping the scheduler's invariants. */
  setSchedParams(t: Thread, prio: number, cpuIndex: number, quantum: number): void {
    if (quantum > 0) t.quantum = quantum;
    const wasReady = t.state === ThreadState.READY;
    const now = this.now();
    if (wasReady) this.descheduled(t);
    // A blocked sender's place in its receiver's queue depends on its priority.
    const queuedOn = t.state === ThreadState.SEND_WAIT ? t.qOwner : null;
    if (queuedOn) dequeueSender(queuedOn, t);
    t.prio = prio;
    t.cpu = cpuIndex;
    if (queuedOn) enqueueSender(queuedOn, t);
    if (wasReady) this.makeReady(t, now);
  }

  /** The current thread used up its slice: round robin among its equals. */
  private sliceExpired(cpu: Cpu, t: Thread): void {
    t.sliceLeft = t.quantum;
    if (cpu.runQueue.highestPriority() >= t.prio) {
      cpu.runQueue.enqueue(t);
      cpu.current = null;
      this.dispatch(cpu, cpu.runQueue.dequeueHighest() as Thread | null);
    }
  }

  /** Thread yields its CPU to equals (Thread.switch without a ready target). */
  yieldCpu(cpu: Cpu, t: Thread): void {
    if (cpu.runQueue.highestPriority() >= t.prio) {
      cpu.runQueue.enqueue(t);
      cpu.current = null;
      this.dispatch(cpu, cpu.runQueue.dequeueHighest() as Thread | null);
    }
  }

  /**
   * The first tick of the platform's timer at or after `cycles`: timeouts fire on the
   * timer the kernel schedules on (LAPIC timer, generic timer), so they are rounded up
   * to its period. Without a timer the cycle is the tick.
   */
  timerDeadline(cycles: number): number {
    const p = this.cyclesPerTick;
    return p <= 1 ? cycles : Math.ceil(Math.ceil(cycles / p) * p);
  }

  /** Arms a timeout for blocked thread `t`. */
  armTimeout(t: Thread, at: number): void {
    this.timers.arm(t, at);
    this.horizonDirty = true;
  }

  // ===================================================================================
  // The run loop.

  /**
   * Runs the system until no thread can ever run again, or a limit is reached, and
   * reports why it stopped. May be called again to continue.
   */
  run(limits: RunLimits = {}): RunResult {
    const maxTime = limits.maxTime ?? Number.POSITIVE_INFINITY;
    // maxSteps counts the resumptions of this call, not of the kernel's lifetime.
    const maxSteps = this.steps + (limits.maxSteps ?? Number.POSITIVE_INFINITY);
    const cpus = this.cpus;
    const order = this.cpuOrder;
    for (;;) {
      let best: Cpu | null = null;
      let bestTime = Number.POSITIVE_INFINITY;
      let horizon = Number.POSITIVE_INFINITY;
      for (let k = 0; k < order.length; k++) {
        const c = cpus[order[k]!]!;
        const t = c.nextEventTime();
        if (t < bestTime) {
          if (bestTime < horizon) horizon = bestTime;
          best = c;
          bestTime = t;
        } else if (t < horizon) horizon = t;
      }
      const timerTime = this.timers.nextTime();
      if (timerTime <= bestTime && timerTime !== Number.POSITIVE_INFINITY) {
        if (timerTime > maxTime) return this.stop('time-limit');
        this.fireTimeout(this.timers.pop()!, timerTime);
        continue;
      }
      if (best === null) return this.stop(this.quiescentReason());
      if (bestTime > maxTime) return this.stop('time-limit');
      if (this.steps >= maxSteps) return this.stop('step-limit');
      if (timerTime < horizon) horizon = timerTime;
      this.horizonDirty = false;
      this.runningCpu = best;
      this.runCpu(best, horizon, maxSteps, maxTime);
      this.runningCpu = null;
    }
  }

  /**
   * Like {@link Kernel.run}, but when every thread is blocked while the machine has
   * host-side work in flight (a disk backed by a file), waits for that work — the CPU
   * halting until the interrupt — and goes on. Resolves when the system is quiescent
   * with nothing in flight, or at a limit.
   */
  async runAsync(limits: RunLimits = {}): Promise<RunResult> {
    const events = this.platform.hostEvents;
    for (;;) {
      const r = this.run(limits);
      const quiet = r.reason === 'idle' || r.reason === 'deadlock' || r.reason === 'exited';
      if (!quiet || !events || events.pending === 0) return r;
      await events.settled();
    }
  }

  /** Runs `cpu` until its next event would reach `horizon` or something changed. */
  private runCpu(cpu: Cpu, horizon: number, maxSteps: number, maxTime: number): void {
    let steps = this.steps;
    for (;;) {
      const t = cpu.current;
      if (t === null) break;
      if (t.computeLeft > 0) {
        this.advanceCompute(cpu, t);
        if (this.horizonDirty || cpu.time > maxTime || cpu.nextEventTime() >= horizon) break;
        continue;
      }
      if (steps >= maxSteps) break;
      steps++;
      this.resume(cpu, t);
      if (this.horizonDirty || cpu.time > maxTime) break;
      // Most steps end with a thread about to run user code, whose next event is now;
      // only a computing thread's lies ahead of cpu.time.
      const next = cpu.current;
      if (next !== null && (next.computeLeft > 0 ? cpu.nextEventTime() : cpu.time) >= horizon) break;
    }
    this.steps = steps;
  }

  /** Runs one piece of `t`'s user code, up to its next kernel entry, and handles it. */
  private resume(cpu: Cpu, t: Thread): void {
    if (t.restartPending || t.triggerPending) {
      if (t.restartPending && !this.loadBody(t)) {
        this.raiseException(cpu, t, { kind: 'invalid-ip', ip: t.ip });
        return;
      }
      if (t.triggerPending) {
        t.triggerPending = false;
        this.raiseException(cpu, t, { kind: 'triggered' });
        return;
      }
    }
    if (t.pendingFault) {
      const cause = t.pendingFault;
      t.pendingFault = null;
      this.raiseException(cpu, t, cause, t.pendingFaultNote);
      return;
    }
    let r: IteratorResult<unknown, unknown>;
    try {
      r = t.body!.next(t.resumeValue);
    } catch (error) {
      this.raiseException(cpu, t, { kind: 'thrown', error });
      return;
    }
    if (r.done === true) {
      this.exitThread(t, 'exited');
      return;
    }
    const v = r.value;
    if (v === SYSCALL) invokeCapability(this, cpu, t);
    else if (v === MEMORY) handleMemoryAccess(this, cpu, t);
    else if (v === PORT_IO) handlePortAccess(this, cpu, t);
    else if (v === COMPUTE) this.beginCompute(cpu, t);
    else {
      this.raiseException(cpu, t, { kind: 'bad-syscall', value: v });
      return;
    }
    if (cpu.current === t && t.sliceLeft <= 0) this.sliceExpired(cpu, t);
  }

  private beginCompute(cpu: Cpu, t: Thread): void {
    const n = t.regs.arg;
    // Beyond 2^53 subtracting a slice no longer changes the count: the work would never end.
    if (typeof n !== 'number' || !(n >= 0 && n <= Number.MAX_SAFE_INTEGER)) {
      this.raiseException(cpu, t, { kind: 'bad-syscall', value: `compute(${String(n)})` });
      return;
    }
    t.computeLeft = Math.ceil(n);
    t.resumeValue = 0;
  }

  private advanceCompute(cpu: Cpu, t: Thread): void {
    const d = Math.min(t.computeLeft, Math.max(t.sliceLeft, 1));
    cpu.time += d;
    t.cyclesUsed += d;
    t.computeLeft -= d;
    t.sliceLeft -= d;
    if (t.sliceLeft <= 0) this.sliceExpired(cpu, t);
  }

  private fireTimeout(t: Thread, at: number): void {
    // The interrupt arrives at `at` on the thread's CPU; an idle CPU wakes up then.
    this.syncCpu(this.cpus[t.cpu]!, at);
    const phaseRecv = t.state !== ThreadState.SEND_WAIT;
    abortIpc(this, t);
    if (failIpc(this, t, phaseRecv ? IpcError.RETIMEOUT : IpcError.SETIMEOUT)) this.makeReady(t, at);
  }

  // ===================================================================================
  // Exceptions and death.

  /**
   * `t` raised an exception: encode it as its CPU would, and send it as exception IPC
   * (a call, label −5) to the thread's exception handler. Without a usable handler,
   * the thread is stopped and reported.
   */
  raiseException(cpu: Cpu, t: Thread, cause: ExceptionCause, note = ''): void {
    this.chargeCycles(cpu, t, this.cExc);
    t.body = null;
    t.restartPending = false;
    t.computeLeft = 0;
    const description = describeException(cause) + note;
    t.lastException = description;
    this.fillRegisterFile(t);
    const words = this.platform.writeExceptionFrame(cause, t, t.utcb);
    const handlerCap =
      t.excHandlerCap > 0 ? t.task?.caps.lookup(Math.floor(t.excHandlerCap / 4096)) : undefined;
    const handler = handlerCap?.payload;
    let target: Thread | null = null;
    let label = 0;
    let gate: IpcGate | null = null;
    if (handler instanceof IpcGate && handler.thread) {
      target = handler.thread;
      gate = handler;
      label = handler.label + (handlerCap!.rights & 3);
    } else if (handler instanceof Thread) {
      target = handler;
    }
    const handled = target?.alive === true && target.state !== ThreadState.DEAD && target !== t;
    if (this.events.active & EventBit.exception) {
      this.events.emit('exception', { thread: t, time: cpu.time, description, handled });
    }
    if (dbg.exc.enabled) dbg.exc('%s: %s (%s)', t.name, description, handled ? 'to handler' : 'unhandled');
    if (!handled) {
      this.exitThread(t, 'exception');
      return;
    }
    t.inException = true;
    sendMessage(
      this,
      cpu,
      t,
      target!,
      gate,
      label,
      msgtag(Proto.EXCEPTION, words),
      true,
      false,
      TIMEOUT_NEVER,
      TIMEOUT_NEVER,
    );
  }

  /** Puts the thread's syscall registers and IP/SP/flags into its register file. */
  private fillRegisterFile(t: Thread): void {
    const g = t.gprs;
    const x = this.regIndex;
    const r = t.regs;
    const set = (i: number, v: number) => {
      if (i >= 0 && i < g.length) g[i] = typeof v === 'number' && Number.isFinite(v) ? v : 0;
    };
    set(x.cap, r.cap);
    set(x.tag, r.tag);
    set(x.timeouts, r.timeouts);
    set(x.label, r.label);
    set(x.ip, t.ip);
    set(x.sp, t.sp);
    set(x.flags, t.flags);
  }

  /**
   * Applies the exception handler's reply to `t` (result `tag`, words in `t.utcb`):
   * label 0 resumes the thread at the (possibly updated) IP; anything else, or an
   * IPC error, leaves it dead. Returns whether the thread is to run again.
   */
  completeException(t: Thread, tag: number): boolean {
    t.inException = false;
    if (tagHasError(tag) || tagLabel(tag) !== 0) {
      this.exitThread(t, 'exception');
      return false;
    }
    this.platform.readExceptionReply(tagWords(tag), t.utcb, t);
    t.restartPending = true;
    return true;
  }

  /** Stops `t` for good (until an ex_regs restarts it): it exited, raised an unhandled exception, or was deleted. */
  exitThread(t: Thread, reason: DeathReason): void {
    abortIpc(this, t);
    this.releasePartners(t);
    this.descheduled(t);
    t.state = ThreadState.DEAD;
    t.deathReason = reason;
    t.body = null;
    t.computeLeft = 0;
    t.inException = false;
    if (this.events.active & EventBit.thread) {
      this.events.emit('thread', {
        type: reason === 'exited' ? 'exit' : 'dead',
        thread: t,
        time: this.now(),
        detail: reason === 'exception' ? (t.lastException ?? reason) : reason,
      });
    }
  }

  /** Fails every IPC that depends on `t` being alive: its senders and its callers. */
  private releasePartners(t: Thread): void {
    for (let s = t.sendersHead; s; s = t.sendersHead) {
      if (s instanceof Thread) {
        abortIpc(this, s);
        if (failIpc(this, s, IpcError.ENOT_EXISTENT)) this.makeReady(s, this.now());
      } else {
        dequeueSender(t, s);
      }
    }
    for (let c = t.replyWaitersHead; c; c = t.replyWaitersHead) {
      abortIpc(this, c);
      if (failIpc(this, c, IpcError.RENOT_EXISTENT)) this.makeReady(c, this.now());
    }
    this.releaseClosedWaiters(t);
    const r = t.replyTo;
    t.replyTo = null;
    if (r instanceof Irq) r.masked = false;
  }

  /** Threads in a closed receive from `partner`, which is gone: RENOT_EXISTENT. */
  private releaseClosedWaiters(partner: Thread | Irq): void {
    for (let w = partner.closedWaitersHead; w; w = partner.closedWaitersHead) {
      abortIpc(this, w);
      if (failIpc(this, w, IpcError.RENOT_EXISTENT)) this.makeReady(w, this.now());
    }
  }

  // ===================================================================================
  // Destruction.

  /** Destroys every object that has lost its last capability, until none is left. */
  reap(): void {
    for (let obj = this.reapQueue.pop(); obj; obj = this.reapQueue.pop()) {
      if (obj.alive) this.destroy(obj);
    }
  }

  private destroy(obj: KObject): void {
    obj.alive = false;
    this.objects.delete(obj);
    this.bootRoots.delete(obj);
    if (dbg.obj.enabled) dbg.obj('destroy %s #%d %s', obj.kind, obj.id, obj.name);
    switch (obj.kind) {
      case ObjectKind.THREAD: {
        const t = obj as Thread;
        if (t.state !== ThreadState.DEAD) this.exitThread(t, 'deleted');
        else this.releasePartners(t);
        t.task?.threads.delete(t);
        this.threads.delete(t);
        this.releaseUtcb(t);
        t.port = null;
        break;
      }
      case ObjectKind.TASK: {
        const task = obj as Task;
        for (const t of [...task.threads]) if (t.state !== ThreadState.DEAD) this.exitThread(t, 'deleted');
        // Removing one subtree can take later slots of this table along (a capability
        // derived into its own task); removing such a node again would count its object's
        // capability twice and destroy an object that other capabilities still name.
        for (const [slot, cap] of [...task.caps.entries()]) {
          if (task.caps.lookup(slot) === cap) removeSubtree(cap);
        }
        this.destroySpaces(task);
        break;
      }
      case ObjectKind.GATE: {
        const g = obj as IpcGate;
        abortSendersVia(this, g);
        g.thread = null;
        break;
      }
      case ObjectKind.IRQ: {
        const irq = obj as Irq;
        unbindLine(irq);
        if (irq.qOwner) dequeueSender(irq.qOwner, irq);
        irq.target = null;
        this.releaseClosedWaiters(irq);
        break;
      }
      default:
        break;
    }
    // A factory that still pays for live objects keeps its charge on its parent until
    // they are gone; otherwise deleting sub-factories would mint kernel memory.
    const f = obj.factory;
    if (f && !(obj instanceof Factory && obj.used > 0)) this.releaseKmem(f, obj.kmem);
  }

  /**
   * Revokes every memory and I/O mapping of a dying task, with everything derived from
   * them in other tasks, and frees its UTCB pages and page tables.
   */
  private destroySpaces(task: Task): void {
    const space = task.space;
    if (space) {
      for (const m of [...space.mappings()]) if (space.holds(m)) removeSubtree(m);
      space.takeStatus();
      for (const t of task.threads) {
        // The UTCB pages go with the space: the thread keeps a private one until it dies.
        if (t.utcbAddress !== 0) {
          t.utcb = this.utcbs.allocate();
          t.utcbAddress = 0;
        }
      }
      task.utcbs?.destroy();
      space.destroy();
      if (this.sigma0 === task) this.sigma0 = null;
    }
    const io = task.io;
    if (io) for (const m of [...io.mappings()]) if (io.lookup(m.index) === m) removeSubtree(m);
  }

  /** Returns `bytes` to `f`; a destroyed factory with nothing outstanding frees its own charge. */
  releaseKmem(f: Factory, bytes: number): void {
    f.release(bytes);
    if (!f.alive && f.used === 0 && f.factory) this.releaseKmem(f.factory, f.kmem);
  }

  // ===================================================================================
  // Reporting.

  private quiescentReason(): StopReason {
    let open = false;
    for (const t of this.threads) {
      if (t.state === ThreadState.SEND_WAIT || t.state === ThreadState.REPLY_WAIT) return 'deadlock';
      if (t.state === ThreadState.RECV_WAIT) {
        // A closed wait on an Irq waits for an event, as an open wait does: a device or
        // any holder of the Irq may raise it. Only a wait for a thread can deadlock.
        if (t.partner) return 'deadlock';
        open = true;
      }
    }
    return open ? 'idle' : 'exited';
  }

  private stop(reason: StopReason): RunResult {
    const blocked: BlockedThread[] = [];
    const stuck: BlockedThread[] = [];
    const dead: DeadThread[] = [];
    for (const t of this.threads) {
      if (t.state === ThreadState.DEAD && t.deathReason !== 'exited') {
        const reason = t.deathReason ?? 'deleted';
        dead.push({ thread: t.name, reason, exception: reason === 'exception' ? t.lastException : null });
      } else if (
        t.state === ThreadState.SEND_WAIT ||
        t.state === ThreadState.RECV_WAIT ||
        t.state === ThreadState.REPLY_WAIT
      ) {
        const entry = { thread: t.name, state: t.state, waitingFor: describeWait(t) };
        blocked.push(entry);
        // Stuck on a particular thread; open waits and waits for interrupts are not.
        if (t.state !== ThreadState.RECV_WAIT || t.partner) stuck.push(entry);
      }
    }
    const time = this.now();
    // A deadlock names the threads stuck on a particular partner; the others (servers
    // in an open wait, drivers waiting for interrupts) are counted, not listed.
    const others = blocked.length - stuck.length;
    const head =
      reason === 'deadlock'
        ? `deadlock: ${stuck.map((b) => `"${b.thread}" waits for ${b.waitingFor}`).join('; ')}${
            others > 0 ? ` (${others} other thread(s) wait for requests or interrupts)` : ''
          }`
        : reason === 'idle'
          ? `idle: ${blocked.length} thread(s) wait for requests that no one can send`
          : reason === 'exited'
            ? 'all threads have finished'
            : `${reason} reached`;
    const crashed = dead.filter((d) => d.reason === 'exception');
    const deleted = dead.filter((d) => d.reason === 'deleted');
    const tail =
      (crashed.length
        ? `; stopped by exceptions: ${crashed.map((d) => `"${d.thread}" (${d.exception})`).join(', ')}`
        : '') + (deleted.length ? `; deleted: ${deleted.map((d) => `"${d.thread}"`).join(', ')}` : '');
    return {
      reason,
      time,
      steps: this.steps,
      ipcCount: this.ipcCount,
      threads: this.threads.size,
      blocked,
      dead,
      message: `${head} at ${time} cycles after ${this.ipcCount} IPCs${tail}`,
    };
  }

  /** Writes a Log object's output to the sink. */
  emitLog(e: LogEvent): void {
    this.logSink(e);
    if (this.events.active & EventBit.log) this.events.emit('log', e);
    if (dbg.log.enabled) dbg.log('[%s] %s', e.tag, e.text);
  }
}
