import { Kernel, msgtag, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import {
  bootSystem,
  consoleWrite,
  defineSystem,
  namedCap,
  programEnvironment,
  systemConsole,
} from '@pecan/servers';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

const system = defineSystem({
  machine: { arch: 'x86_64', ram: '32M' },
  programs: {
    server: { module: './server.ts', serves: ['squares'], restart: 'on-failure', ram: '1M' },
    client: { module: './client.ts', caps: { squares: { gate: 'server/squares' } }, ram: '1M' },
  },
});

/** Squares numbers, and crashes on the third request of each start. */
const server = program(function* (env: ThreadEnv): UserCode<void> {
  let served = 0;
  let tag: number = yield env.wait();
  for (;;) {
    served++;
    if (served === 3) throw new Error('the server fails on its third request');
    const n = env.utcb.mr(0);
    env.utcb.setMr(0, n * n);
    tag = yield env.replyAndWait(msgtag(0, 1));
    void tag;
  }
});

describe.each(BACKENDS)('the root task on $name', (backend) => {
  it('starts programs with their named capabilities and environment, and restarts a crashed server', () => {
    const k = new Kernel({ platform: backend.create(32 * 1024 * 1024) });
    const results: number[] = [];
    const errors: number[] = [];
    let env0: unknown = null;
    const client = program(function* (env: ThreadEnv): UserCode<void> {
      env0 = yield* programEnvironment(env);
      const squares = yield* namedCap(env, 'squares');
      for (let i = 1; i <= 5; ) {
        env.utcb.setMr(0, i);
        const tag: number = yield env.call(squares, msgtag(1, 1));
        if (tag & 0x8000) {
          errors.push(env.error(tag)); // the server died under the call: try again
          continue;
        }
        results.push(env.utcb.mr(0));
        i++;
      }
      // Memory of its own, paged in by the root task's pager within its quota.
      yield* env.mem.writeU32(0x1000_0000, 42);
    });
    const booted = bootSystem(k, system, { server, client });
    const r = k.run();
    expect(r.dead).toEqual([]);
    expect(results).toEqual([1, 4, 9, 16, 25]);
    expect(errors.length).toBeGreaterThan(0);
    // Requests 3 and 5 (the third of each start) crash it; the client retries both.
    expect(booted.state.programs.get('server')).toMatchObject({ starts: 3, crashes: 2 });
    expect(booted.state.programs.get('client')).toMatchObject({ starts: 1, crashes: 0, exits: 1 });
    expect(env0).toEqual({ name: 'client', caps: { squares: 512 * 4096 }, ram: 1024 * 1024 });
    expect(k.logOutput.map((e) => e.text)).toEqual([
      'root: started server',
      'root: started client',
      'root: server crashed; restarting it (start 2)',
      'root: server crashed; restarting it (start 3)',
      'root: client exited',
    ]);
  });

  it("holds a program to its RAM quota: the page past it is refused, and the crash is not restarted by policy 'never'", () => {
    const k = new Kernel({ platform: backend.create(16 * 1024 * 1024) });
    let touched = 0;
    const greedy = program(function* (env: ThreadEnv): UserCode<void> {
      for (let i = 0; i < 8; i++) {
        yield* env.mem.writeU32(0x1000_0000 + i * 4096, i);
        touched++;
      }
    });
    const booted = bootSystem(
      k,
      {
        machine: { arch: 'x86_64' },
        programs: { greedy: { module: './greedy.ts', ram: '16K', restart: 'never' } },
      },
      { greedy },
    );
    k.run();
    expect(touched).toBe(4);
    expect(booted.state.programs.get('greedy')).toMatchObject({ starts: 1, crashes: 1 });
    expect(k.logOutput.map((e) => e.text)).toEqual([
      'root: started greedy',
      'root: greedy crashed; its policy does not restart it',
    ]);
  });

  it("restarts a program that exits only under policy 'always', at most 5 times by default", () => {
    const k = new Kernel({ platform: backend.create(16 * 1024 * 1024) });
    let runs = 0;
    const once = program(function* (env: ThreadEnv): UserCode<void> {
      runs++;
      yield env.compute(10);
    });
    const booted = bootSystem(
      k,
      {
        machine: { arch: 'x86_64' },
        programs: { again: { module: './again.ts', restart: 'always' }, once: { module: './once.ts' } },
      },
      { again: once, once },
    );
    k.run();
    expect(runs).toBe(7); // again: 1 + 5 restarts; once: 1
    expect(booted.state.programs.get('again')).toMatchObject({ starts: 6, exits: 6, crashes: 0 });
    expect(booted.state.programs.get('once')).toMatchObject({ starts: 1, exits: 1 });
    expect(k.logOutput.map((e) => e.text).filter((t) => t.includes('exited'))).toEqual([
      'root: again exited; restarting it (start 2)',
      'root: again exited; restarting it (start 3)',
      'root: again exited; restarting it (start 4)',
      'root: again exited; restarting it (start 5)',
      'root: again exited; restarting it (start 6)',
      'root: again exited',
      'root: once exited',
    ]);
  });

  it('refuses an invalid description before anything boots', () => {
    const k = new Kernel({ platform: backend.create(16 * 1024 * 1024) });
    expect(() =>
      bootSystem(
        k,
        { machine: { arch: 'x86_64' }, programs: { a: { module: './a.ts', caps: { x: { gate: 'b/y' } } } } },
        {
          a: server,
        },
      ),
    ).toThrow('programs.a.caps.x.gate: unknown program "b"');
    expect(k.threads.size).toBe(0);
  });
});

describe.each(BACKENDS)('the system console on $name', (backend) => {
  it('hands the UART to the console program as its `uart` device; clients print through it', () => {
    const platform = backend.create(32 * 1024 * 1024);
    const k = new Kernel({ platform });
    const printer = program(function* (env: ThreadEnv): UserCode<void> {
      const console = yield* namedCap(env, 'console');
      // Two writes make one line: the console buffers per client until the newline.
      expect(yield* consoleWrite(env, console, 'hello through ')).toBe(0);
      expect(yield* consoleWrite(env, console, 'the UART\n')).toBe(0);
    });
    bootSystem(
      k,
      {
        machine: { arch: 'x86_64' },
        programs: {
          console: { module: './console.ts', serves: ['out'], caps: { uart: { device: 'uart' } } },
          printer: { module: './printer.ts', caps: { console: { gate: 'console/out' } } },
        },
      },
      { console: systemConsole, printer },
    );
    const r = k.run();
    expect(r.dead).toEqual([]);
    const uart = (platform as unknown as { uart: { takeOutput(): string } }).uart;
    expect(uart.takeOutput()).toBe('[printer] hello through the UART\n');
  });
});
