import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { idlEsbuildPlugin, idlVitePlugin } from '@pecan/idl/plugins';
import { build } from 'vite';
import { describe, expect, it } from 'vitest';

const corpus = join(dirname(fileURLToPath(import.meta.url)), 'corpus');

type OnLoad = (args: { path: string }) => unknown;

function esbuildLoader(): OnLoad {
  let loader: OnLoad | null = null;
  idlEsbuildPlugin().setup({
    onLoad: (options, callback) => {
      expect(options.filter.test('x.idl')).toBe(true);
      loader = callback as OnLoad;
    },
  });
  return loader!;
}

describe('build plugins', () => {
  it('esbuild: loads .idl files as generated TypeScript whose IDL imports stay .idl', () => {
    const load = esbuildLoader();
    const result = load({ path: join(corpus, 'inherit.idl') }) as { contents: string; loader: string };
    expect(result.loader).toBe('ts');
    expect(result.contents).toContain('export class FileClient extends ObjectClient');
    expect(result.contents).toContain("from './lib/base.idl';");
  });

  it('esbuild: reports compile errors with positions', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-idl-'));
    writeFileSync(join(dir, 'bad.idl'), 'struct A {\n  Nope n;\n}\n');
    expect(esbuildLoader()({ path: join(dir, 'bad.idl') })).toEqual({
      errors: [
        {
          text: "IDL2002: unknown type 'Nope'; declare it, or import the file that declares it",
          location: { file: join(dir, 'bad.idl'), line: 2, column: 2, length: 4, lineText: '  Nope n;' },
        },
      ],
    });
  });

  it('vite: a bundle that imports .idl files gets the stubs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pecan-idl-'));
    writeFileSync(
      join(dir, 'main.ts'),
      `import { DirClient } from '${join(corpus, 'inherit.idl')}';\nexport const name: string = DirClient.name;\n`,
    );
    const out = await build({
      root: dir,
      logLevel: 'silent',
      configFile: false,
      plugins: [idlVitePlugin()],
      build: {
        write: false,
        minify: false,
        lib: { entry: join(dir, 'main.ts'), formats: ['es'], fileName: 'main' },
        rollupOptions: { external: [/^@pecan\//] },
      },
    });
    const chunks = (Array.isArray(out) ? out : [out]).flatMap((o) => ('output' in o ? o.output : []));
    const code = chunks.map((c) => ('code' in c ? c.code : '')).join('\n');
    expect(code).toMatch(/DirClient = class extends FileClient|class DirClient extends FileClient/);
    expect(code).toMatch(/ObjectClient = class|class ObjectClient/); // lib/base.idl came through the plugin too
    expect(code).not.toContain('readonly'); // compiled as TypeScript
  });
});
