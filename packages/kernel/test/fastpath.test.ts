import { msgtag, type ThreadEnv, TIMEOUT_NEVER, timeouts, timeoutUs, type UserCode } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, connect, spawn } from './helpers';

/**
 * A workload that mixes fastpath-eligible calls with ones that must take the full
 * path (typed items, timeouts, queued senders, several priorities and CPUs).
 */
function workload(fastpath: boolean, cpus: number): string {
  const k = boot({ fastpath, cpus, seed: 5 });
  const st = k.createTask('server');
  const ct = k.createTask('client');
  const server = spawn(
    k,
    st,
    function* (env: ThreadEnv): UserCode {
      let tag: number = yield env.wait();
      for (let i = 0; ; i++) {
        const words = tag & 0x3f;
        for (let w = 0; w < words; w++) env.utcb.setMr(w, env.utcb.mr(w) * 2);
        if (i % 7 === 3) yield env.compute(500);
        tag = yield env.replyAndWait(
          msgtag(0, words),
          i % 5 === 0 ? timeouts(TIMEOUT_NEVER, timeoutUs(1000)) : 0,
        );
      }
    },
    { name: 'server', priority: 4, cpu: 0 },
  );
  connect(k, ct, server, 0x10);
  const sums: number[] = [];
  for (let c = 0; c < 3; c++) {
    spawn(
      k,
      ct,
      function* (env: ThreadEnv): UserCode {
        for (let i = 0; i < 40; i++) {
          const words = (i * 7 + c) % 9;
          for (let w = 0; w < words; w++) env.utcb.setMr(w, i + w);
          const tag: number = yield env.call(
            CAP0,
            msgtag(0, words),
            i % 3 === 0 ? timeouts(TIMEOUT_NEVER, timeoutUs(5000)) : 0,
          );
          let sum = env.error(tag);
          for (let w = 0; w < (tag & 0x3f); w++) sum += env.utcb.mr(w);
          sums.push(sum);
          if (i % 4 === 1) yield env.compute(300 * c);
        }
      },
      { name: `client${c}`, priority: 2 + (c % 2), cpu: c % cpus },
    );
  }
  const r = k.run();
  const threads = [...k.threads].map((t) => [t.name, t.state, t.cyclesUsed, t.sliceLeft]);
  return JSON.stringify({
    r: [r.reason, r.time, r.ipcCount, r.steps],
    sums,
    threads,
    cpus: k.cpus.map((c) => [c.time, c.switches, c.idleCycles]),
  });
}

describe('IPC fastpath', () => {
  it('changes nothing observable: same results, cycles and schedule as the full path (1 CPU)', () => {
    expect(workload(true, 1)).toBe(workload(false, 1));
  });

  it('changes nothing observable on 2 CPUs either', () => {
    expect(workload(true, 2)).toBe(workload(false, 2));
  });
});
