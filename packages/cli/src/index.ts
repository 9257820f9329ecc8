/**
 * `@pecan/cli`: the `pecan` command. It is thin: each subcommand is a library call
 * of the package that owns it.
 *
 * @packageDocumentation
 */
import { type CliIo, main as idlMain } from '@pecan/idl/cli';

const USAGE = `Usage: pecan <command> [options]

Commands:
  idl compile <file.idl…> --out <dir> [--check]   compile IDL to TypeScript stubs (see: pecan idl --help)

More commands (run, trace) arrive with system images.
`;

/** Where the command reads and writes; tests pass their own. */
export type { CliIo };

const processIo: CliIo = {
  cwd: process.cwd(),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

/**
 * Runs `pecan` with `argv` (without the node and script paths) and returns the exit
 * code: 0 on success, 1 when the command failed, 2 for a usage error.
 */
export function main(argv: readonly string[], io: CliIo = processIo): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'idl') return idlMain(rest, io);
  io.stderr(`pecan: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}
