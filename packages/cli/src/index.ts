/**
 * `@pecan/cli`: the `pecan` command. It is thin: each subcommand is a library call
 * of the package that owns it.
 *
 * @packageDocumentation
 */
import { type CliIo, main as idlMain } from '@pecan/idl/cli';
import { parseVirtualTime, RunExit, type RunIo, type RunOptions, runSystemFile } from './run';
import { traceMain } from './trace';

export { parseVirtualTime, RunExit, type RunIo, type RunOptions, runSystemFile } from './run';

const USAGE = `Usage: pecan <command> [options]

Commands:
  run <system.ts|system.json> [--arch x86_64|aarch64] [--seed N] [--until <time>] [--trace out.json] [--realtime]
                                                  boot a described system and stream its console;
                                                  --until takes cycles or a virtual duration (20ms, 1.5s)
  idl compile <file.idl…> --out <dir> [--check]   compile IDL to TypeScript stubs (see: pecan idl --help)
  trace summarize <out.json>                      per-CPU, per-thread and per-channel tables of a --trace file

Exit codes of run: 0 ran to completion, 1 a file did not load, 2 bad usage or an
invalid description, 3 deadlock, 4 an unhandled fault or a program that crashed for
good, 5 --until reached.
`;

/** Where the command reads and writes; tests pass their own. */
export type { CliIo };

/** The process's own streams; standard input is only read by a system whose console source is `"stdin"`. */
export const processIo: RunIo = {
  cwd: process.cwd(),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  get stdin() {
    return process.stdin;
  },
  isTty: process.stdout.isTTY === true,
};

/**
 * Runs `pecan` with `argv` (without the node and script paths) and returns the exit
 * code: 0 on success, 1 when the command failed, 2 for a usage error (see
 * {@link RunExit} for `run`). `run` is asynchronous: it returns a promise.
 */
export function main(argv: readonly string[], io: RunIo = processIo): number | Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? io.stderr : io.stdout)(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === 'idl') return idlMain(rest, io);
  if (command === 'run') return run(rest, io);
  if (command === 'trace') return traceMain(rest, io);
  io.stderr(`pecan: unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

/** Parses `pecan run` arguments and runs the system. */
function run(args: readonly string[], io: RunIo): number | Promise<number> {
  let file: string | undefined;
  const options: { -readonly [K in keyof RunOptions]: RunOptions[K] } = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = args[i + 1];
    const needs = (what: string) => {
      io.stderr(`pecan run: ${a} needs ${what}\n`);
      return RunExit.USAGE;
    };
    if (a === '--arch') {
      if (!value) return needs('an architecture (x86_64 or aarch64)');
      options.arch = value;
      i++;
    } else if (a === '--seed') {
      const n = Number(value);
      if (value === undefined || !Number.isSafeInteger(n) || n < 0) return needs('a non-negative integer');
      options.seed = n;
      i++;
    } else if (a === '--until') {
      if (value === undefined || parseVirtualTime(value, 1e9) === null)
        return needs('a virtual time: cycles, or a duration like 20ms');
      options.until = value;
      i++;
    } else if (a === '--realtime') {
      options.realtime = true;
    } else if (a === '--trace') {
      if (!value) return needs('a file name');
      options.trace = value;
      i++;
    } else if (a.startsWith('--')) {
      io.stderr(`pecan run: unknown option ${a}\n\n${USAGE}`);
      return RunExit.USAGE;
    } else if (file === undefined) {
      file = a;
    } else {
      io.stderr(`pecan run: one system at a time; got ${file} and ${a}\n`);
      return RunExit.USAGE;
    }
  }
  if (file === undefined) {
    io.stderr(`pecan run: give the system to run\n\n${USAGE}`);
    return RunExit.USAGE;
  }
  return runSystemFile(file, options, io);
}
