import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, RunExit } from '@pecan/cli';
import { describe, expect, it } from 'vitest';

// The project folder: `pecan` resolves the system and the IDL file from here.
const cwd = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs the `pecan` command in the project folder and collects what it prints. */
async function pecan(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { cwd, stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

/** What the programs print, up to the blank line before the summary. */
function programLines(out: string): string[] {
  const lines = out.split('\n');
  return lines.slice(0, lines.indexOf(''));
}

const expected = [
  'root: started console',
  'root: started server',
  'root: started alice',
  'root: started bob',
  '[server] serving alice, bob',
  '[alice] add 1: 1',
  '[alice] add 2: 3',
  '[alice] add 3: 6',
  '[alice] add 1000: refused, the limit is 100',
  '[alice] count: 6',
  'root: alice exited',
  '[bob] add 1: 1',
  '[bob] add 2: 3',
  '[bob] add 3: 6',
  '[bob] add 1000: refused, the limit is 100',
  '[bob] count: 6',
  'root: bob exited',
];

describe('the getting-started system', () => {
  it('has stubs that match counter.idl', async () => {
    const r = await pecan('idl', 'compile', 'counter.idl', '--out', '.', '--check');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  });

  it.each(['x86_64', 'aarch64'])('runs on %s', async (arch) => {
    const r = await pecan('run', 'system.ts', '--arch', arch);
    expect(r.err).toBe('');
    expect(r.code).toBe(RunExit.OK);
    expect(programLines(r.out)).toEqual(expected);
    expect(r.out).toContain('stopped:      idle');
  });

  it('runs the same from system.json', async () => {
    const r = await pecan('run', 'system.json');
    expect(r.code).toBe(RunExit.OK);
    expect(programLines(r.out)).toEqual(expected);
  });
});
