import { existsSync, readFileSync } from 'node:fs';
import { type CompileResult, compile } from '../compile';

/** Options of the build plugins. */
export interface IdlPluginOptions {
  /** The module generated code imports the runtime from (default `@pecan/idl/runtime`). */
  readonly runtimeModule?: string;
}

/**
 * Compiles the `.idl` file at absolute `path`. Generated imports of other IDL files name
 * the `.idl` files themselves, so the bundler loads them through the plugin as well.
 */
export function compileFile(path: string, options: IdlPluginOptions): CompileResult {
  return compile(readFileSync(path, 'utf8'), {
    fileName: path,
    readFile: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined),
    outputPath: (name) => name,
    ...(options.runtimeModule === undefined ? {} : { runtimeModule: options.runtimeModule }),
  });
}
