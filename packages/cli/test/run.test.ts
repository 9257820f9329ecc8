/**
 * `pecan run` end to end with the fixtures in ./fixtures: console input and output
 * backings, `--until` with units, `--realtime`, the terminal's colour and status line,
 * and the exit code of a program that crashed for good.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, parseVirtualTime, RunExit, type RunIo } from '@pecan/cli';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const echo = join(here, 'fixtures/echo/system.ts');
const busy = join(here, 'fixtures/busy/system.ts');

async function run(args: string[], extra: Partial<RunIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['run', ...args], {
    cwd: here,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    ...extra,
  });
  return { code, out: out.join(''), err: err.join('') };
}

/** The echo system as a JSON description in a fresh folder, with `console` for its machine. */
function echoJson(console: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'pecan-echo-'));
  const fixture = join(here, 'fixtures/echo');
  const system = {
    machine: { arch: 'x86_64', ram: '16M', console },
    programs: {
      console: {
        module: join(fixture, 'console.ts'),
        serves: ['out', 'in'],
        caps: { uart: { device: 'uart' } },
        priority: 20,
      },
      reader: {
        module: join(fixture, 'reader.ts'),
        caps: { input: { gate: 'console/in' }, console: { gate: 'console/out' } },
      },
    },
  };
  writeFileSync(join(dir, 'system.json'), JSON.stringify(system));
  return join(dir, 'system.json');
}

/** The console's lines: what precedes the summary. */
const consoleLines = (out: string) => out.slice(0, out.indexOf('\n\nstopped:')).split('\n');

describe('pecan run: the console', () => {
  it.each(['x86_64', 'aarch64'])(
    'on %s, routes scripted input (machine.console.source.text) to the holder of the input gate',
    async (arch) => {
      const r = await run([echo, '--arch', arch]);
      expect(r.err).toBe('');
      expect(r.code).toBe(RunExit.OK);
      expect(consoleLines(r.out)).toEqual([
        'root: started console',
        'root: started reader',
        '[reader] type away',
        '[reader] HELLO',
        '[reader] WORLD',
        'root: reader exited',
      ]);
    },
  );

  it('reads standard input when the source is "stdin", and ends when nobody waits for input', async () => {
    async function* typing(): AsyncGenerator<string> {
      for (const chunk of ['cap', 'itals\n', 'qu', 'it\n', 'never read\n']) {
        await new Promise((r) => setImmediate(r));
        yield chunk;
      }
      await new Promise(() => {}); // an open terminal: no end of file
    }
    const r = await run([echoJson({ source: 'stdin' })], { stdin: typing() });
    expect(r.code).toBe(RunExit.OK);
    expect(consoleLines(r.out)).toEqual([
      'root: started console',
      'root: started reader',
      '[reader] type away',
      '[reader] CAPITALS',
      'root: reader exited',
    ]);
  });

  it('writes the console to a file with sink { file } (next to the description, never coloured), and keeps the root task’s log on stdout', async () => {
    const system = echoJson({ sink: { file: 'console.txt' }, source: { text: 'hello\nquit\n' } });
    const r = await run([system], { isTty: true });
    expect(r.err).toBe('');
    expect(r.code).toBe(RunExit.OK);
    expect(readFileSync(join(dirname(system), 'console.txt'), 'utf8')).toBe(
      '[reader] type away\n[reader] HELLO\n',
    );
    expect(consoleLines(r.out)).toEqual([
      'root: started console',
      'root: started reader',
      'root: reader exited',
    ]);
  });

  it('reads scripted input from a file with source { file }', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-source-'));
    writeFileSync(join(dir, 'input.txt'), 'from a file\nquit\n');
    const r = await run([echoJson({ source: { file: join(dir, 'input.txt') } })]);
    expect(r.code).toBe(RunExit.OK);
    expect(consoleLines(r.out)).toContain('[reader] FROM A FILE');
  });

  it('names a sink file that cannot be written, with exit code 1', async () => {
    const r = await run([echoJson({ sink: { file: '/nonexistent/console.txt' } })]);
    expect(r.code).toBe(RunExit.LOAD_ERROR);
    expect(r.err).toMatch(/^pecan run: machine\.console\.sink: ENOENT: no such file or directory/);
  });

  it('names a missing input file, with exit code 1', async () => {
    const r = await run([echoJson({ source: { file: '/nonexistent/input.txt' } })]);
    expect(r.code).toBe(RunExit.LOAD_ERROR);
    expect(r.err).toMatch(/^pecan run: machine\.console\.source: ENOENT: no such file or directory/);
  });

  it('colours each client’s prefix when standard output is a terminal', async () => {
    const r = await run([echo], { isTty: true });
    expect(r.code).toBe(RunExit.OK);
    expect(r.out).toContain('\x1b[36m[reader]\x1b[0m HELLO\n');
  });
});

describe('pecan run: time, pace and status', () => {
  it('stops at --until given as a virtual duration, with exit code 5', async () => {
    const r = await run([busy, '--until', '2ms']);
    expect(r.code).toBe(RunExit.TIME_LIMIT);
    expect(r.out).toMatch(/virtual time: \d+ cycles \(200\d\.\d{3} µs\)/);
  });

  it('refuses an --until that is neither cycles nor a duration', async () => {
    const r = await run([busy, '--until', '2 fortnights']);
    expect(r.code).toBe(RunExit.USAGE);
    expect(r.err).toBe('pecan run: --until needs a virtual time: cycles, or a duration like 20ms\n');
  });

  it('parses virtual times in cycles and with units', () => {
    expect(parseVirtualTime('1500', 1e9)).toBe(1500);
    expect(parseVirtualTime('20ms', 1e9)).toBe(20_000_000);
    expect(parseVirtualTime('1.5 s', 62.5e6)).toBe(93_750_000);
    expect(parseVirtualTime('3µs', 1e9)).toBe(3000);
    expect(parseVirtualTime('-1', 1e9)).toBeNull();
    expect(parseVirtualTime(0.5, 1e9)).toBeNull();
  });

  it('reports a deadlock with the threads involved and what each waits for, with exit code 3', async () => {
    const r = await run([join(here, 'fixtures/deadlock/system.ts')]);
    expect(r.code).toBe(RunExit.DEADLOCK);
    expect(r.out).toMatch(
      /stopped: {6}deadlock — deadlock: "server" waits for "server" to receive \(through gate "server\/work for server"\); "client" waits for a reply from "server" \(3 other thread\(s\) wait for requests or interrupts\) at \d+ cycles/,
    );
  });

  it('reports a program that crashed and was not restarted, with exit code 4', async () => {
    const r = await run([busy]);
    expect(r.code).toBe(RunExit.FAULT);
    expect(r.out).toMatch(
      /stopped: {6}\w+ — program "worker" crashed \(.*the worker gives up.*\) and was not restarted/,
    );
    expect(r.out).toContain('CPU share:    worker ');
  });

  it('shows a live status line on a terminal for a long run, and clears it at the end', async () => {
    let clock = 0;
    const now = () => (clock += 200); // wall-clock milliseconds, 200 per reading
    const tty = await run([busy], { isTty: true, now });
    const ESC = '\x1b';
    expect(tty.out).toMatch(
      new RegExp(
        `\r${ESC}\\[K${ESC}\\[2m\\[pecan\\] virtual \\d+\\.\\d{3} ms · \\d+ IPCs · 0 page faults${ESC}\\[0m`,
      ),
    );
    // Cleared before a line is printed, and gone by the summary.
    expect(tty.out).toContain('\x1b[0m\r\x1b[Kroot: worker crashed');
    expect(tty.out.slice(tty.out.indexOf('\nstopped:'))).not.toContain('[pecan]');
    const piped = await run([busy], { now });
    expect(piped.out).not.toContain('[pecan]');
  });

  it('gives the same console and summary with --realtime, only slower', async () => {
    const plain = await run([echo]);
    const paced = await run([echo, '--realtime']);
    expect(paced.code).toBe(RunExit.OK);
    expect(paced.out).toBe(plain.out);
  });
});
