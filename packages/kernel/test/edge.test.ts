import {
  CapRights,
  capIndex,
  Errno,
  Invoke,
  IpcError,
  mapItemControl,
  msgtag,
  objFpage,
  Proto,
  program,
  TaskRef,
  type ThreadEnv,
  TIMEOUT_NEVER,
  timeouts,
  type UserCode,
} from '@pecan/kernel';
import { checkInvariants } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, connect, spawn } from './helpers';

describe('edge cases found in review', () => {
  it('delivers gate labels up to 2^53 exactly, with the rights in the low bits', () => {
    for (const label of [2 ** 31, 2 ** 32, 2 ** 40, 2 ** 52]) {
      for (const fastpath of [true, false]) {
        const k = boot({ fastpath });
        const t = k.createTask('t');
        let got = 0;
        const server = spawn(k, t, function* (env: ThreadEnv): UserCode {
          yield env.wait();
          got = env.label;
          yield env.reply(0);
        });
        connect(k, t, server, label, 0, CapRights.RWS);
        spawn(k, t, function* (env: ThreadEnv): UserCode {
          yield env.call(CAP0, 0);
        });
        k.run();
        expect(got).toBe(label + 3);
      }
    }
  });

  it('treats every zero-mantissa encoding as the zero timeout', () => {
    const k = boot();
    const t = k.createTask('t');
    const errs: number[] = [];
    let switches = 0;
    k.events.on('schedule', () => switches++);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      for (const zero of [0x0400, 0x0800, 0x7c00]) {
        yield env.wait(timeouts(TIMEOUT_NEVER, zero));
        errs.push(env.utcb.error);
      }
    });
    k.run();
    expect(errs).toEqual([IpcError.RETIMEOUT, IpcError.RETIMEOUT, IpcError.RETIMEOUT]);
    expect(switches).toBe(2); // dispatched once, idle once at the end: it never blocked
  });

  it('tells the receiver where each received capability landed', () => {
    const k = boot();
    const a = k.createTask('a');
    const b = k.createTask('b');
    let words: number[] = [];
    let tagItems = -1;
    const rx = spawn(k, b, function* (env: ThreadEnv): UserCode {
      env.utcb.setBr(0, objFpage(32, 2, 0)); // a window of four slots
      env.utcb.setBr(1, 0);
      const tag: number = yield env.wait();
      tagItems = (tag >>> 6) & 0x3f;
      words = [0, 1, 2].map((i) => env.utcb.mr(i));
    });
    connect(k, a, rx, 0x10);
    spawn(k, a, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, 77);
      env.utcb.setMr(1, mapItemControl(1)); // hot spot 1: lands at window slot 33
      env.utcb.setMr(2, objFpage(5, 0, CapRights.R));
      yield env.send(CAP0, msgtag(0, 1, 1));
    });
    k.run();
    expect(tagItems).toBe(1);
    expect(words).toEqual([77, mapItemControl(1), objFpage(33, 0, CapRights.R)]);
    expect(b.caps.lookup(33)?.payload.name).toBe('log:a');
  });

  it('re-sorts a queued sender whose priority changes', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const order: string[] = [];
    const server = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(50_000); // on cpu1, while the senders queue up on cpu0
        yield env.wait();
        for (;;) {
          order.push(`c${env.utcb.mr(0)}`);
          yield env.replyAndWait(0);
        }
      },
      { name: 'server', cpu: 1 },
    );
    connect(k, t, server, 0x10);
    const clients = [1, 2, 3].map((n) =>
      spawn(
        k,
        t,
        function* (env: ThreadEnv): UserCode {
          env.utcb.setMr(0, n);
          yield env.call(CAP0, msgtag(0, 1));
        },
        { name: `c${n}`, priority: 5, slot: 40 + n },
      ),
    );
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(10_000);
        expect(yield* env.scheduler.runThread(capIndex(43), 9, 0)).toBe(0);
      },
      { priority: 1 },
    );
    k.run();
    expect(clients.map((c) => c.prio)).toEqual([5, 5, 9]);
    expect(order).toEqual(['c3', 'c1', 'c2']);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('reports a kernel object’s error at once when it was invoked with send + open wait', () => {
    const k = boot();
    const t = k.createTask('t');
    let err = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, 99); // no such log operation
      const tag: number = yield env.invoke(
        capIndex(5) | Invoke.SEND | Invoke.RECV | Invoke.OPEN_WAIT,
        msgtag(Proto.LOG, 2),
      );
      err = env.error(tag);
    });
    expect(k.run().reason).toBe('exited');
    expect(err).toBe(-Errno.ENOSYS);
  });

  it('Task.map of a capability onto its own slot fails in decode, and cap info answers for index 0', () => {
    const k = boot();
    const t = k.createTask('t');
    let out: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      const self = new TaskRef(env, capIndex(1));
      out = [
        yield* self.map(capIndex(1), objFpage(5, 0, 0xf), capIndex(5)),
        yield* self.map(capIndex(1), objFpage(5, 0, 0xf), capIndex(5), true),
        yield* env.task.capValid(0),
      ];
    });
    k.run();
    expect(out).toEqual([-Errno.EEXIST, 0, 0]);
  });

  it('a thread whose task was deleted can be rebound to a live task and started again', () => {
    const k = boot();
    const doomed = k.createTask('doomed');
    const home = k.createTask('home');
    const log: string[] = [];
    const worker = spawn(
      k,
      doomed,
      function* (env: ThreadEnv): UserCode {
        log.push(`ran with ${env.arg}`);
      },
      { name: 'worker', inactive: true },
    );
    k.mapCap(home, 20, worker, CapRights.ALL);
    k.deleteObject(doomed);
    spawn(k, home, function* (env: ThreadEnv): UserCode {
      const w = env.thread(capIndex(20));
      const entry = env.addressOf(k.code.lookup(worker.ip)!);
      expect(yield* w.exRegs(entry, 5)).toBe(-Errno.EINVAL);
      expect(yield* w.control({ bindTask: capIndex(1) })).toBe(0);
      expect(yield* w.exRegs(entry, 6)).toBe(0);
    });
    k.run();
    expect(log).toEqual(['ran with 6']);
  });

  it('spawns threads from user level: factory, control (Fiasco layout), scheduler, ex_regs', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const seen: string[] = [];
    const children = [0, 1].map((n) =>
      program(function* (env: ThreadEnv): UserCode {
        seen.push(`child ${n} arg=${env.arg}`);
      }),
    );
    const caps: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      for (const [n, child] of children.entries()) {
        caps.push(yield* env.spawn(child, { priority: 3, cpu: n, arg: 40 + n }));
      }
    });
    const r = k.run();
    expect(r.dead).toEqual([]);
    expect(caps.every((c) => c > 0)).toBe(true);
    expect(seen.sort()).toEqual(['child 0 arg=40', 'child 1 arg=41']);
    const threads = [...k.threads].filter((x) => x.name.startsWith('t.obj'));
    expect(threads.map((x) => [x.prio, x.cpu])).toEqual([
      [3, 0],
      [3, 1],
    ]);
  });
});

describe('oversized kernel-object messages', () => {
  it('are cut before any decoder reads past the UTCB (the last UTCB of its chunk included)', () => {
    const k = boot();
    const t = k.createTask('t');
    const codes: number[] = [];
    // 64 UTCBs per chunk: make the writer's UTCB the last one of the first chunk.
    for (let i = 0; i < 63; i++)
      k.createThread(
        t,
        program(function* (): UserCode {}),
        { inactive: true },
      );
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, 0);
      env.utcb.setMr(1, (63 + 2 * 63 - 2) * 8); // exactly what a 63-word, 63-item tag claims
      for (const [words, items] of [
        [63, 63],
        [1, 40],
        [62, 1],
      ] as const) {
        yield env.call(capIndex(5), msgtag(Proto.LOG, words, items));
        codes.push(env.utcb.error);
      }
    });
    expect(k.run().reason).toBe('exited');
    expect(codes).toEqual([IpcError.SEMSGCUT, IpcError.SEMSGCUT, IpcError.SEMSGCUT]);
  });
});
