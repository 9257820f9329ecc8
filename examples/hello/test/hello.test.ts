import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, RunExit } from '@pecan/cli';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

async function run(args: string[], cwd = root) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['run', ...args], { cwd, stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

describe('examples/hello through `pecan run`', () => {
  it('has stubs that are what `pecan idl compile` generates from hello.idl', async () => {
    const out: string[] = [];
    const code = await main(['idl', 'compile', 'hello.idl', '--out', '.', '--suffix', '.idl.ts', '--check'], {
      cwd: join(root, 'examples/hello'),
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
    });
    expect(out.join('')).toBe('');
    expect(code).toBe(0);
  });

  it.each(['x86_64', 'aarch64'])(
    'boots on %s: the root task starts the programs; they print through the console on the UART',
    async (arch) => {
      const r = await run(['examples/hello/system.ts', '--arch', arch]);
      expect(r.err).toBe('');
      expect(r.code).toBe(RunExit.OK);
      expect(r.out.split('\n').slice(0, 7)).toEqual([
        'root: started console',
        'root: started server',
        'root: started client',
        '[server] ready',
        '[client] hello, world',
        '[client] hello, L4',
        '[client] hello, Pecan',
      ]);
      expect(r.out).toContain('stopped:      idle');
    },
  );

  it.each(['x86_64', 'aarch64'])(
    'on %s, the same system and seed write byte-identical trace files',
    async (arch) => {
      const dir = mkdtempSync(join(tmpdir(), 'pecan-trace-'));
      const traces = [join(dir, 'a.json'), join(dir, 'b.json')];
      for (const t of traces) {
        const r = await run(['examples/hello/system.ts', '--arch', arch, '--seed', '7', '--trace', t]);
        expect(r.code).toBe(RunExit.OK);
      }
      const [a, b] = traces.map((t) => readFileSync(t, 'utf8'));
      expect(a!.length).toBeGreaterThan(1000);
      expect(a).toBe(b);
    },
  );

  it('refuses an invalid description with the path of every problem, exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-run-'));
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({
        machine: { arch: 'x86_64' },
        programs: { a: { module: './a.ts', caps: { g: { gate: 'b/x' } } } },
      }),
    );
    const r = await run(['bad.json'], dir);
    expect(r.code).toBe(RunExit.USAGE);
    expect(r.err).toBe(
      'pecan run: bad.json: the system description has 1 problem:\n  programs.a.caps.g.gate: unknown program "b"; the system has a\n',
    );
  });

  it('names a program whose module has no program export, exit code 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-run-'));
    writeFileSync(
      join(dir, 'sys.json'),
      JSON.stringify({ machine: { arch: 'x86_64' }, programs: { a: { module: './a.mjs' } } }),
    );
    writeFileSync(join(dir, 'a.mjs'), 'export default 42;\n');
    const r = await run(['sys.json'], dir);
    expect(r.code).toBe(RunExit.LOAD_ERROR);
    expect(r.err).toBe(
      'pecan run: programs.a: ./a.mjs has no program as its default export; export one made with program()\n',
    );
  });
});
