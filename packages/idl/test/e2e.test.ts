import { type CallContext, IdlError } from '@pecan/idl/runtime';
import {
  CapRights,
  capIndex,
  Errno,
  IpcError,
  Kernel,
  MemRights,
  memFpage,
  msgtag,
  program,
  type Task,
  type ThreadEnv,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import {
  Calc,
  CalcClient,
  type CalcServer,
  DivByZero,
  Overflow,
  Rounding,
  serveCalc,
} from './golden/calc.golden';
import { DirClient, type DirServer, serveDir } from './golden/inherit.golden';
import { Gone, ObjectClient } from './golden/lib/base.golden';
import {
  type Everything,
  Mode,
  PagerClient,
  type PagerServer,
  Sink,
  SinkClient,
  type SinkServer,
  servePager,
  serveSink,
} from './golden/types.golden';

/** Slots where the client finds the gates: above what its capability allocator hands out. */
const CALC = capIndex(200);
const SINK = capIndex(201);
const PAGER = capIndex(202);
const GATE_LABEL = { calc: 0x10, sink: 0x20, pager: 0x30 } as const;

/** Runs a server task with the three services and a client task running `client`. */
function boot(client: (env: ThreadEnv) => UserCode<unknown>) {
  const k = new Kernel({ platform: createTestPlatform() });
  const serverTask = k.createTask('server');
  const clientTask = k.createTask('client');
  const seen = {
    logs: [] as string[],
    errors: [] as unknown[],
    labels: [] as [number, number][],
    kept: [] as number[],
  };
  const onError = (e: unknown): void => {
    seen.errors.push(e);
  };
  let stored: Everything | null = null;

  const calc: CalcServer = {
    add: (a, b) => (a + b) | 0,
    div(a, b, mode, ctx: CallContext) {
      seen.labels.push([ctx.label, ctx.rights]);
      if (b === 0) throw new DivByZero({ what: `${a} / 0` });
      if (a === 0xffffffff) throw new Overflow();
      if (a === 13) throw new RangeError('unlucky'); // undeclared: the client gets EIO
      const q = mode === Rounding.Up ? Math.ceil(a / b) : Math.floor(a / b);
      return { rem: a % b, result: q };
    },
    // A generator: a server method that enters the kernel itself before replying.
    *shift(p, dx, dy, ctx) {
      yield ctx.env.compute(100);
      yield* ctx.env.print(`shift ${p.x},${p.y}`);
      return { x: p.x + dx, y: p.y + dy };
    },
    log(text) {
      seen.logs.push(text);
    },
    ping() {},
  };

  const sink: SinkServer = {
    put(value) {
      stored = value;
    },
    get() {
      if (!stored) throw new Error('nothing stored');
      return stored;
    },
    *share(other, ctx) {
      // The capability arrived in one of our receive windows; it names a live object.
      if ((yield* ctx.env.task.capValid(other)) !== 1) throw new Error('received an empty slot');
      seen.labels.push([ctx.label, ctx.rights]);
      return other;
    },
    *keep(caps, ctx) {
      for (const c of caps) seen.kept.push(yield* ctx.env.task.capValid(c));
      return caps.length;
    },
  };

  const pager: PagerServer = {
    map() {},
    lend: (address) => ({ fpage: memFpage(Number(address), 12, MemRights.RW) }),
  };

  const start = (name: string, main: (env: ThreadEnv) => UserCode<unknown>) =>
    k.createThread(serverTask, program(main, name), { name, priority: 2 });
  const connect = (task: Task, slot: number, thread: ReturnType<typeof start>, label: number) =>
    k.mapCap(task, slot / 4096, k.createGate(thread, label), CapRights.RW);
  connect(
    clientTask,
    CALC,
    start('calc', (env) => serveCalc(env, calc, { onError })),
    GATE_LABEL.calc,
  );
  connect(
    clientTask,
    SINK,
    start('sink', (env) => serveSink(env, sink, { onError })),
    GATE_LABEL.sink,
  );
  connect(
    clientTask,
    PAGER,
    start('pager', (env) => servePager(env, pager, { onError })),
    GATE_LABEL.pager,
  );
  k.createThread(clientTask, program(client, 'client'), { name: 'client', priority: 1 });
  return { k, seen, serverTask, clientTask };
}

/** Runs `f` in the client and returns what it threw, for assertions outside the kernel. */
function* caught(f: () => UserCode<unknown>): UserCode<unknown> {
  try {
    return { returned: yield* f() };
  } catch (e) {
    return e;
  }
}

const everything: Everything = {
  flag: true,
  a: -128,
  b: 32767,
  c: -(2 ** 31),
  d: -(2n ** 63n),
  e: 255,
  f: 65535,
  g: 2 ** 32 - 1,
  h: 2n ** 64n - 1n,
  real: -0.5e-300,
  mode: Mode.Both,
  name: 'naïve café ☕',
  blob: new Uint8Array([0, 1, 2, 253, 254, 255]),
  triple: [1, 2, 3],
  grid: [
    [-1, 2],
    [3, -4],
  ],
  inners: [
    { small: 7, big: 2n ** 63n },
    { small: 0, big: 0n },
  ],
  tags: ['', 'abcd'],
  nested: [[], [1, 2]],
};

describe('generated stubs on the kernel: a client and servers in two tasks', () => {
  it('carries in, out, inout and return values, structs, enums and oneway messages', () => {
    const got: Record<string, unknown> = {};
    const { k, seen } = boot(function* (env) {
      const calc = new CalcClient(env, CALC);
      got.add = yield* calc.add(2, -5);
      got.div = yield* calc.div(17, 5, Rounding.Down);
      got.divUp = yield* calc.div(17, 5, Rounding.Up);
      got.shift = yield* calc.shift({ x: 1, y: 2 }, 10, -20);
      yield* calc.log('first');
      yield* calc.log('second');
      yield* calc.ping(); // a call after the sends: the server has handled both by now
      got.logs = [...seen.logs];
    });
    const r = k.run();
    expect(r.dead).toEqual([]);
    expect(got).toEqual({
      add: -3,
      div: { rem: 2, result: 3 },
      divUp: { rem: 2, result: 4 },
      shift: { x: 11, y: -18 },
      logs: ['first', 'second'],
    });
    // The server saw the gate label the client's capability was made with, and its W right.
    expect(seen.labels).toEqual([
      [GATE_LABEL.calc, CapRights.W],
      [GATE_LABEL.calc, CapRights.W],
    ]);
    expect(k.logOutput.map((e) => e.text)).toEqual(['shift 1,2']);
    expect(seen.errors).toEqual([]);
  });

  it('round-trips a value of every type through a server, extremes included', () => {
    let back: unknown;
    const { k } = boot(function* (env) {
      const sink = new SinkClient(env, SINK);
      yield* sink.put(everything);
      back = yield* sink.get();
    });
    expect(k.run().dead).toEqual([]);
    expect(back).toEqual(everything);
  });

  it('throws declared exceptions with their fields, and IdlError for everything else', () => {
    const outcomes: unknown[] = [];
    const { k, seen } = boot(function* (env) {
      const calc = new CalcClient(env, CALC);
      outcomes.push(yield* caught(() => calc.div(1, 0, Rounding.Down)));
      outcomes.push(yield* caught(() => calc.div(0xffffffff, 1, Rounding.Down)));
      outcomes.push(yield* caught(() => calc.div(13, 1, Rounding.Down)));
      outcomes.push(yield* caught(() => calc.add(2 ** 31, 0))); // fails before any IPC
      outcomes.push(yield* caught(() => new CalcClient(env, capIndex(300)).add(1, 2))); // empty slot
      outcomes.push(yield* caught(() => calc.add(40, 2)));
    });
    expect(k.run().dead).toEqual([]);
    const [zero, overflow, undeclared, badArg, badCap, ok] = outcomes;
    expect(zero).toBeInstanceOf(DivByZero);
    expect(zero).toMatchObject({ what: '1 / 0', name: 'DivByZero', idlName: 'demo.DivByZero' });
    expect(overflow).toBeInstanceOf(Overflow);
    expect(undeclared).toBeInstanceOf(IdlError);
    expect((undeclared as IdlError).code).toBe(-Errno.EIO);
    expect((undeclared as IdlError).isIpcError).toBe(false);
    expect((badArg as IdlError).code).toBe(-Errno.EINVAL);
    expect((badArg as IdlError).message).toBe('EINVAL: i32 value 2147483648 is out of range');
    expect((badCap as IdlError).code).toBe(-(2000 + IpcError.EINVALCAP));
    expect((badCap as IdlError).isIpcError).toBe(true);
    expect(ok).toEqual({ returned: 42 });
    // The server reported the undeclared exception and carried on.
    expect(seen.errors).toHaveLength(1);
    expect((seen.errors[0] as Error).message).toBe('unlucky');
  });

  it('a scalar method reuses one call object: no generator per call, and a failed call leaves it ready', () => {
    const outcomes: unknown[] = [];
    let same = false;
    const { k } = boot(function* (env) {
      const calc = new CalcClient(env, CALC);
      same = calc.add(1, 2) === calc.add(3, 4);
      outcomes.push(yield* caught(() => calc.add(3, 4)));
      outcomes.push(yield* caught(() => calc.div(1, 0, Rounding.Down))); // raises in the reply step
      outcomes.push(yield* caught(() => calc.div(9, 2, Rounding.Down)));
      // A call abandoned after its first step (the system call) is started over by the next.
      const abandoned = calc.add(5, 5);
      abandoned.next(0);
      outcomes.push(yield* caught(() => calc.add(20, 22)));
    });
    expect(k.run().dead).toEqual([]);
    expect(same).toBe(true);
    expect(outcomes[0]).toEqual({ returned: 7 });
    expect(outcomes[1]).toBeInstanceOf(DivByZero);
    expect(outcomes[2]).toEqual({ returned: { rem: 1, result: 4 } });
    expect(outcomes[3]).toEqual({ returned: 42 });
  });

  it('passes capabilities both ways through receive windows the stubs set up', () => {
    const got: Record<string, unknown> = {};
    const { k, seen, serverTask, clientTask } = boot(function* (env) {
      const sink = new SinkClient(env, SINK);
      yield* sink.put(everything);
      // Send our Sink capability over; the server returns it with only the r right.
      const shared = yield* sink.share(SINK);
      got.sharedIsNew = shared !== SINK;
      got.rights = yield* env.task.capRights(shared);
      // The returned capability works: call the same server through it.
      got.viaShared = (yield* new SinkClient(env, shared).get()).name;
      got.kept = yield* sink.keep([capIndex(5), SINK, CALC]);
      got.keptNone = yield* sink.keep([]);
    });
    expect(k.run().dead).toEqual([]);
    expect(got).toEqual({
      sharedIsNew: true,
      rights: CapRights.R,
      viaShared: everything.name,
      kept: 3,
      keptNone: 0,
    });
    expect(seen.kept).toEqual([1, 1, 1]);
    // Through the shared, r-only capability the server sees no W right in the label.
    expect(seen.labels).toEqual([[GATE_LABEL.sink, CapRights.W]]);
    expect(serverTask.caps.lookup(16)).toBeDefined(); // the first receive window got the Sink cap
    expect(clientTask.caps.lookup(16)).toBeDefined(); // the client's window got it back
    expect(seen.errors).toEqual([]);
  });

  it('marshals fpages as map items; until the kernel maps memory, the map fails precisely', () => {
    const outcomes: unknown[] = [];
    const { k, seen } = boot(function* (env) {
      const pager = new PagerClient(env, PAGER);
      outcomes.push(yield* caught(() => pager.map({ fpage: memFpage(0x10000, 12, MemRights.RW) })));
      outcomes.push(yield* caught(() => pager.lend(0x20000n)));
      outcomes.push(yield* caught(() => new CalcClient(env, CALC).add(1, 1))); // everyone survived
    });
    expect(k.run().dead).toEqual([]);
    // Request: the send phase fails, the waiting server gets the receive-phase code and waits again.
    expect((outcomes[0] as IdlError).code).toBe(-(2000 + IpcError.SEMAPFAILED));
    // Reply: the client gets the receive-phase code of the failed transfer.
    expect((outcomes[1] as IdlError).code).toBe(-(2000 + IpcError.REMAPFAILED));
    expect(outcomes[2]).toEqual({ returned: 2 });
    expect(seen.errors.map((e) => (e as IdlError).code)).toEqual([
      -(2000 + IpcError.REMAPFAILED),
      -(2000 + IpcError.SEMAPFAILED),
    ]);
  });

  it('answers malformed and unknown requests sent by hand with error labels, and survives', () => {
    const replies: [string, number][] = [];
    const { k, seen, serverTask } = boot(function* (env) {
      const u = env.utcb;
      const raw = function* (
        what: string,
        cap: number,
        label: number,
        words: number[],
        items: number[] = [],
      ): UserCode {
        words.forEach((w, i) => {
          u.setMr(i, w);
        });
        items.forEach((w, i) => {
          u.setMr(words.length + i, w);
        });
        const tag: number = yield env.call(cap, msgtag(label, words.length, items.length / 2));
        replies.push([what, env.error(tag) || tagLabel(tag)]);
      };
      const p = Calc.protocol;
      yield* raw('unknown protocol', CALC, 0x777, [0]);
      yield* raw('label 0', CALC, 0, []);
      yield* raw('unknown opcode', CALC, p, [99]);
      yield* raw('no opcode', CALC, p, []);
      yield* raw('missing argument', CALC, p, [Calc.opcodes.add, 1]);
      yield* raw('extra argument', CALC, p, [Calc.opcodes.add, 1, 2, 3]);
      yield* raw('i32 out of range', CALC, p, [Calc.opcodes.add, 2 ** 40, 1]);
      yield* raw('enum value unknown', CALC, p, [Calc.opcodes.div, 1, 1, 3]);
      yield* raw('string longer than its bound', CALC, p, [Calc.opcodes.log, 65, ...new Array(9).fill(0)]);
      // A capability the request does not expect: the server drops it again.
      yield* raw('unexpected cap', SINK, Sink.protocol, [Sink.opcodes.get], [0x8, capIndex(5) + 0x30 + 5]);
      yield* raw('cap where none fits', CALC, p, [Calc.opcodes.ping], [0x8, capIndex(5) + 0x30 + 5]);
      replies.push(['still serving', yield* new CalcClient(env, CALC).add(20, 22)]);
    });
    expect(k.run().dead).toEqual([]);
    expect(replies).toEqual([
      ['unknown protocol', -Errno.EBADPROTO],
      ['label 0', -Errno.EBADPROTO],
      ['unknown opcode', -Errno.ENOSYS],
      ['no opcode', -Errno.EMSGTOOSHORT],
      ['missing argument', -Errno.EMSGTOOSHORT],
      ['extra argument', -Errno.EMSGTOOLONG],
      ['i32 out of range', -Errno.EINVAL],
      ['enum value unknown', -Errno.EINVAL],
      ['string longer than its bound', -Errno.EINVAL],
      ['unexpected cap', -Errno.EMSGTOOLONG],
      // Calc arms no capability windows, so the kernel cuts the message at the sender.
      ['cap where none fits', -(2000 + IpcError.SEMSGCUT)],
      ['still serving', 42],
    ]);
    // The dropped capability's slot is empty again, and ready to be a window once more.
    expect(serverTask.caps.lookup(16)).toBeUndefined();
    expect(seen.errors.every((e) => e instanceof IdlError)).toBe(true);
  });

  it('serves inherited methods under their own protocol and opcode, to derived and base clients', () => {
    const k = new Kernel({ platform: createTestPlatform() });
    const st = k.createTask('server');
    const ct = k.createTask('client');
    let gone = false;
    const dir: DirServer = {
      version() {
        if (gone) throw new Gone();
        return { major: 1, minor: 2 };
      },
      size: () => 4096n,
      label: () => ({ text: 'root' }),
      baseVersion: () => ({ major: 3, minor: 4 }),
      list: (start, cookie) => ({ cookie: cookie + 1, result: ['a', 'b', 'c'].slice(start) }),
    };
    const server = k.createThread(
      st,
      program((env) => serveDir(env, dir), 'dir'),
      { priority: 2 },
    );
    const DIR = capIndex(200);
    k.mapCap(ct, 200, k.createGate(server, 0x40), CapRights.RW);
    const got: unknown[] = [];
    k.createThread(
      ct,
      program(function* (env) {
        const d = new DirClient(env, DIR);
        got.push(yield* d.version(), yield* d.size(), yield* d.label(), yield* d.baseVersion());
        got.push(yield* d.list(1, 41));
        // A client of the base interface talks to the derived server unchanged.
        got.push(yield* new ObjectClient(env, DIR).version());
        gone = true;
        got.push(yield* caught(() => d.version()));
      }, 'client'),
      { priority: 1 },
    );
    expect(k.run().dead).toEqual([]);
    expect(got.slice(0, 6)).toEqual([
      { major: 1, minor: 2 },
      4096n,
      { text: 'root' },
      { major: 3, minor: 4 },
      { cookie: 42, result: ['b', 'c'] },
      { major: 1, minor: 2 },
    ]);
    expect(got[6]).toBeInstanceOf(Gone);
  });
});
