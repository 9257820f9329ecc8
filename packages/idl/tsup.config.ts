import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.config.base';

export default defineConfig(
  packageBuild({
    index: 'src/index.ts',
    runtime: 'src/runtime/index.ts',
    plugins: 'src/plugins/index.ts',
    cli: 'src/cli.ts',
  }),
);
