import { formatDiagnostics } from '../diagnostics';
import { compileFile, type IdlPluginOptions } from './shared';

/** The part of Vite's (Rollup's) plugin context the plugin uses. */
interface ResolveContext {
  resolve(
    source: string,
    importer: string | undefined,
    options: { skipSelf: boolean },
  ): Promise<{ id: string } | null>;
}

/** The shape of a Vite plugin, spelled out so that `@pecan/idl` does not depend on Vite. */
export interface VitePluginLike {
  readonly name: string;
  readonly enforce: 'pre';
  resolveId(this: ResolveContext, source: string, importer: string | undefined): Promise<string | null>;
  load(id: string): string | null;
}

/** Suffix of the module id a `.idl` file gets, so that Vite compiles the stubs as TypeScript. */
const SUFFIX = '.ts';

/**
 * A Vite (and Vitest) plugin: `import { CalcClient } from './calc.idl'` gets the
 * generated stubs. Add it to `plugins` in `vite.config.ts` or `vitest.config.ts`.
 */
export function idlVitePlugin(options: IdlPluginOptions = {}): VitePluginLike {
  return {
    name: 'pecan-idl',
    enforce: 'pre',
    async resolveId(source, importer) {
      if (!source.endsWith('.idl')) return null;
      const resolved = await this.resolve(source, importer, { skipSelf: true });
      return resolved ? `${resolved.id}${SUFFIX}` : null;
    },
    load(id) {
      if (!id.endsWith(`.idl${SUFFIX}`)) return null;
      const result = compileFile(id.slice(0, -SUFFIX.length), options);
      if (result.diagnostics.length > 0)
        throw new Error(`IDL errors:\n${formatDiagnostics(result.diagnostics)}`);
      return result.files[0]!.text;
    },
  };
}
