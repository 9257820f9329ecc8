import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, RunExit } from '@pecan/cli';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Standard input as a terminal sends it: a chunk at a time, then end of file. */
async function* typed(chunks: readonly string[]): AsyncGenerator<string> {
  for (const chunk of chunks) {
    await new Promise((r) => setImmediate(r));
    yield chunk;
  }
}

describe('examples/echo through `pecan run`', () => {
  it.each([
    ['x86_64', 'MC146818 at port 0x70'],
    ['aarch64', 'PL031 at 0x9010000'],
  ])('on %s reads the RTC, then echoes standard input in capitals until quit', async (arch, clock) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['run', 'examples/echo/system.ts', '--arch', arch], {
      cwd: root,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      stdin: typed(['hello, ', 'world\r\n', 'L4 ', 'forever\n', 'quit\n']),
    });
    expect(err.join('')).toBe('');
    expect(code).toBe(RunExit.OK);
    const text = out.join('');
    expect(text.slice(0, text.indexOf('\n\nstopped:')).split('\n')).toEqual([
      'root: started console',
      'root: started echo',
      `[echo] the ${clock} says it is 2026-01-01T00:00:00.000Z`,
      '[echo] type a line (quit to stop)',
      '[echo] HELLO, WORLD',
      '[echo] L4 FOREVER',
      '[echo] bye',
      'root: echo exited',
    ]);
  });
});
