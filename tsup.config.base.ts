import type { Options } from 'tsup';

/**
 * Shared tsup settings: every package ships ESM with `.d.ts` for each entry.
 * A package's own `tsup.config.ts` passes its entries and keeps the rest.
 */
export function packageBuild(entry: Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    treeshake: true,
    ...overrides,
  };
}
