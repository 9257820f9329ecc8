import {
  CapRights,
  capIndex,
  Errno,
  type Kernel,
  msgtag,
  type ThreadEnv,
  type UserCode,
} from '@pecan/kernel';
import { checkInvariants } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, connect, spawn } from './helpers';

/** The names of the threads the CPU ran, in order, collapsing repeats. */
function runOrder(k: Kernel, cpu = 0): string[] {
  const order: string[] = [];
  k.events.on('schedule', (e) => {
    if (e.cpu === cpu && e.to && order.at(-1) !== e.to.name) order.push(e.to.name);
  });
  return order;
}

describe('scheduling', () => {
  it('round-robins threads of equal priority on time-slice expiry', () => {
    const k = boot();
    const t = k.createTask('t');
    const order = runOrder(k);
    for (const name of ['a', 'b', 'c']) {
      spawn(
        k,
        t,
        function* (env: ThreadEnv): UserCode {
          yield env.compute(250_000); // 2.5 slices of the default 100,000 cycles
        },
        { name, priority: 5 },
      );
    }
    expect(k.run().reason).toBe('exited');
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('uses a thread’s own quantum', () => {
    const k = boot();
    const t = k.createTask('t');
    const order = runOrder(k);
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(300);
      },
      { name: 'short', quantum: 100 },
    );
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(300);
      },
      { name: 'long', quantum: 1000 },
    );
    k.run();
    expect(order).toEqual(['short', 'long', 'short']);
  });

  it('a higher priority runs first and is never preempted by lower ones', () => {
    const k = boot();
    const t = k.createTask('t');
    const order = runOrder(k);
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(500_000);
      },
      { name: 'low', priority: 1 },
    );
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(500_000);
      },
      { name: 'high', priority: 9 },
    );
    k.run();
    expect(order).toEqual(['low', 'high', 'low']);
  });

  it('a high-priority thread woken by IPC preempts a computing low-priority thread at once', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const order = runOrder(k, 0);
    const hi = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.wait();
      },
      { name: 'hi', priority: 9, cpu: 0 },
    );
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(1_000_000);
      },
      { name: 'lo', priority: 1, cpu: 0 },
    );
    connect(k, t, hi, 0x10);
    let sentAt = 0;
    k.events.on('ipc', (e) => {
      sentAt = e.time;
    });
    let resumedAt = 0;
    k.events.on('schedule', (e) => {
      if (e.to?.name === 'hi' && sentAt > 0 && resumedAt === 0) resumedAt = e.time;
    });
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(20_000);
        yield env.send(CAP0, 0);
      },
      { name: 'waker', cpu: 1 },
    );
    k.run();
    expect(order).toEqual(['hi', 'lo', 'hi', 'lo']);
    // The wake-up happened mid-compute on cpu0, not at the end of lo's million cycles.
    expect(resumedAt - sentAt).toBeLessThan(1000);
    expect(resumedAt).toBeLessThan(100_000);
  });

  it('runs threads on their CPUs, and IPC crosses CPUs', () => {
    const k = boot({ cpus: 3 });
    const t = k.createTask('t');
    const cpusSeen = new Set<string>();
    k.events.on('schedule', (e) => {
      if (e.to) cpusSeen.add(`${e.to.name}@${e.cpu}`);
    });
    const server = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.wait();
        for (;;) yield env.replyAndWait(msgtag(0, 1));
      },
      { name: 'server', cpu: 2 },
    );
    connect(k, t, server, 0x10);
    let replies = 0;
    for (const cpu of [0, 1]) {
      spawn(
        k,
        t,
        function* (env: ThreadEnv): UserCode {
          for (let i = 0; i < 5; i++) {
            const tag: number = yield env.call(CAP0, 0);
            if (env.error(tag) === 0) replies++;
          }
        },
        { name: `client${cpu}`, cpu },
      );
    }
    expect(k.run().reason).toBe('idle');
    expect(replies).toBe(10);
    expect([...cpusSeen].sort()).toEqual(['client0@0', 'client1@1', 'server@2']);
  });

  it('Scheduler.run_thread moves a thread to another CPU and priority; the scheduler’s limits hold', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const limited = k.createScheduler('limited', 10, 0b01);
    k.mapCap(t, 20, limited, CapRights.RWS);
    const results: number[] = [];
    const worker = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(100);
      },
      { name: 'worker', inactive: true },
    );
    k.mapCap(t, 21, worker, CapRights.ALL);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      results.push(yield* env.scheduler.runThread(capIndex(21), 200, 1));
      const lim = new (Object.getPrototypeOf(env.scheduler).constructor)(
        env,
        capIndex(20),
      ) as typeof env.scheduler;
      results.push(yield* lim.runThread(capIndex(21), 11, 0));
      results.push(yield* lim.runThread(capIndex(21), 10, 1));
      results.push(yield* lim.runThread(capIndex(21), 256, 0));
      results.push(yield* lim.runThread(capIndex(21), 5, 7));
      results.push(yield* lim.runThread(capIndex(99), 5, 0));
      results.push(yield* lim.runThread(capIndex(21), 10, 0));
    });
    k.run();
    expect(results).toEqual([0, -Errno.EPERM, -Errno.EPERM, -Errno.EINVAL, -Errno.EINVAL, -Errno.EINVAL, 0]);
    expect([worker.prio, worker.cpu]).toEqual([10, 0]);
  });

  it('a derived scheduler can only narrow its parent', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const results: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      results.push(yield* env.factory.createScheduler(capIndex(30), capIndex(7), 50, 0b01));
      results.push(yield* env.factory.createScheduler(capIndex(31), capIndex(30), 60, 0b01));
      results.push(yield* env.factory.createScheduler(capIndex(32), capIndex(30), 40, 0b11));
      results.push(yield* env.factory.createScheduler(capIndex(33), capIndex(30), 40, 0b01));
    });
    k.run();
    expect(results).toEqual([0, -Errno.EPERM, -Errno.EPERM, 0]);
  });
});

describe('run results', () => {
  it('reports a deadlock, naming each thread and what it waits for, instead of hanging', () => {
    const k = boot();
    const a = k.createTask('a');
    const b = k.createTask('b');
    const ta = spawn(
      k,
      a,
      function* (env: ThreadEnv): UserCode {
        yield env.call(CAP0, 0);
      },
      { name: 'alice' },
    );
    const tb = spawn(
      k,
      b,
      function* (env: ThreadEnv): UserCode {
        yield env.call(CAP0, 0);
      },
      { name: 'bob' },
    );
    connect(k, a, tb, 0x10);
    connect(k, b, ta, 0x20);
    const r = k.run();
    expect(r.reason).toBe('deadlock');
    expect(r.blocked).toEqual([
      { thread: 'alice', state: 'send-wait', waitingFor: '"bob" to receive (through gate "gate16")' },
      { thread: 'bob', state: 'send-wait', waitingFor: '"alice" to receive (through gate "gate32")' },
    ]);
    expect(r.message).toContain('deadlock: "alice" waits for "bob" to receive');
  });

  it('stops at a virtual-time limit and can continue', () => {
    const k = boot();
    const t = k.createTask('t');
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 10; i++) yield env.compute(1000);
    });
    const r1 = k.run({ maxTime: 5000 });
    expect(r1.reason).toBe('time-limit');
    expect(r1.time).toBeLessThanOrEqual(6000);
    expect(k.run().reason).toBe('exited');
  });

  it('stops at a step limit', () => {
    const k = boot();
    const t = k.createTask('t');
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      for (;;) yield env.compute(1);
    });
    const r = k.run({ maxSteps: 50 });
    expect(r.reason).toBe('step-limit');
    expect(r.steps).toBe(50);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('is deterministic: the same image and seed give the same schedule; seeds break ties', () => {
    const image = (seed: number) => {
      const k = boot({ cpus: 2, seed });
      const t = k.createTask('t');
      const server = spawn(
        k,
        t,
        function* (env: ThreadEnv): UserCode {
          yield env.wait();
          for (;;) yield env.replyAndWait(0);
        },
        { name: 'server', cpu: 0, priority: 3 },
      );
      connect(k, t, server, 0x10);
      for (const cpu of [0, 1]) {
        spawn(
          k,
          t,
          function* (env: ThreadEnv): UserCode {
            for (let i = 0; i < 4; i++) yield env.call(CAP0, 0);
          },
          { name: `c${cpu}`, cpu },
        );
      }
      const trace: string[] = [];
      k.events.on('ipc', (e) => trace.push(`${e.time}:${e.from?.name}>${e.to.name}`));
      const r = k.run();
      return JSON.stringify([r.reason, r.time, r.ipcCount, trace]);
    };
    expect(image(1)).toBe(image(1));
    expect(image(7)).toBe(image(7));
    const distinct = new Set([0, 1, 2, 3, 4, 5, 6, 7].map(image));
    expect(distinct.size).toBeGreaterThan(1);
  });
});
