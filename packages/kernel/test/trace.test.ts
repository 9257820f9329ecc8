import { exportChromeTrace, type ThreadEnv, TraceRecorder, type UserCode } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, connect, logLines, spawn } from './helpers';

function tracedRun(seed: number): string {
  const k = boot({ cpus: 2, seed });
  const st = k.createTask('server');
  const ct = k.createTask('client');
  const server = spawn(
    k,
    st,
    function* (env: ThreadEnv): UserCode {
      yield env.wait();
      for (;;) yield env.replyAndWait(0);
    },
    { name: 'server', cpu: 1 },
  );
  connect(k, ct, server, 0x10);
  spawn(
    k,
    ct,
    function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 3; i++) yield env.call(CAP0, 0);
      yield* env.print('done');
    },
    { name: 'client', cpu: 0 },
  );
  const rec = new TraceRecorder(k);
  k.run();
  return exportChromeTrace(rec.finish());
}

describe('Chrome trace export', () => {
  it('has one track per CPU, thread slices, and IPC as paired flow arrows', () => {
    const json = JSON.parse(tracedRun(1)) as {
      traceEvents: { ph: string; tid: number; id?: number; name: string; args?: { name?: string } }[];
    };
    const ev = json.traceEvents;
    expect(ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name)).toEqual([
      'cpu0',
      'cpu1',
    ]);
    const slices = ev.filter((e) => e.ph === 'X');
    expect(new Set(slices.map((e) => `${e.name}@${e.tid}`))).toEqual(new Set(['client@0', 'server@1']));
    const starts = ev.filter((e) => e.ph === 's');
    const ends = ev.filter((e) => e.ph === 'f');
    expect(starts).toHaveLength(6);
    expect(ends.map((e) => e.id)).toEqual(starts.map((e) => e.id));
    // A call goes from cpu0 to cpu1, its reply back.
    expect(starts.map((e) => e.tid)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(ends.map((e) => e.tid)).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it('is byte-identical for the same image and seed', () => {
    expect(tracedRun(3)).toBe(tracedRun(3));
  });
});

describe('Log', () => {
  it('captures output per task, including text longer than one message', () => {
    const k = boot();
    const t = k.createTask('talker');
    const long = 'x'.repeat(1000);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      expect(yield* env.print('héllo ✓')).toBe(0);
      expect(yield* env.print(long)).toBe(0);
    });
    k.run();
    expect(logLines(k)[0]).toBe('talker: héllo ✓');
    expect(logLines(k).slice(1).join('')).toBe(
      `talker: ${'x'.repeat(488)}talker: ${'x'.repeat(488)}talker: ${'x'.repeat(24)}`,
    );
  });

  it('sends output to a host sink when one is given', () => {
    const lines: string[] = [];
    const k = boot({ logSink: (e) => lines.push(`[${e.tag}] ${e.text}`) });
    const t = k.createTask('t');
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield* env.print('to the sink');
    });
    k.run();
    expect(lines).toEqual(['[t] to the sink']);
    expect(k.logOutput).toEqual([]);
  });
});

describe('schedule events', () => {
  it('name the thread switched from and to', () => {
    const k = boot();
    const t = k.createTask('t');
    const switches: string[] = [];
    k.events.on('schedule', (e) => switches.push(`${e.from?.name ?? '-'}>${e.to?.name ?? 'idle'}`));
    for (const name of ['a', 'b']) {
      spawn(
        k,
        t,
        function* (env: ThreadEnv): UserCode {
          yield env.compute(150_000);
        },
        { name },
      );
    }
    k.run();
    expect(switches).toEqual(['->a', 'a>b', 'b>a', 'a>b', 'b>idle']);
  });
});
