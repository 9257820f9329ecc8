import {
  CapRights,
  IpcError,
  type Kernel,
  msgtag,
  type Task,
  type ThreadEnv,
  tagLabel,
  tagWords,
  type UserCode,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, connect, spawn } from './helpers';

const MR_MAX = 63;
const LABEL = 0x40;

interface Outcome {
  received: number[];
  receivedLabel: number;
  replyWords: number[];
  replyLabel: number;
}

/**
 * One call with `words` words from a client to a server, each filling its MRs with a
 * pattern the other checks. Start order and priorities vary; returns what each saw.
 */
function roundTrip(options: {
  words: number;
  serverFirst: boolean;
  clientPrio: number;
  serverPrio: number;
  sameTask: boolean;
}): { k: Kernel; out: Outcome } {
  const k = boot();
  const serverTask = k.createTask('server-task');
  const clientTask: Task = options.sameTask ? serverTask : k.createTask('client-task');
  const out: Outcome = { received: [], receivedLabel: -1, replyWords: [], replyLabel: 0 };
  const { words } = options;
  const server = function* (env: ThreadEnv): UserCode {
    const tag: number = yield env.wait();
    out.receivedLabel = env.label;
    for (let i = 0; i < tagWords(tag); i++) out.received.push(env.utcb.mr(i));
    for (let i = 0; i < words; i++) env.utcb.setMr(i, 1000 + i);
    yield env.reply(msgtag(7, words));
  };
  const client = function* (env: ThreadEnv): UserCode {
    for (let i = 0; i < words; i++) env.utcb.setMr(i, i * 3 + 1);
    const tag: number = yield env.call(CAP0, msgtag(5, words));
    out.replyLabel = tagLabel(tag);
    for (let i = 0; i < tagWords(tag); i++) out.replyWords.push(env.utcb.mr(i));
  };
  const startServer = () => spawn(k, serverTask, server, { name: 'server', priority: options.serverPrio });
  const startClient = (st: ReturnType<typeof startServer>) => {
    connect(k, clientTask, st, LABEL);
    return spawn(k, clientTask, client, { name: 'client', priority: options.clientPrio });
  };
  if (options.serverFirst) {
    const st = startServer();
    startClient(st);
  } else {
    // Client starts first: its call finds nobody waiting and queues on the server.
    const st = spawn(k, serverTask, server, { name: 'server', priority: options.serverPrio, inactive: true });
    startClient(st);
    k.run();
    k.startThread(st, k.now());
  }
  return { k, out };
}

describe('IPC call and reply (sel4test IPC group)', () => {
  const cases: [string, number, number][] = [
    ['sender below receiver', 1, 2],
    ['sender equal to receiver', 2, 2],
    ['sender above receiver', 3, 2],
  ];
  for (const sameTask of [false, true]) {
    for (const serverFirst of [true, false]) {
      for (const [what, clientPrio, serverPrio] of cases) {
        it(`carries every length 0–${MR_MAX} (${sameTask ? 'same task' : 'cross task'}, ${serverFirst ? 'receiver' : 'sender'} first, ${what})`, () => {
          for (let words = 0; words <= MR_MAX; words++) {
            const { k, out } = roundTrip({ words, serverFirst, clientPrio, serverPrio, sameTask });
            const r = k.run();
            expect(r.reason).toBe('exited');
            expect(out.received).toEqual(Array.from({ length: words }, (_, i) => i * 3 + 1));
            expect(out.replyWords).toEqual(Array.from({ length: words }, (_, i) => 1000 + i));
            expect(out.replyLabel).toBe(7);
            // The gate label reaches the server with the client's W right in bit 0.
            expect(out.receivedLabel).toBe(LABEL | CapRights.W);
            expect(k.ipcCount).toBe(2);
          }
        });
      }
    }
  }

  it('round-trips full 64-bit words exactly', () => {
    const k = boot();
    const st = k.createTask('s');
    const ct = k.createTask('c');
    const values = [0n, 1n, 2n ** 63n, 2n ** 64n - 1n, 0xdead_beef_cafe_f00dn];
    const got: bigint[] = [];
    const server = spawn(k, st, function* (env: ThreadEnv): UserCode {
      const tag: number = yield env.wait();
      for (let i = 0; i < tagWords(tag); i++) got.push(env.utcb.word64(i));
      yield env.reply(0);
    });
    connect(k, ct, server, 0x10);
    spawn(k, ct, function* (env: ThreadEnv): UserCode {
      for (const [i, v] of values.entries()) env.utcb.setWord64(i, v);
      yield env.call(CAP0, msgtag(0, values.length));
    });
    k.run();
    expect(got).toEqual(values);
  });

  it('delivers a plain send and lets the sender continue', () => {
    const k = boot();
    const t = k.createTask('t');
    const seen: number[] = [];
    const rx = spawn(k, t, function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 3; i++) {
        yield env.wait();
        seen.push(env.utcb.mr(0));
      }
    });
    connect(k, t, rx, 0x20);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 3; i++) {
        env.utcb.setMr(0, i);
        const tag: number = yield env.send(CAP0, msgtag(0, 1));
        expect(env.error(tag)).toBe(0);
      }
    });
    expect(k.run().reason).toBe('exited');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('receives from one partner only with a closed receive', () => {
    const k = boot();
    const t = k.createTask('t');
    const order: string[] = [];
    // Thread caps at slots 40 (a), 41 (b) and 42 (the receiver).
    const rx = spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.receive(41 * 4096);
      order.push(`from b: ${env.utcb.mr(0)}`);
      yield env.receive(40 * 4096);
      order.push(`from a: ${env.utcb.mr(0)}`);
    });
    const mk = (v: number) =>
      function* (env: ThreadEnv): UserCode {
        env.utcb.setMr(0, v);
        yield env.send(42 * 4096, msgtag(0, 1));
      };
    const a = spawn(k, t, mk(1), { name: 'a' });
    const b = spawn(k, t, mk(2), { name: 'b' });
    k.mapCap(t, 40, a, CapRights.ALL);
    k.mapCap(t, 41, b, CapRights.ALL);
    k.mapCap(t, 42, rx, CapRights.ALL);
    expect(k.run().reason).toBe('exited');
    expect(order).toEqual(['from b: 2', 'from a: 1']);
  });

  it('serves callers in priority order, FIFO within a priority', () => {
    const k = boot();
    const t = k.createTask('t');
    const served: string[] = [];
    const server = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(10); // lets every client queue up first
        let tag: number = yield env.wait();
        for (let i = 0; i < 5; i++) {
          served.push(`p${env.utcb.mr(0)}#${env.utcb.mr(1)}`);
          tag = yield env.replyAndWait(0);
        }
        void tag;
      },
      { name: 'server', priority: 0 },
    );
    connect(k, t, server, 0x10);
    const client = (prio: number, n: number) =>
      spawn(
        k,
        t,
        function* (env: ThreadEnv): UserCode {
          env.utcb.setMr(0, prio);
          env.utcb.setMr(1, n);
          yield env.call(CAP0, msgtag(0, 2));
        },
        { name: `c${prio}.${n}`, priority: prio },
      );
    client(3, 1);
    client(5, 1);
    client(3, 2);
    client(9, 1);
    client(5, 2);
    k.run();
    expect(served).toEqual(['p9#1', 'p5#1', 'p5#2', 'p3#1', 'p3#2']);
  });

  it('counts IPCs and ends idle when only servers wait', () => {
    const k = boot();
    const st = k.createTask('s');
    const ct = k.createTask('c');
    const server = spawn(k, st, function* (env: ThreadEnv): UserCode {
      yield env.wait();
      for (;;) yield env.replyAndWait(0);
    });
    connect(k, ct, server, 0x10);
    spawn(k, ct, function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 10; i++) yield env.call(CAP0, 0);
    });
    const r = k.run();
    expect(r.reason).toBe('idle');
    expect(r.ipcCount).toBe(20);
    expect(r.blocked).toEqual([
      { thread: 's.thread0', state: 'recv-wait', waitingFor: 'a message from any sender' },
    ]);
  });

  it('reports a reply-phase error precisely when the reply carries too many words', () => {
    const k = boot();
    const t = k.createTask('t');
    let replyErr = 0;
    const server = spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.wait();
      const tag: number = yield env.reply(msgtag(0, 63, 1));
      replyErr = env.utcb.error;
      void tag;
      yield env.reply(0);
    });
    connect(k, t, server, 0x10);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.call(CAP0, 0);
    });
    expect(k.run().reason).toBe('exited');
    expect(replyErr).toBe(IpcError.SEMSGCUT);
  });
});
