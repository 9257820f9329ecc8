import { dirname } from 'node:path';
import { compileFile, type IdlPluginOptions } from './shared';

/** One esbuild message, as the plugin reports compile errors. */
interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number; length: number; lineText: string };
}

/** The part of esbuild's plugin build object the plugin uses. */
interface EsbuildBuild {
  onLoad(
    options: { filter: RegExp },
    callback: (args: {
      path: string;
    }) => { contents: string; loader: 'ts'; resolveDir: string } | { errors: EsbuildMessage[] },
  ): void;
}

/** The shape of an esbuild plugin, spelled out so that `@pecan/idl` does not depend on esbuild. */
export interface EsbuildPluginLike {
  readonly name: string;
  setup(build: EsbuildBuild): void;
}

/**
 * An esbuild plugin (for tsup, `esbuildPlugins: [idlEsbuildPlugin()]`): importing a
 * `.idl` file yields its generated stubs; compile errors become esbuild errors with
 * their positions.
 */
export function idlEsbuildPlugin(options: IdlPluginOptions = {}): EsbuildPluginLike {
  return {
    name: 'pecan-idl',
    setup(build) {
      build.onLoad({ filter: /\.idl$/ }, (args) => {
        const result = compileFile(args.path, options);
        if (result.diagnostics.length > 0) {
          return {
            errors: result.diagnostics.map((d) => ({
              text: `IDL${d.code}: ${d.message}`,
              location: {
                file: d.file,
                line: d.line,
                column: d.column - 1,
                length: d.length,
                lineText: d.sourceLine,
              },
            })),
          };
        }
        return { contents: result.files[0]!.text, loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
}
