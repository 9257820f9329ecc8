/**
 * `pecan trace summarize <out.json>`: per-CPU, per-thread and per-channel tables
 * from a Chrome trace that `pecan run --trace` (or `exportChromeTrace`) wrote.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CliIo } from '@pecan/idl/cli';
import { formatTraceSummary, summarizeTrace } from '@pecan/kernel';

const USAGE = `Usage: pecan trace summarize <out.json>

Prints the CPU tracks, the threads (run time, IPC sent and received by kind,
exceptions) and the IPC channels (sender → receiver, kind, label) of a Chrome
trace written by \`pecan run --trace\`.

Exit codes: 0 printed, 1 the file is missing or not a Pecan trace, 2 bad usage.
`;

function readError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'EACCES') return 'permission denied';
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs `pecan trace` with `args` (the words after `trace`); returns the exit code:
 * 0 on success, 1 when the file cannot be read or is not a Pecan Chrome trace,
 * 2 for a usage error. The file name is relative to `io.cwd`.
 */
export function traceMain(args: readonly string[], io: CliIo): number {
  const [sub, ...rest] = args;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (sub === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  if (sub !== 'summarize') {
    io.stderr(`pecan trace: unknown command "${sub}"\n\n${USAGE}`);
    return 2;
  }
  const option = rest.find((a) => a.startsWith('-'));
  if (option !== undefined) {
    io.stderr(`pecan trace: unknown option ${option}\n\n${USAGE}`);
    return 2;
  }
  if (rest.length !== 1) {
    io.stderr(
      `pecan trace summarize: ${rest.length === 0 ? 'give the trace file' : 'one trace file at a time'}\n\n${USAGE}`,
    );
    return 2;
  }
  const file = rest[0]!;
  let text: string;
  try {
    text = readFileSync(resolve(io.cwd, file), 'utf8');
  } catch (e) {
    io.stderr(`pecan trace: cannot read ${file}: ${readError(e)}\n`);
    return 1;
  }
  let output: string;
  try {
    output = formatTraceSummary(summarizeTrace(text));
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    io.stderr(`pecan trace: cannot read ${file}: ${e.message}\n`);
    return 1;
  }
  io.stdout(output);
  return 0;
}
