/**
 * Property-based reliability test (brief §10): random sequences of invokes from several
 * threads, with random capabilities and arguments, never make the kernel throw, and
 * the kernel's invariants hold after every step.
 *
 * Each generated case is a whole system image: 1–3 CPUs, 2–4 tasks, 1–3 threads per
 * task with random priorities and CPUs, IPC gates bound to random threads and mapped
 * with random rights into every task, Irqs, and extra capabilities to threads, tasks
 * and factories handed to other tasks. Every thread interprets its own random script:
 * raw invokes with random registers, MRs and BRs, calls and server loops (so that real
 * IPC happens), the typed kernel-object wrappers with random arguments (sometimes with
 * other invoke flags, e.g. send + open wait), modelled work, CPU exceptions and invalid
 * kernel entries.
 *
 * Properties:
 * 1. no host exception escapes `kernel.run`, and {@link checkInvariants} (plus the few
 *    checks in {@link moreInvariants}) holds after every thread resumption;
 * 2. a case runs identically twice, with the IPC fastpath off, and in one `run` call;
 * 3. every run stops for a known reason, and a deadlock names what each thread waits for.
 *
 * fast-check's seed is fixed, so CI is deterministic. To search further locally:
 * `PECAN_FUZZ_RUNS=20 PECAN_FUZZ_SEED=7 vitest run packages/kernel/test/property.test.ts`
 * (the run counts are multiplied by PECAN_FUZZ_RUNS). The examples at the end pin the
 * bugs these properties found.
 */
import {
  CapRights,
  capIndex,
  ExRegs,
  FactoryRef,
  GateRef,
  Invoke,
  IpcError,
  IrqOp,
  Kernel,
  type KernelEntry,
  KernelMemoryCost,
  mapItemControl,
  msgtag,
  objFpage,
  Proto,
  program,
  type RunResult,
  SchedulerRef,
  type StopReason,
  SYSCALL,
  TaskOp,
  TaskRef,
  type Thread,
  type ThreadEnv,
  ThreadState,
  TIMEOUT_NEVER,
  TIMEOUT_ZERO,
  timeouts,
  timeoutUs,
  type UserCode,
} from '@pecan/kernel';
import { checkInvariants, createTestPlatform } from '@pecan/kernel/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

// =======================================================================================
// The generated system image.

/** One step of a thread's script. */
type Action =
  | {
      readonly op: 'invoke';
      readonly cap: number;
      readonly flags: number;
      readonly tag: number;
      readonly timeouts: number;
      readonly mrs: readonly number[];
      readonly br0: number;
      readonly br1: number;
    }
  | {
      readonly op: 'call';
      readonly cap: number;
      readonly words: number;
      /** A flexpage to map (or grant) along with the call, or null for none. */
      readonly item: number | null;
      readonly grant: boolean;
      readonly timeouts: number;
    }
  | { readonly op: 'wait'; readonly timeouts: number; readonly br0: number }
  | {
      readonly op: 'serve';
      readonly n: number;
      readonly reply: number;
      readonly timeouts: number;
      readonly br0: number;
    }
  | {
      readonly op: 'create';
      readonly what: 'gate' | 'thread' | 'task' | 'irq' | 'factory' | 'log';
      readonly factory: number;
      readonly dst: number;
      readonly a: number;
      readonly b: number;
    }
  | {
      readonly op: 'map';
      readonly task: number;
      readonly src: number;
      readonly fpage: number;
      readonly dst: number;
      readonly grant: boolean;
    }
  | {
      readonly op: 'unmap';
      readonly task: number;
      readonly fpages: readonly number[];
      readonly self: boolean;
    }
  | { readonly op: 'delete'; readonly task: number; readonly cap: number }
  | {
      readonly op: 'runThread';
      readonly sched: number;
      readonly thread: number;
      readonly prio: number;
      readonly cpu: number;
      readonly quantum: number;
    }
  | {
      readonly op: 'exRegs';
      readonly thread: number;
      readonly ip: number;
      readonly sp: number;
      readonly flags: number;
    }
  | { readonly op: 'cancel'; readonly thread: number }
  | {
      readonly op: 'control';
      readonly thread: number;
      readonly exc: number | null;
      readonly bind: number | null;
    }
  | { readonly op: 'switch'; readonly thread: number }
  | { readonly op: 'stats'; readonly thread: number }
  | {
      readonly op: 'irq';
      readonly what: 'attach' | 'detach' | 'trigger' | 'unmask';
      readonly irq: number;
      readonly label: number;
      readonly thread: number;
    }
  | { readonly op: 'bind'; readonly gate: number; readonly thread: number; readonly label: number }
  | { readonly op: 'spawn'; readonly prio: number; readonly cpu: number }
  | { readonly op: 'print'; readonly text: string }
  | { readonly op: 'compute'; readonly cycles: number }
  | { readonly op: 'throw' }
  | { readonly op: 'badYield'; readonly which: number };

interface ThreadSpec {
  readonly priority: number;
  /** Reduced modulo the CPU count. */
  readonly cpu: number;
  /** Exception handler capability index (0: none). */
  readonly exc: number;
  readonly quantum: number | null;
  /** Serve requests (as a server loop does) before and/or after the script. */
  readonly serveFirst: number;
  readonly serveLast: boolean;
  readonly script: readonly Step[];
}

/**
 * A script step: an action, and optionally other invoke flags and timeouts for every
 * kernel entry it makes (so that the typed wrappers, which always call, also send
 * without waiting, or send and then open-wait).
 */
interface Step {
  readonly action: Action;
  readonly override: { readonly flags: number; readonly timeouts: number } | null;
}

interface TaskSpec {
  /** Kernel memory beyond what the task's boot threads take, or null for the default. */
  readonly kmem: number | null;
  readonly threads: readonly ThreadSpec[];
}

/** Where a boot-time capability goes: task (mod task count), slot, rights. */
interface Placement {
  readonly task: number;
  readonly slot: number;
  readonly rights: number;
}

interface GateSpec {
  /** Bound thread (mod thread count), or null for unbound. */
  readonly thread: number | null;
  readonly label: number;
  /**
   * Rights of the gate's capability in each task, at slot 18 + the gate's index
   * (0: not mapped there).
   */
  readonly rights: readonly number[];
  /** More capabilities to the gate, anywhere. */
  readonly maps: readonly Placement[];
}

interface ExtraCap {
  readonly kind: 'thread' | 'task' | 'factory' | 'irq';
  /** Which object of that kind (mod their count). */
  readonly index: number;
  readonly to: Placement;
}

interface Case {
  readonly seed: number;
  readonly cpus: number;
  readonly timeSlice: number;
  readonly tasks: readonly TaskSpec[];
  readonly gates: readonly GateSpec[];
  readonly irqs: number;
  readonly extras: readonly ExtraCap[];
  readonly maxTime: number | null;
}

// --- value pools ------------------------------------------------------------------------

/** First code address the kernel's CodeRegistry hands out, and its stride. */
const TEXT_BASE = 0x40_0000;
const TEXT_STRIDE = 0x10;

const slotArb = fc.integer({ min: 16, max: 24 });
const fixedCapArb = fc.integer({ min: 1, max: 7 }).map(capIndex);
const userCapArb = slotArb.map(capIndex);
/** Where boot puts the IPC gates (one slot per gate, up to four): what calls aim at most. */
const GATE_SLOT = 18;
const gateSlotArb = fc.integer({ min: GATE_SLOT, max: GATE_SLOT + 3 });
const garbageArb = fc.constantFrom(
  123,
  -1,
  -4096,
  2 ** 40,
  2 ** 53,
  2 ** 64,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  capIndex(3) + 0.5,
  capIndex(2 ** 16),
  2 ** 28,
);
/** Invoke flags for a send phase followed by an open wait, in one invoke. */
const OPEN_CALL = Invoke.SEND | Invoke.RECV | Invoke.OPEN_WAIT;
/** A capability index: mostly real slots, sometimes the invalid one or garbage. */
const capArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 4, arbitrary: fixedCapArb },
  { weight: 8, arbitrary: userCapArb },
  { weight: 1, arbitrary: garbageArb },
);
const rightsArb = fc.integer({ min: 0, max: 15 });
const objFpageArb = fc
  .tuple(
    fc.oneof(fc.integer({ min: 0, max: 7 }), slotArb, fc.constantFrom(8, 32, 2 ** 16)),
    fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 4 }) }, fc.constantFrom(16, 17, 63)),
    rightsArb,
  )
  .map(([slot, order, rights]) => objFpage(slot, order, rights));
const protoArb = fc.constantFrom(...Object.values(Proto));
const labelArb = fc.oneof(
  { weight: 4, arbitrary: protoArb },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: -40, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 35), max: 2 ** 35 }) },
);
const tagArb = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .tuple(
        labelArb,
        fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 8 }) }, fc.integer({ min: 0, max: 63 })),
        fc.integer({ min: 0, max: 3 }),
      )
      .map(([label, words, items]) => msgtag(label, words, items)),
  },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, -1, 1.5, 2 ** 60, -(2 ** 60), 0x8000) },
);
const timeoutArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(TIMEOUT_NEVER) },
  { weight: 2, arbitrary: fc.constant(TIMEOUT_ZERO) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 1000 }).map(timeoutUs) },
);
const timeoutsArb = fc.oneof(
  { weight: 20, arbitrary: fc.tuple(timeoutArb, timeoutArb).map(([s, r]) => timeouts(s, r)) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 32, Number.NaN, 0.5) },
);
/** Message-register contents: small numbers, opcodes, capability indices, flexpages, junk. */
const mrArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 16 }) },
  { weight: 4, arbitrary: capArb },
  { weight: 3, arbitrary: objFpageArb },
  { weight: 1, arbitrary: protoArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      0x10,
      0x11,
      0x10000,
      0x20000,
      0x40000,
      0x200000,
      ExRegs.CANCEL | ExRegs.TRIGGER_EXCEPTION,
      mapItemControl(0),
      mapItemControl(16, true),
      TEXT_BASE,
      TEXT_BASE + TEXT_STRIDE,
      TEXT_BASE + 2 * TEXT_STRIDE,
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: -1_000_000, max: 1_000_000 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(-1, 2 ** 32, 2 ** 52, 2 ** 53 - 1, 2 ** 53, 2 ** 63, -(2 ** 53), 2 ** 70),
  },
);
const brArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(0) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(slotArb, fc.integer({ min: 0, max: 2 }), rightsArb)
      .map(([s, o, r]) => objFpage(s, o, r)),
  },
  { weight: 1, arbitrary: mrArb },
);
/** Code addresses: the boot threads' entries, the spawned program's, and junk. */
const ipArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 13 }).map((i) => TEXT_BASE + i * TEXT_STRIDE) },
  { weight: 2, arbitrary: fc.constant(-1) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, TEXT_BASE + 1, 2 ** 53, Number.NaN, -2) },
);
const prioArb = fc.integer({ min: 0, max: 255 });
const cpuArgArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }) },
  fc.constantFrom(-1, 3, 32),
);

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      op: fc.constant('invoke' as const),
      cap: capArb,
      flags: fc.integer({ min: 0, max: 15 }),
      tag: tagArb,
      timeouts: timeoutsArb,
      mrs: fc.array(mrArb, { maxLength: 8 }),
      br0: brArb,
      br1: brArb,
    }),
  },
  {
    weight: 36,
    arbitrary: fc.record({
      op: fc.constant('call' as const),
      cap: fc.oneof({ weight: 6, arbitrary: gateSlotArb.map(capIndex) }, capArb),
      words: fc.integer({ min: 0, max: 6 }),
      item: fc.option(objFpageArb, { freq: 3 }),
      grant: fc.boolean(),
      timeouts: timeoutsArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({ op: fc.constant('wait' as const), timeouts: timeoutsArb, br0: brArb }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('serve' as const),
      n: fc.integer({ min: 1, max: 8 }),
      reply: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 6 }).map((w) => msgtag(0, w)) },
        { weight: 1, arbitrary: tagArb },
      ),
      timeouts: timeoutsArb,
      br0: brArb,
    }),
  },
  {
    weight: 15,
    arbitrary: fc.record({
      op: fc.constant('create' as const),
      what: fc.constantFrom('gate', 'thread', 'task', 'irq', 'factory', 'log'),
      factory: fc.oneof({ weight: 6, arbitrary: fc.constant(capIndex(2)) }, capArb),
      dst: fc.oneof({ weight: 8, arbitrary: userCapArb }, capArb),
      a: mrArb,
      b: fc.oneof(
        fc.integer({ min: 0, max: 64 }).map((x) => x * 4),
        mrArb,
      ),
    }),
  },
  {
    weight: 9,
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      task: fc.oneof({ weight: 4, arbitrary: fc.constant(capIndex(1)) }, capArb),
      src: fc.oneof({ weight: 2, arbitrary: fc.constant(capIndex(1)) }, capArb),
      fpage: objFpageArb,
      dst: fc.oneof(userCapArb, mrArb),
      grant: fc.boolean(),
    }),
  },
  {
    weight: 9,
    arbitrary: fc.record({
      op: fc.constant('unmap' as const),
      task: fc.oneof({ weight: 4, arbitrary: fc.constant(capIndex(1)) }, capArb),
      fpages: fc.array(fc.oneof({ weight: 4, arbitrary: objFpageArb }, mrArb), {
        minLength: 1,
        maxLength: 3,
      }),
      self: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('delete' as const),
      task: fc.oneof({ weight: 4, arbitrary: fc.constant(capIndex(1)) }, capArb),
      cap: capArb,
    }),
  },
  {
    weight: 9,
    arbitrary: fc.record({
      op: fc.constant('runThread' as const),
      sched: fc.oneof({ weight: 6, arbitrary: fc.constant(capIndex(7)) }, capArb),
      thread: capArb,
      prio: fc.oneof({ weight: 6, arbitrary: prioArb }, mrArb),
      cpu: cpuArgArb,
      quantum: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 200_000 }), mrArb),
    }),
  },
  {
    weight: 9,
    arbitrary: fc.record({
      op: fc.constant('exRegs' as const),
      thread: capArb,
      ip: ipArb,
      sp: fc.oneof(fc.constant(-1), mrArb),
      flags: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(0, ExRegs.CANCEL, ExRegs.TRIGGER_EXCEPTION) },
        { weight: 1, arbitrary: mrArb },
      ),
    }),
  },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('cancel' as const), thread: capArb }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('control' as const),
      thread: capArb,
      exc: fc.option(capArb),
      bind: fc.option(capArb),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('switch' as const), thread: capArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('stats' as const), thread: capArb }) },
  {
    weight: 12,
    arbitrary: fc.record({
      op: fc.constant('irq' as const),
      what: fc.constantFrom('attach', 'detach', 'trigger', 'trigger', 'unmask'),
      irq: capArb,
      label: fc.oneof(fc.integer({ min: 0, max: 64 }), mrArb),
      thread: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, capArb),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('bind' as const),
      gate: capArb,
      thread: capArb,
      label: fc.oneof(
        fc.integer({ min: 0, max: 64 }).map((x) => x * 4),
        mrArb,
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('spawn' as const), prio: prioArb, cpu: cpuArgArb }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('print' as const), text: fc.string({ maxLength: 40 }) }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('compute' as const),
      cycles: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: 0, max: 300_000 }) },
        { weight: 1, arbitrary: fc.constantFrom(-1, Number.NaN, Number.POSITIVE_INFINITY, 0.5) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'throw' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('badYield' as const), which: fc.integer({ min: 0, max: 5 }) }),
  },
);

const threadArb: fc.Arbitrary<ThreadSpec> = fc.record({
  priority: prioArb,
  cpu: fc.integer({ min: 0, max: 2 }),
  exc: fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, userCapArb, fc.constant(capIndex(3))),
  quantum: fc.option(fc.integer({ min: 1000, max: 200_000 }), { freq: 3 }),
  serveFirst: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 20 })),
  serveLast: fc.boolean(),
  script: fc.array(
    fc.record({
      action: actionArb,
      override: fc.option(
        fc.record({
          // Send only, and send + open wait, are the ones the typed wrappers never make.
          flags: fc.oneof(fc.constantFrom(Invoke.SEND, OPEN_CALL), fc.integer({ min: 0, max: 15 })),
          timeouts: timeoutsArb,
        }),
        {
          freq: 4,
        },
      ),
    }),
    { minLength: 1, maxLength: 30 },
  ),
});

const placementArb: fc.Arbitrary<Placement> = fc.record({
  task: fc.integer({ min: 0, max: 3 }),
  slot: slotArb,
  rights: fc.integer({ min: 1, max: 15 }),
});

const caseArb: fc.Arbitrary<Case> = fc.record({
  seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  cpus: fc.integer({ min: 1, max: 3 }),
  timeSlice: fc.constantFrom(100_000, 5_000),
  tasks: fc.array(
    fc.record({
      kmem: fc.option(fc.constantFrom(0, 64, 4096, 65_536), { freq: 3 }),
      threads: fc.array(threadArb, { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 2, maxLength: 4 },
  ),
  gates: fc.array(
    fc.record({
      thread: fc.option(fc.integer({ min: 0, max: 11 }), { freq: 6 }),
      label: fc.integer({ min: 0, max: 255 }).map((x) => x * 4),
      rights: fc.array(
        fc.oneof(
          { weight: 1, arbitrary: fc.constant(0) },
          { weight: 4, arbitrary: fc.integer({ min: 1, max: 15 }) },
        ),
        { minLength: 4, maxLength: 4 },
      ),
      maps: fc.array(placementArb, { maxLength: 2 }),
    }),
    { minLength: 2, maxLength: 4 },
  ),
  irqs: fc.integer({ min: 0, max: 2 }),
  extras: fc.array(
    fc.record({
      kind: fc.constantFrom('thread', 'task', 'factory', 'irq'),
      index: fc.integer({ min: 0, max: 11 }),
      to: placementArb,
    }),
    { maxLength: 5 },
  ),
  maxTime: fc.option(fc.integer({ min: 2_000_000, max: 50_000_000 }), { freq: 4 }),
});

// =======================================================================================
// The user side: a program per thread that interprets its script.

/** Non-token values a thread may yield instead of a kernel entry. */
const BAD_YIELDS: readonly unknown[] = [42, undefined, null, 'syscall', Symbol('pecan.syscall'), {}];

/** What spawned threads run: a little work, then exit. */
const child = program(function* child(env: ThreadEnv): UserCode {
  yield env.compute(1000);
  yield env.wait(timeouts(TIMEOUT_NEVER, timeoutUs(5)));
}, 'child');

function* perform(env: ThreadEnv, a: Action): UserCode {
  const u = env.utcb;
  switch (a.op) {
    case 'invoke': {
      for (let i = 0; i < a.mrs.length; i++) u.setMr(i, a.mrs[i]!);
      u.setBr(0, a.br0);
      u.setBr(1, a.br1);
      // Flags go into the low bits of a well-formed index; junk indices go in unchanged.
      const capw = Number.isSafeInteger(a.cap) && a.cap >= 0 && a.cap % 4096 === 0 ? a.cap + a.flags : a.cap;
      yield env.invoke(capw, a.tag, a.timeouts);
      return;
    }
    case 'call': {
      for (let i = 0; i < a.words; i++) u.setMr(i, i);
      if (a.item !== null) {
        u.setMr(a.words, mapItemControl(0, a.grant));
        u.setMr(a.words + 1, a.item);
      }
      yield env.call(a.cap, msgtag(0, a.words, a.item === null ? 0 : 1), a.timeouts);
      return;
    }
    case 'wait':
      u.setBr(0, a.br0);
      u.setBr(1, 0);
      yield env.wait(a.timeouts);
      return;
    case 'serve': {
      u.setBr(0, a.br0);
      u.setBr(1, 0);
      yield env.wait(a.timeouts);
      for (let i = 0; i < a.n; i++) yield env.replyAndWait(a.reply, a.timeouts);
      return;
    }
    case 'create': {
      const f = new FactoryRef(env, a.factory);
      switch (a.what) {
        case 'gate':
          yield* f.createGate(a.dst, a.a, a.b);
          return;
        case 'thread':
          yield* f.createThread(a.dst);
          return;
        case 'task':
          yield* f.createTask(a.dst);
          return;
        case 'irq':
          yield* f.createIrq(a.dst);
          return;
        case 'factory':
          yield* f.createFactory(a.dst, a.b * 64);
          return;
        case 'log':
          yield* f.createLog(a.dst);
          return;
      }
      return;
    }
    case 'map':
      yield* new TaskRef(env, a.task).map(a.src, a.fpage, a.dst, a.grant);
      return;
    case 'unmap':
      yield* new TaskRef(env, a.task).unmap(a.fpages, a.self);
      return;
    case 'delete':
      yield* new TaskRef(env, a.task).deleteObject(a.cap);
      return;
    case 'runThread':
      yield* new SchedulerRef(env, a.sched).runThread(a.thread, a.prio, a.cpu, a.quantum);
      return;
    case 'exRegs':
      yield* env.thread(a.thread).exRegs(a.ip, a.sp, a.flags);
      return;
    case 'cancel':
      yield* env.thread(a.thread).cancel();
      return;
    case 'control':
      yield* env.thread(a.thread).control({
        ...(a.exc === null ? {} : { exceptionHandler: a.exc }),
        ...(a.bind === null ? {} : { bindTask: a.bind }),
      });
      return;
    case 'switch':
      yield* env.thread(a.thread).switchTo();
      return;
    case 'stats':
      yield* env.thread(a.thread).cycles();
      return;
    case 'irq': {
      const irq = env.irq(a.irq);
      if (a.what === 'attach') yield* irq.attach(a.label, a.thread);
      else if (a.what === 'detach') yield* irq.detach();
      else if (a.what === 'trigger') yield* irq.trigger();
      else yield* irq.unmask();
      return;
    }
    case 'bind':
      yield* new GateRef(env, a.gate).bind(a.thread, a.label);
      return;
    case 'spawn':
      yield* env.spawn(child, { priority: a.prio, cpu: a.cpu });
      return;
    case 'print':
      yield* env.print(a.text);
      return;
    case 'compute':
      yield env.compute(a.cycles);
      return;
    case 'throw':
      throw new Error('boom');
    case 'badYield':
      yield BAD_YIELDS[a.which % BAD_YIELDS.length] as KernelEntry;
      return;
  }
}

/**
 * A server loop: answer up to `n` requests, giving up when none comes for a while; with
 * an infinite `n`, wait forever, as a server's main loop does.
 */
function* serve(env: ThreadEnv, n: number): UserCode {
  const to = n === Number.POSITIVE_INFINITY ? 0 : timeouts(TIMEOUT_NEVER, timeoutUs(1000));
  env.receiveCapInto(capIndex(24));
  let tag = yield env.wait(to);
  for (let i = 0; i < n; i++) {
    if (tag & 0x8000 && env.error(tag) === -(2000 + IpcError.RETIMEOUT)) return;
    // A word count of 5 answers an exception IPC by resuming the thread.
    env.utcb.setBr(0, 0);
    tag = yield env.replyAndWait(msgtag(0, tag & 0x8000 ? 0 : 5), to);
  }
}

/** Runs `inner`, replacing the invoke flags and timeouts of each of its kernel entries. */
function* overriding(env: ThreadEnv, flags: number, to: number, inner: UserCode): UserCode {
  for (let r = inner.next(0); !r.done; ) {
    if (r.value === SYSCALL) {
      const capw = env.regs.cap;
      if (Number.isSafeInteger(capw) && capw >= 0) env.regs.cap = capw - (capw % 16) + flags;
      env.regs.timeouts = to;
    }
    r = inner.next(yield r.value);
  }
}

/** Runs `inner`, recording in `seen` what each of its kernel entries returned. */
function* recording(env: ThreadEnv, seen: number[], inner: UserCode): UserCode {
  for (let r = inner.next(0); !r.done; ) {
    const tag = yield r.value;
    seen.push(env.self, tag, tag & 0x8000 ? env.utcb.error : env.regs.label);
    r = inner.next(tag);
  }
}

function* body(env: ThreadEnv, spec: ThreadSpec): UserCode {
  if (spec.serveFirst > 0) yield* serve(env, spec.serveFirst);
  for (const step of spec.script) {
    yield* step.override === null
      ? perform(env, step.action)
      : overriding(env, step.override.flags, step.override.timeouts, perform(env, step.action));
  }
  if (spec.serveLast) yield* serve(env, Number.POSITIVE_INFINITY);
}

/** The program of a boot thread; what its kernel entries return goes to `seen`. */
function scriptProgram(name: string, spec: ThreadSpec, seen: number[]) {
  return program(function* main(env: ThreadEnv): UserCode {
    yield* recording(env, seen, body(env, spec));
  }, name);
}

// =======================================================================================
// Booting and driving a case.

interface Booted {
  readonly kernel: Kernel;
  readonly threads: readonly Thread[];
  /** What the kernel returned to user code, in order: (thread cap, tag, error or label)… */
  readonly seen: readonly number[];
}

/** Builds the system image of `c` through the host API. */
function boot(c: Case, fastpath = true): Booted {
  const kernel = new Kernel({
    platform: createTestPlatform({ timeSlice: c.timeSlice }),
    cpus: c.cpus,
    seed: c.seed,
    fastpath,
  });
  const seen: number[] = [];
  const tasks = c.tasks.map((spec, i) =>
    kernel.createTask(
      `t${i}`,
      spec.kmem === null ? {} : { kernelMemory: spec.threads.length * KernelMemoryCost.thread + spec.kmem },
    ),
  );
  const threads: Thread[] = [];
  c.tasks.forEach((spec, i) => {
    spec.threads.forEach((ts, j) => {
      threads.push(
        kernel.createThread(tasks[i]!, scriptProgram(`t${i}.${j}`, ts, seen), {
          name: `t${i}.${j}`,
          priority: ts.priority,
          cpu: ts.cpu % c.cpus,
          // The first thread of a task takes slot 3, the others 16 and 17.
          slot: j === 0 ? 3 : 15 + j,
          exceptionHandler: ts.exc,
          ...(ts.quantum === null ? {} : { quantum: ts.quantum }),
        }),
      );
    });
  });
  /** Maps `obj` as `p` says, into the first free slot from `p.slot` up to 24. */
  const place = (obj: Parameters<Kernel['mapCap']>[2], p: Placement): void => {
    const task = tasks[p.task % tasks.length]!;
    for (let s = p.slot; s <= 24; s++) {
      if (!task.caps.lookup(s)) {
        kernel.mapCap(task, s, obj, p.rights);
        return;
      }
    }
  };
  c.gates.forEach((g, i) => {
    const bound = g.thread === null ? null : threads[g.thread % threads.length]!;
    const gate = kernel.createGate(bound, g.label, `gate${i}`);
    tasks.forEach((task, j) => {
      const rights = g.rights[j] ?? 0;
      if (rights !== 0 && !task.caps.lookup(GATE_SLOT + i)) kernel.mapCap(task, GATE_SLOT + i, gate, rights);
    });
    for (const p of g.maps) place(gate, p);
  });
  const irqs = Array.from({ length: c.irqs }, (_, i) => kernel.createIrq(`irq${i}`));
  for (const e of c.extras) {
    const pool =
      e.kind === 'thread'
        ? threads
        : e.kind === 'task'
          ? tasks
          : e.kind === 'irq'
            ? irqs
            : tasks.map((t) => t.caps.lookup(2)!.payload);
    const obj = pool[e.index % Math.max(pool.length, 1)];
    if (obj) place(obj, e.to);
  }
  return { kernel, threads, seen };
}

/** Thread resumptions a case may take before the driver stops it. */
const STEP_BUDGET = 1500;

interface Driven {
  readonly result: RunResult;
  /** Invariant violations after the step that first broke them, or null. */
  readonly broken: { readonly step: number; readonly problems: readonly string[] } | null;
}

/** How to run a case. */
interface Mode {
  /** Check the invariants after every step. */
  readonly check: boolean;
  /** One `run` call per step (true), or a single call for the whole budget. */
  readonly stepwise: boolean;
  readonly fastpath: boolean;
}

const STEPWISE: Mode = { check: false, stepwise: true, fastpath: true };

/**
 * Runs `kernel` one thread resumption per `run` call (RunLimits.maxSteps counts the
 * steps of one call), checking the invariants after each call when asked to.
 */
function drive(kernel: Kernel, c: Case, mode: Mode): Driven {
  const limits = (steps: number) =>
    c.maxTime === null ? { maxSteps: steps } : { maxSteps: steps, maxTime: c.maxTime };
  if (!mode.stepwise) return { result: kernel.run(limits(STEP_BUDGET)), broken: null };
  for (;;) {
    const before = kernel.steps;
    const result = kernel.run(limits(1));
    if (mode.check) {
      const problems = [...checkInvariants(kernel), ...moreInvariants(kernel)];
      if (problems.length > 0) return { result, broken: { step: kernel.steps, problems } };
    }
    if (result.reason !== 'step-limit' || kernel.steps >= STEP_BUDGET) return { result, broken: null };
    // Each call resumes exactly one thread unless the run ends.
    if (kernel.steps !== before + 1) throw new Error(`run made ${kernel.steps - before} steps, expected 1`);
  }
}

/** Everything observable about a run, for comparing runs. */
function fingerprint(run: Booted & Driven) {
  const { kernel, result: r } = run;
  return {
    reason: r.reason,
    time: r.time,
    steps: r.steps,
    ipcCount: r.ipcCount,
    blocked: r.blocked,
    dead: r.dead,
    seen: run.seen,
    threads: [...kernel.threads].map((t) => ({
      name: t.name,
      state: t.state,
      cyclesUsed: t.cyclesUsed,
      sliceLeft: t.sliceLeft,
      prio: t.prio,
      cpu: t.cpu,
      death: t.deathReason,
    })),
    objects: [...kernel.objects].map((o) => `${o.kind}:${o.name}:${o.capCount}`),
    cpus: kernel.cpus.map((cpu) => [cpu.time, cpu.idleCycles, cpu.switches, cpu.current?.name ?? null]),
    log: kernel.logOutput.map((e) => [e.tag, e.text, e.time]),
  };
}

/** Boots and drives `c`; a host exception becomes a failure that names the case. */
function runCase(c: Case, mode: Mode): Driven & Booted {
  let booted: Booted | null = null;
  try {
    booted = boot(c, mode.fastpath);
    return { ...booted, ...drive(booted.kernel, c, mode) };
  } catch (error) {
    const where = booted ? `at step ${booted.kernel.steps}` : 'during boot';
    throw new Error(
      `kernel threw ${where}: ${error instanceof Error ? error.stack : String(error)}\ncase: ${fc.stringify(c)}`,
    );
  }
}

/**
 * Invariants checked on top of {@link checkInvariants} (candidates for it): nothing
 * destroyed is still scheduled, and every thread that may run again is bound to a live
 * task (a thread running in a deleted task would receive capabilities nobody can reach).
 */
function moreInvariants(k: Kernel): string[] {
  const problems: string[] = [];
  for (const cpu of k.cpus) {
    const cur = cpu.current;
    if (cur && !k.threads.has(cur)) problems.push(`cpu${cpu.index} runs destroyed "${cur.name}"`);
    for (const t of cpu.runQueue.threads() as Iterable<Thread>) {
      if (!k.threads.has(t)) problems.push(`destroyed "${t.name}" is queued on cpu${cpu.index}`);
    }
  }
  for (const t of k.threads) {
    if (t.state !== ThreadState.DEAD && t.state !== ThreadState.INACTIVE && t.task?.alive !== true) {
      problems.push(`${t.state} "${t.name}" is not bound to a live task`);
    }
  }
  return problems;
}

/** Runs `kernel` step by step, returning every invariant violation met on the way. */
function stepAndCheck(kernel: Kernel, maxSteps = 200): { result: RunResult; problems: string[] } {
  for (;;) {
    const result = kernel.run({ maxSteps: 1 });
    const problems = [...checkInvariants(kernel), ...moreInvariants(kernel)];
    if (problems.length > 0 || result.reason !== 'step-limit' || kernel.steps >= maxSteps) {
      return { result, problems };
    }
  }
}

const STOP_REASONS: readonly StopReason[] = ['exited', 'idle', 'deadlock', 'step-limit', 'time-limit'];

/**
 * fast-check settings: a fixed seed keeps CI deterministic. For a deeper local search,
 * PECAN_FUZZ_RUNS multiplies the number of runs and PECAN_FUZZ_SEED picks another seed.
 */
const SCALE = Number(process.env.PECAN_FUZZ_RUNS ?? 1);
const FC = { seed: Number(process.env.PECAN_FUZZ_SEED ?? 42) };
const runs = (n: number) => ({ ...FC, numRuns: Math.max(1, Math.round(n * SCALE)) });

// =======================================================================================

describe('kernel under random system calls (brief §10)', () => {
  it('never throws into the host, and keeps its invariants after every step', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { broken, kernel } = runCase(c, { ...STEPWISE, check: true });
        if (broken) {
          throw new Error(
            `invariants broken after step ${broken.step} at ${kernel.now()} cycles:\n  ` +
              broken.problems.join('\n  '),
          );
        }
      }),
      runs(600),
    );
  });

  it('is deterministic: the same case runs the same way twice', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const first = fingerprint(runCase(c, STEPWISE));
        expect(fingerprint(runCase(c, STEPWISE))).toEqual(first);
        // Neither the IPC fastpath nor how often the host calls `run` changes anything.
        expect(fingerprint(runCase(c, { ...STEPWISE, fastpath: false }))).toEqual(first);
        expect(fingerprint(runCase(c, { ...STEPWISE, stepwise: false }))).toEqual(first);
      }),
      runs(150),
    );
  });

  it('always stops with a known reason, and explains every deadlock', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { result, kernel } = runCase(c, STEPWISE);
        expect(STOP_REASONS).toContain(result.reason);
        if (result.reason === 'step-limit') expect(kernel.steps).toBeGreaterThanOrEqual(STEP_BUDGET);
        if (result.reason === 'time-limit') expect(c.maxTime).not.toBeNull();
        if (result.reason === 'deadlock') {
          expect(result.blocked.length).toBeGreaterThan(0);
          for (const b of result.blocked) expect(b.waitingFor).not.toBe('');
        }
        if (result.reason === 'exited') expect(result.blocked).toEqual([]);
        if (result.reason === 'idle') {
          for (const b of result.blocked) {
            expect(b.state).toBe(ThreadState.RECV_WAIT);
            // An open wait, or a wait for an interrupt (which a device may raise).
            expect(b.waitingFor).toMatch(/^a message from any sender$|^interrupt "/);
          }
        }
        // Unless a limit stopped the run, nothing can run any more.
        if (result.reason !== 'step-limit' && result.reason !== 'time-limit') {
          for (const cpu of kernel.cpus) expect(cpu.current).toBeNull();
        }
      }),
      runs(300),
    );
  });
});

// =======================================================================================
// Edge inputs, and the bugs the properties found, as fixed examples.

describe('kernel edge inputs', () => {
  const TEN_US = timeouts(TIMEOUT_NEVER, timeoutUs(10));

  function single(main: (env: ThreadEnv) => UserCode): { kernel: Kernel; thread: Thread } {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const task = kernel.createTask('edge');
    const thread = kernel.createThread(task, program(main), { name: 'edge' });
    return { kernel, thread };
  }

  it('turns a yield of something that is not a kernel entry into an exception', () => {
    for (const value of [...BAD_YIELDS, () => 0, Promise.resolve(SYSCALL)]) {
      const { kernel, thread } = single(function* (env) {
        yield env.compute(10);
        yield value as KernelEntry;
      });
      const r = kernel.run();
      expect(r.reason).toBe('exited');
      expect(thread.state).toBe(ThreadState.DEAD);
      expect(r.dead).toEqual([expect.objectContaining({ thread: 'edge', reason: 'exception' })]);
      expect(r.dead[0]!.exception).toMatch(/invalid kernel entry/);
      expect(checkInvariants(kernel)).toEqual([]);
    }
  });

  it('refuses NaN, infinities and fractions in the syscall registers', () => {
    const errors: number[] = [];
    const { kernel } = single(function* (env) {
      const task = capIndex(1) + 3;
      for (const [cap, tag, to] of [
        [Number.NaN, 0, 0],
        [Number.POSITIVE_INFINITY, 0, 0],
        [task + 0.5, 0, 0],
        [-task, 0, 0],
        [task, Number.NaN, 0],
        [task, 0.5, 0],
        [task, 2 ** 60, 0],
        [task, msgtag(Proto.TASK, 1), Number.NaN],
        [task, msgtag(Proto.TASK, 1), -1],
      ] as const) {
        const tag_: number = yield env.invoke(cap, tag, to);
        errors.push(env.error(tag_));
      }
    });
    expect(kernel.run().reason).toBe('exited');
    expect(errors).toEqual(errors.map(() => -(2000 + IpcError.EINVALCAP)));
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it('refuses message words that are not safe integers (a NaN MR reads back as 0)', () => {
    const results: number[] = [];
    const { kernel } = single(function* (env) {
      env.utcb.setMr(3, Number.NaN);
      results.push(env.utcb.mr(3));
      // 2^63 reads back as −2^63, 2^60 stays 2^60: neither is a valid argument.
      results.push(yield* env.scheduler.runThread(env.self, 2 ** 63, 0));
      results.push(yield* env.thread(env.self).exRegs(2 ** 60, 0));
      results.push(yield* env.task.capValid(capIndex(3) + 1));
      results.push(yield* env.task.unmap([-1]));
      results.push(yield* env.factory.createFactory(capIndex(20), 2 ** 60));
    });
    expect(kernel.run().reason).toBe('exited');
    expect(results).toEqual([0, -22, -22, -22, -22, -22]);
    expect(checkInvariants(kernel)).toEqual([]);
  });

  it('rejects compute() of more cycles than it can count, instead of computing forever', () => {
    // Found by review of the compute path: above 2^53, subtracting a time slice left
    // the count unchanged, so `run()` without a time limit never returned.
    for (const n of [1e300, 2 ** 60]) {
      const { kernel } = single(function* (env) {
        yield env.compute(n);
      });
      const r = kernel.run({ maxTime: 1e9 });
      expect(r.reason).toBe('exited');
      expect(r.dead[0]?.exception).toMatch(/invalid kernel entry \(yielded "compute/);
    }
  });

  // Found by the first property (minimised): a kernel-object invoke with an open wait
  // (flags send|recv|open) whose operation woke a higher-priority thread blocked the
  // caller while it sat in the run queue, and dropped the woken thread from its CPU.
  it('keeps the scheduler consistent when an operation + open wait wakes a higher-priority thread', () => {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const task = kernel.createTask('x');
    const irq = kernel.createIrq('irq');
    kernel.mapCap(task, 20, irq, CapRights.ALL);
    const handler = kernel.createThread(
      task,
      program(function* (env: ThreadEnv): UserCode {
        yield* env.irq(capIndex(20)).attach(0x40);
        yield env.receive(capIndex(20));
        yield env.compute(100);
      }),
      { name: 'handler', priority: 10 },
    );
    let got = -1;
    kernel.createThread(
      task,
      program(function* (env: ThreadEnv): UserCode {
        env.utcb.setMr(0, IrqOp.TRIGGER);
        const tag: number = yield env.invoke(capIndex(20) + OPEN_CALL, msgtag(Proto.IRQ, 1), TEN_US);
        got = env.error(tag);
      }),
      { name: 'low', priority: 1, slot: 16 },
    );
    const { result, problems } = stepAndCheck(kernel);
    expect(problems).toEqual([]);
    expect(result.reason).toBe('exited');
    expect(handler.cyclesUsed).toBeGreaterThan(100);
    expect(got).toBe(-(2000 + IpcError.RETIMEOUT));
  });

  // Found by the first property after the fix above (minimised): an exception handler
  // whose replyAndWait killed the faulting thread woke that thread's blocked sender,
  // which preempted the handler; the handler's open wait then blocked it in the run
  // queue and dropped the woken sender from the CPU.
  it('keeps the scheduler consistent when an exception reply wakes a higher-priority thread', () => {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const task = kernel.createTask('x');
    const handler = kernel.createThread(
      task,
      program(function* (env: ThreadEnv): UserCode {
        yield env.wait();
        // Any label but 0 refuses to resume the faulting thread: it dies.
        yield env.replyAndWait(msgtag(-1, 0));
      }),
      { name: 'handler', priority: 0 },
    );
    const faulty = kernel.createThread(
      task,
      program(function* (): UserCode {
        throw new Error('fault');
      }),
      { name: 'faulty', priority: 0, slot: 16, exceptionHandler: capIndex(3) },
    );
    let got = 0;
    kernel.createThread(
      task,
      program(function* (env: ThreadEnv): UserCode {
        const tag: number = yield env.send(capIndex(16), msgtag(0, 0));
        got = env.error(tag);
      }),
      { name: 'sender', priority: 1, slot: 17 },
    );
    const { result, problems } = stepAndCheck(kernel);
    expect(problems).toEqual([]);
    expect(result.reason).toBe('idle');
    expect(got).toBe(-(2000 + IpcError.ENOT_EXISTENT));
    expect(faulty.deathReason).toBe('exception');
    expect(handler.state).toBe(ThreadState.RECV_WAIT);
  });

  // Found by the first property (seeds 300 and 400, minimised): deleting a task whose
  // table held a capability and one derived from it within the same task removed the
  // derived one twice, so its object lost one capability too many and was destroyed
  // while another task still held a capability to it.
  it('deletes a task holding a capability and its own copy of it without freeing the object', () => {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const a = kernel.createTask('a');
    const b = kernel.createTask('b');
    const survivor = kernel.createThread(
      b,
      program(function* (env: ThreadEnv): UserCode {
        yield env.compute(10_000);
      }),
      { name: 'survivor' },
    );
    kernel.mapCap(a, 16, survivor, CapRights.ALL);
    const results: number[] = [];
    kernel.createThread(
      a,
      program(function* (env: ThreadEnv): UserCode {
        results.push(yield* env.task.map(capIndex(1), objFpage(16, 0, CapRights.ALL), capIndex(17)));
        results.push(yield* env.task.deleteObject(capIndex(1)));
      }),
      { name: 'suicidal', priority: 2 },
    );
    const { result, problems } = stepAndCheck(kernel);
    expect(problems).toEqual([]);
    expect(results).toEqual([0]); // the second call never returns: its task is gone
    expect(result.reason).toBe('exited');
    expect(survivor.alive).toBe(true);
    expect(survivor.deathReason).toBe('exited');
  });

  // Found with the one above: the same invoke deleting its own caller left the dead
  // thread on its CPU; it was resumed with a null body and the thread it displaced never ran.
  it('never resumes a thread that deleted itself in an operation + open wait', () => {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const task = kernel.createTask('x');
    const other = kernel.createThread(
      task,
      program(function* (env: ThreadEnv): UserCode {
        yield env.compute(100);
      }),
      { name: 'other', priority: 1 },
    );
    let resumed = false;
    const self = kernel.createThread(
      task,
      program(function* (env: ThreadEnv): UserCode {
        env.utcb.setMr(0, TaskOp.DELETE);
        env.utcb.setMr(1, env.self);
        yield env.invoke(capIndex(1) + OPEN_CALL, msgtag(Proto.TASK, 2), TEN_US);
        resumed = true;
      }),
      { name: 'self', priority: 5, slot: 16 },
    );
    const { result, problems } = stepAndCheck(kernel);
    expect(problems).toEqual([]);
    expect(result.reason).toBe('exited');
    expect(result.dead).toEqual([]);
    expect(self.alive).toBe(false);
    expect(resumed).toBe(false);
    expect(other.cyclesUsed).toBeGreaterThan(100);
  });

  // Found by review while minimising the above: a thread that had exited before its task
  // was deleted could be restarted by ex_regs into the dead task, and capabilities mapped
  // to it then landed in a table nobody can reach (the objects could never be freed).
  it('does not restart a stopped thread into a deleted task', () => {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const a = kernel.createTask('a');
    const b = kernel.createTask('b');
    const victim = program(function* victim(env: ThreadEnv): UserCode {
      if (env.arg === 0) return; // first life: exit at once
      env.receiveCapInto(capIndex(20));
      yield env.wait(TEN_US);
    });
    const ta = kernel.createThread(a, victim, { name: 'ta', priority: 5 });
    kernel.mapCap(b, 16, ta, CapRights.ALL);
    kernel.mapCap(b, 17, a, CapRights.ALL);
    const results: number[] = [];
    kernel.createThread(
      b,
      program(function* (env: ThreadEnv): UserCode {
        yield env.compute(1000);
        results.push(yield* env.task.deleteObject(capIndex(17)));
        results.push(yield* env.thread(capIndex(16)).exRegs(env.addressOf(victim), 1));
        env.utcb.setMr(0, mapItemControl(0));
        env.utcb.setMr(1, objFpage(5, 0, CapRights.ALL));
        const tag: number = yield env.send(capIndex(16), msgtag(0, 0, 1), timeouts(timeoutUs(50), 0));
        results.push(env.error(tag));
      }),
      { name: 'tb', priority: 1 },
    );
    const { result, problems } = stepAndCheck(kernel);
    expect(problems).toEqual([]);
    expect(result.reason).toBe('exited');
    expect(results).toEqual([0, -22, -(2000 + IpcError.ENOT_EXISTENT)]);
    expect(ta.task?.alive).toBe(false);
  });

  // Found by review: a closed receive from a thread or an Irq that is then deleted used
  // to wait forever. Each thread and Irq now keeps an intrusive list of its closed
  // receivers, so deletion fails them in time proportional to their number.
  it('fails a closed receive whose partner thread or Irq is deleted (RENOT_EXISTENT)', () => {
    const kernel = new Kernel({ platform: createTestPlatform() });
    const a = kernel.createTask('a');
    kernel.createThread(
      a,
      program(function* (env: ThreadEnv): UserCode {
        yield env.compute(1000);
      }),
      { name: 'peer', priority: 1, slot: 16 },
    );
    kernel.mapCap(a, 20, kernel.createIrq('irq'), CapRights.ALL);
    const errors: number[] = [];
    kernel.createThread(
      a,
      program(function* (env: ThreadEnv): UserCode {
        const tag: number = yield env.receive(capIndex(16));
        errors.push(env.error(tag));
      }),
      { name: 'fromThread', priority: 5 },
    );
    kernel.createThread(
      a,
      program(function* (env: ThreadEnv): UserCode {
        yield* env.irq(capIndex(20)).attach(4);
        const tag: number = yield env.receive(capIndex(20));
        errors.push(env.error(tag));
      }),
      { name: 'fromIrq', priority: 5, slot: 17 },
    );
    kernel.createThread(
      a,
      program(function* (env: ThreadEnv): UserCode {
        yield env.compute(100);
        yield* env.task.deleteObject(capIndex(16));
        yield* env.task.deleteObject(capIndex(20));
      }),
      { name: 'deleter', priority: 3, slot: 18 },
    );
    const r = kernel.run();
    expect(r.reason).toBe('exited');
    expect(errors).toEqual([-(2000 + IpcError.RENOT_EXISTENT), -(2000 + IpcError.RENOT_EXISTENT)]);
  });
});
