import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CapRights,
  capIndex,
  exportChromeTrace,
  FIRST_FREE_SLOT,
  Kernel,
  program,
  summarizeTrace,
  type ThreadEnv,
  TraceRecorder,
  type UserCode,
} from '@pecan/kernel';
import { createTestPlatform, pingPong } from '@pecan/kernel/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index';

/** The recorder's event type (not exported by name). */
type ChromeTraceEvent = ReturnType<TraceRecorder['finish']>[number];

function io(cwd: string) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { cwd, stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pecan-trace-'));
}

/** The trace of `n` ping-pong round trips with `words` message words each way. */
function pingPongTrace(n: number, words: number): { json: string; ipcCount: number } {
  const system = pingPong(createTestPlatform(), n, words);
  const recorder = new TraceRecorder(system.kernel);
  system.run();
  return { json: exportChromeTrace(recorder.finish()), ipcCount: system.kernel.ipcCount };
}

/**
 * Two CPUs: a client on cpu0 calls a server on cpu1 three times through gate 0x10 and
 * once through gate 0x20; a third thread on cpu0 throws.
 */
function twoGateTrace(): string {
  const k = new Kernel({ platform: createTestPlatform(), cpus: 2 });
  const serverTask = k.createTask('srv');
  const clientTask = k.createTask('cli');
  const badTask = k.createTask('bad');
  const server = k.createThread(
    serverTask,
    program(function* (env: ThreadEnv): UserCode {
      yield env.wait();
      for (;;) yield env.replyAndWait(0);
    }),
    { name: 'server', cpu: 1 },
  );
  k.mapCap(clientTask, FIRST_FREE_SLOT, k.createGate(server, 0x10, 'a'), CapRights.RW);
  k.mapCap(clientTask, FIRST_FREE_SLOT + 1, k.createGate(server, 0x20, 'b'), CapRights.RW);
  k.createThread(
    clientTask,
    program(function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 3; i++) yield env.call(capIndex(FIRST_FREE_SLOT), 0);
      yield env.call(capIndex(FIRST_FREE_SLOT + 1), 0);
    }),
    { name: 'client', cpu: 0 },
  );
  k.createThread(
    badTask,
    program(function* (_env: ThreadEnv): UserCode {
      throw new Error('boom');
    }),
    { name: 'crasher', cpu: 0 },
  );
  const recorder = new TraceRecorder(k);
  k.run();
  return exportChromeTrace(recorder.finish());
}

function summarizeFile(json: string) {
  const dir = tempDir();
  writeFileSync(join(dir, 'out.json'), json);
  const r = io(dir);
  const code = main(['trace', 'summarize', 'out.json'], r.io);
  return { code, out: r.out(), err: r.err() };
}

describe('pecan trace summarize', () => {
  it('counts the calls and replies of a real ping-pong trace per thread and channel', () => {
    const n = 7;
    const { json, ipcCount } = pingPongTrace(n, 2);
    expect(ipcCount).toBe(2 * n);
    const { code, out, err } = summarizeFile(json);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^pecan \(test\): 1 CPU, 2 threads, 14 IPCs, 0 exceptions, [\d.]+–[\d.]+ µs$/);
    expect(out).toContain('\nThreads\nthread  task    slices  run µs  cpus  exceptions  sent     received\n');
    expect(out).toMatch(/^server {2}server +\d+ +\d+\.\d{3} {2}cpu0 +0 {2}7 reply {2}7 call$/m);
    expect(out).toMatch(/^client {2}client +\d+ +\d+\.\d{3} {2}cpu0 +0 {2}7 call {3}7 reply$/m);
    expect(out).toContain(
      [
        'channel          kind   label  messages  words  items',
        'client → server  call   0x11          7     14      0',
        'server → client  reply  0x0           7     14      0',
        '',
      ].join('\n'),
    );
    expect(out).not.toContain('warning');
    // Headers and rows of a table line up.
    const header = lines.indexOf('channel          kind   label  messages  words  items');
    expect(lines[header + 1]!.indexOf('call')).toBe(lines[header]!.indexOf('kind'));
  });

  it('agrees with the trace on run time and slices', () => {
    const { json } = pingPongTrace(4, 0);
    const events = (JSON.parse(json) as { traceEvents: ChromeTraceEvent[] }).traceEvents;
    const summary = summarizeTrace(json);
    for (const t of summary.threads) {
      const slices = events.filter((e) => e.ph === 'X' && e.name === t.name);
      expect(t.slices).toBe(slices.length);
      expect(t.runUs).toBeCloseTo(
        slices.reduce((s, e) => s + e.dur!, 0),
        9,
      );
      expect(t.tasks).toEqual([t.name]);
    }
    expect(summary.cpus).toHaveLength(1);
    expect(summary.cpus[0]!.busyUs).toBeCloseTo(
      summary.threads.reduce((s, t) => s + t.runUs, 0),
      9,
    );
    const client = summary.threads.find((t) => t.name === 'client')!;
    expect(client.sent).toEqual({ call: 4, send: 0, reply: 0, irq: 0, exception: 0, 'page-fault': 0 });
    expect(client.received).toEqual({ call: 0, send: 0, reply: 4, irq: 0, exception: 0, 'page-fault': 0 });
    // The recorder's own event array summarizes the same as its JSON text.
    expect(summarizeTrace(events)).toEqual(summary);
  });

  it('tells gates of one server apart by label, and counts exceptions and CPUs', () => {
    const { code, out } = summarizeFile(twoGateTrace());
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^pecan \(test\): 2 CPUs, 3 threads, 8 IPCs, 1 exception, /);
    expect(out).toMatch(/^cpu0 +\d+ +\d+\.\d{3} +\d+\.\d%$/m);
    expect(out).toMatch(/^cpu1 +\d+ +\d+\.\d{3} +\d+\.\d%$/m);
    expect(out).toMatch(/^client +cli +\d+ +[\d.]+ {2}cpu0 +0 {2}4 call {3}4 reply$/m);
    expect(out).toMatch(/^server +srv +\d+ +[\d.]+ {2}cpu1 +0 {2}4 reply {2}4 call$/m);
    expect(out).toMatch(/^crasher +bad +1 +[\d.]+ {2}cpu0 +1 {2}- +-$/m);
    expect(out).toContain(
      [
        'server → client  reply  0x0           4      0      0',
        'client → server  call   0x11          3      0      0',
        'client → server  call   0x21          1      0      0',
      ].join('\n'),
    );
  });

  it('reads every IPC kind, interrupts without a sending thread, and warns about oddities', () => {
    const meta: ChromeTraceEvent[] = [
      { name: 'thread_name', cat: '__metadata', ph: 'M', ts: 0, pid: 1, tid: 0, args: { name: 'cpu0' } },
      {
        name: 'process_name',
        cat: '__metadata',
        ph: 'M',
        ts: 0,
        pid: 1,
        tid: 0,
        args: { name: 'pecan (x)' },
      },
    ];
    const ipc = (name: string, label: number, ts: number): ChromeTraceEvent => ({
      name,
      cat: 'ipc',
      ph: 'i',
      s: 't',
      ts,
      pid: 1,
      tid: 0,
      args: { label, words: 1, items: 0 },
    });
    const slice = (name: string, thread: number, ts: number, dur: number): ChromeTraceEvent => ({
      name,
      cat: 'thread',
      ph: 'X',
      ts,
      dur,
      pid: 1,
      tid: 0,
      args: { thread, task: 't' },
    });
    const summary = summarizeTrace([
      ...meta,
      slice('app', 5, 1, 0.5),
      slice('app', 6, 2, 0.25),
      ipc('irq irq → driver', 7, 3),
      ipc('page-fault app → pager', -2, 4),
      ipc('exception app → handler', 0, 5),
      ipc('send a b → c', 0, 6),
      { name: 'app: exception: threw', cat: 'exception', ph: 'i', s: 't', ts: 5, pid: 1, tid: 0 },
      { name: 'driver: start', cat: 'thread', ph: 'i', s: 't', ts: 0.5, pid: 1, tid: 0 },
      { name: 'send', cat: 'ipc', ph: 's', ts: 6, pid: 1, tid: 0, id: 9 },
      { name: 'other', cat: 'gc', ph: 'B', ts: 6, pid: 1, tid: 0 },
    ]);
    const byName = new Map(summary.threads.map((t) => [t.name, t]));
    expect([...byName.keys()]).toEqual(['app', 'driver', 'pager', 'handler', 'a b', 'c']);
    expect(byName.get('app')).toMatchObject({ ids: [5, 6], slices: 2, runUs: 0.75, exceptions: 1 });
    expect(byName.get('app')!.sent).toMatchObject({ 'page-fault': 1, exception: 1 });
    expect(byName.get('driver')!.received.irq).toBe(1);
    expect(byName.get('pager')!.received['page-fault']).toBe(1);
    expect(summary.channels[0]).toEqual({
      kind: 'irq',
      from: null,
      to: 'driver',
      label: 7,
      count: 1,
      words: 1,
      items: 0,
    });
    expect(summary).toMatchObject({ startUs: 0.5, endUs: 6, ipcCount: 4, exceptionCount: 1 });
    expect(summary.warnings).toEqual([
      'threads 5, 6 share the name "app"; their rows are merged',
      '1 IPC flow event has no partner',
      '1 event not written by the Pecan recorder ignored',
    ]);
  });

  it('exits 1 with the reason when the file is missing, unreadable or not a Pecan trace', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'bad.json'), '{"traceEvents": [');
    writeFileSync(join(dir, 'plain.json'), '{"foo": 1}');
    writeFileSync(join(dir, 'chrome.json'), '{"traceEvents": [{"name":"x","ph":"X","ts":1,"dur":2}]}');
    writeFileSync(
      join(dir, 'event.json'),
      '[{"name":"process_name","ph":"M","args":{"name":"pecan (t)"}},{"name":"call a → b","cat":"ipc","ph":"i","ts":1}]',
    );
    const cases: [string, string][] = [
      ['missing.json', 'pecan trace: cannot read missing.json: no such file\n'],
      ['sub', 'pecan trace: cannot read sub: it is a directory\n'],
      [
        'plain.json',
        'pecan trace: cannot read plain.json: not a Pecan Chrome trace: expected a JSON object with a traceEvents array\n',
      ],
      [
        'chrome.json',
        'pecan trace: cannot read chrome.json: not a Pecan Chrome trace: no process_name metadata naming pecan\n',
      ],
      [
        'event.json',
        'pecan trace: cannot read event.json: not a Pecan Chrome trace: traceEvents[1] ("call a → b") has no "args" object\n',
      ],
    ];
    for (const [file, message] of cases) {
      const r = io(dir);
      expect(main(['trace', 'summarize', file], r.io), file).toBe(1);
      expect(r.err()).toBe(message);
      expect(r.out()).toBe('');
    }
    const r = io(dir);
    expect(main(['trace', 'summarize', 'bad.json'], r.io)).toBe(1);
    expect(r.err()).toMatch(
      /^pecan trace: cannot read bad\.json: not a Pecan Chrome trace: invalid JSON \(.+\)\n$/,
    );
  });

  it('exits 2 with usage for bad arguments, 0 for --help', () => {
    const cases: [string[], string][] = [
      [[], 'Usage: pecan trace summarize <out.json>'],
      [['summarize'], 'pecan trace summarize: give the trace file\n'],
      [['summarize', 'a.json', 'b.json'], 'pecan trace summarize: one trace file at a time\n'],
      [['summarize', '--json', 'a.json'], 'pecan trace: unknown option --json\n'],
      [['frob'], 'pecan trace: unknown command "frob"\n'],
    ];
    for (const [args, message] of cases) {
      const r = io('.');
      expect(main(['trace', ...args], r.io), args.join(' ')).toBe(2);
      expect(r.err().startsWith(message), r.err()).toBe(true);
      expect(r.err()).toContain('Usage: pecan trace summarize <out.json>');
    }
    const help = io('.');
    expect(main(['trace', '--help'], help.io)).toBe(0);
    expect(help.out()).toContain('Usage: pecan trace summarize <out.json>');
    const top = io('.');
    expect(main(['--help'], top.io)).toBe(0);
    expect(top.out()).toContain('  trace summarize <out.json>  ');
  });

  it('summarizes or rejects with a TypeError, never crashes, whatever the JSON', () => {
    const base = (JSON.parse(pingPongTrace(2, 1).json) as { traceEvents: Record<string, unknown>[] })
      .traceEvents;
    const keys = ['name', 'cat', 'ph', 'ts', 'dur', 'tid', 'id', 'args', 'label', 'words', 'thread', 'task'];
    const outcome = (input: string | object) => {
      try {
        summarizeTrace(input);
        return 'ok';
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
        expect((e as Error).message).toMatch(/^not a Pecan Chrome trace: /);
        return 'rejected';
      }
    };
    fc.assert(
      fc.property(
        fc.nat(base.length - 1),
        fc.constantFrom(...keys),
        fc.option(fc.jsonValue(), { nil: undefined }),
        fc.boolean(),
        (index, key, value, inArgs) => {
          const events = structuredClone(base);
          const target =
            inArgs && typeof events[index]!.args === 'object' ? events[index]!.args : events[index];
          if (value === undefined) delete (target as Record<string, unknown>)[key];
          else (target as Record<string, unknown>)[key] = value;
          outcome(JSON.stringify({ traceEvents: events }));
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        outcome(JSON.stringify(v));
        outcome(JSON.stringify({ traceEvents: [base[0], base[1], v] }));
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        outcome(s);
      }),
      { numRuns: 100 },
    );
  });
});
