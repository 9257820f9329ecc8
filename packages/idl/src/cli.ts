import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { compile } from './compile';
import { formatDiagnostics } from './diagnostics';

const USAGE = `Usage: pecan-idl compile <file.idl…> --out <dir> [--root <dir>] [--suffix <ext>] [--runtime <module>] [--check]

Compiles IDL files to TypeScript stubs. Each output goes to <dir>, at the path of its
source relative to --root (default: the current directory), with .idl replaced by .ts
(or by --suffix).

  --out <dir>         where generated files go
  --root <dir>        the directory source paths are taken relative to (default: .)
  --suffix <ext>      what replaces .idl in output names (default: .ts; e.g. .idl.ts)
  --runtime <module>  the module stubs import the runtime from (default: @pecan/idl/runtime)
  --check             write nothing; exit 1 if any generated file is missing or stale (for CI)
  --help              show this text
`;

/** Where the CLI reads and writes, so tests can run it without a process. */
export interface CliIo {
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CliIo = {
  cwd: process.cwd(),
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
};

interface Args {
  files: string[];
  out: string | null;
  root: string;
  runtime: string | undefined;
  suffix: string;
  check: boolean;
}

function parseArgs(argv: readonly string[]): Args | string {
  const args: Args = { files: [], out: null, root: '.', runtime: undefined, suffix: '.ts', check: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string | null => {
      const v = argv[++i];
      return v === undefined || v.startsWith('--') ? null : v;
    };
    if (a === '--check') args.check = true;
    else if (a === '--out' || a === '--root' || a === '--runtime' || a === '--suffix') {
      const v = value();
      if (v === null) return `${a} needs a value`;
      if (a === '--out') args.out = v;
      else if (a === '--root') args.root = v;
      else if (a === '--suffix') {
        if (!/^\.[\w.-]*ts$/.test(v)) return `--suffix must end in "ts", like .ts or .idl.ts; got ${v}`;
        args.suffix = v;
      } else args.runtime = v;
    } else if (a.startsWith('--')) return `unknown option ${a}`;
    else args.files.push(a);
  }
  if (args.files.length === 0) return 'no input files';
  if (args.out === null) return '--out <dir> is required';
  return args;
}

/**
 * Runs `pecan-idl` with `argv` (the arguments after the program name). Returns the exit
 * code: 0 success, 1 compile errors or stale files (`--check`), 2 usage errors.
 */
export function main(argv: readonly string[], io: CliIo = processIo): number {
  if (argv[0] === '--help' || argv[0] === '-h' || argv.length === 0) {
    io.stdout(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] !== 'compile') {
    io.stderr(`pecan-idl: unknown command '${argv[0]}'\n\n${USAGE}`);
    return 2;
  }
  const args = parseArgs(argv.slice(1));
  if (typeof args === 'string') {
    io.stderr(`pecan-idl: ${args}\n\n${USAGE}`);
    return 2;
  }
  const root = resolve(io.cwd, args.root);
  const outDir = resolve(io.cwd, args.out!);
  // Sources are named relative to the root, so imports and outputs keep its layout.
  const nameOf = (file: string): string => relative(root, resolve(io.cwd, file)).split('\\').join('/');
  const readFile = (name: string): string | undefined => {
    const path = isAbsolute(name) ? name : resolve(root, name);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  };
  let failed = false;
  const stale: string[] = [];
  for (const file of args.files) {
    const name = nameOf(file);
    if (name.startsWith('../') || isAbsolute(name)) {
      // Its output would land outside --out.
      io.stderr(`pecan-idl: ${file} is outside the root ${root}; pass --root\n`);
      failed = true;
      continue;
    }
    const source = readFile(name);
    if (source === undefined) {
      io.stderr(`pecan-idl: cannot read ${file}\n`);
      failed = true;
      continue;
    }
    const result = compile(source, {
      fileName: name,
      readFile,
      outputPath: (n) => `${n.replace(/\.idl$/i, '')}${args.suffix}`,
      ...(args.runtime === undefined ? {} : { runtimeModule: args.runtime }),
    });
    if (result.diagnostics.length > 0) {
      io.stderr(formatDiagnostics(result.diagnostics));
      failed = true;
      continue;
    }
    for (const out of result.files) {
      const path = resolve(outDir, out.path);
      const rel = relative(io.cwd, path);
      const shown = rel.startsWith('..') || isAbsolute(rel) ? path : rel;
      if (args.check) {
        if (!existsSync(path) || readFileSync(path, 'utf8') !== out.text) stale.push(shown);
        continue;
      }
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, out.text);
      io.stdout(`${shown}\n`);
    }
  }
  if (stale.length > 0) {
    io.stderr(`pecan-idl: generated files are missing or out of date; run without --check:\n`);
    for (const s of stale) io.stderr(`  ${s}\n`);
  }
  return failed || stale.length > 0 ? 1 : 0;
}
