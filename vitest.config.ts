import { defineConfig } from 'vitest/config';

// One run covers every package; each package keeps its tests in its own `test/` folder.
// The `@pecan/source` condition resolves workspace packages to their TypeScript sources,
// so tests never depend on a prior build.
export default defineConfig({
  resolve: { conditions: ['@pecan/source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@pecan/source', 'module', 'node', 'import', 'default'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
  },
});
