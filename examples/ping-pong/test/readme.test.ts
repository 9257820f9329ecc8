import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';

const readme = fileURLToPath(new URL('../../../README.md', import.meta.url));
const snippet = fileURLToPath(new URL('./readme-snippet.tmp.ts', import.meta.url));

describe('README', () => {
  afterAll(() => rmSync(snippet, { force: true }));

  it('has a program example that runs as printed', async () => {
    const code = /```ts\n([\s\S]*?)```/.exec(readFileSync(readme, 'utf8'))?.[1];
    expect(code).toBeDefined();
    writeFileSync(snippet, code!);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    await import(snippet);
    const [message, output] = log.mock.calls[0] as [string, { tag: string; text: string }[]];
    log.mockRestore();
    expect(message).toMatch(/^idle: 1 thread\(s\) wait/);
    expect(output.map((e) => `${e.tag}: ${e.text}`)).toEqual(['client: got 42 (error 0)']);
  });

  it('names the two quick-start commands', () => {
    const text = readFileSync(readme, 'utf8');
    expect(text).toContain('npm i -g pnpm@12.4.2 && pnpm install && pnpm demo');
    expect(text).toContain('pnpm test');
  });
});
