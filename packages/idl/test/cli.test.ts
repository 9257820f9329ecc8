import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli';

const corpus = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

function run(argv: string[], cwd = corpus): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, { cwd, stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

describe('pecan-idl', () => {
  it('compiles files into --out, keeping their layout, and --check passes on the result', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-idl-'));
    const r = run(['compile', 'calc.idl', 'inherit.idl', 'lib/base.idl', '--out', dir]);
    expect(r).toMatchObject({ code: 0, err: '' });
    const golden = (name: string) => readFileSync(join(corpus, '..', 'golden', name), 'utf8');
    expect(readFileSync(join(dir, 'calc.ts'), 'utf8')).toBe(
      golden('calc.golden.ts').replace('calc.golden', 'calc'),
    );
    expect(readFileSync(join(dir, 'inherit.ts'), 'utf8')).toContain("from './lib/base.js';");
    expect(run(['compile', 'calc.idl', 'inherit.idl', 'lib/base.idl', '--out', dir, '--check'])).toEqual({
      code: 0,
      out: '',
      err: '',
    });
  });

  it('names outputs with --suffix, and refuses a suffix that is not TypeScript', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-idl-suffix-'));
    expect(run(['compile', 'calc.idl', '--out', dir, '--suffix', '.idl.ts']).code).toBe(0);
    expect(existsSync(join(dir, 'calc.idl.ts'))).toBe(true);
    const bad = run(['compile', 'calc.idl', '--out', dir, '--suffix', '.js']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^pecan-idl: --suffix must end in "ts", like \.ts or \.idl\.ts; got \.js\n/);
  });

  it('--check fails on a stale or missing file and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-idl-'));
    run(['compile', 'calc.idl', '--out', dir]);
    writeFileSync(join(dir, 'calc.ts'), 'stale');
    const r = run(['compile', 'calc.idl', 'lib/base.idl', '--out', dir, '--check']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('generated files are missing or out of date');
    expect(r.err).toContain(join(dir, 'calc.ts'));
    expect(r.err).toContain(join(dir, 'lib', 'base.ts'));
    expect(readFileSync(join(dir, 'calc.ts'), 'utf8')).toBe('stale');
  });

  it('prints diagnostics and exits 1 on compile errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-idl-'));
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'bad.idl'), 'struct A { B b; }\n');
    const r = run(['compile', 'src/bad.idl', '--out', 'gen'], dir);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      [
        "src/bad.idl:1:12 - error IDL2002: unknown type 'B'; declare it, or import the file that declares it",
        '',
        '1   struct A { B b; }',
        '               ^',
        '',
        'Found 1 error in src/bad.idl.',
        '',
      ].join('\n'),
    );
  });

  it('rejects bad usage with exit code 2', () => {
    expect(run(['compile', 'calc.idl']).code).toBe(2);
    expect(run(['build']).code).toBe(2);
    expect(run(['compile', '--out', 'x']).code).toBe(2);
    expect(run(['compile', 'calc.idl', '--out', 'x', '--frobnicate']).code).toBe(2);
    expect(run(['--help'])).toMatchObject({ code: 0 });
    expect(run(['compile', '../corpus/calc.idl', '--out', 'x', '--root', 'lib']).code).toBe(1);
  });
});
