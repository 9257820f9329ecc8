import { checkSource, type Diagnostic } from '../src/index';

/** Diagnostics of `source` (and `files`, which it may import), as `line:col code message`. */
export function diagnose(source: string, files: Record<string, string> = {}): string[] {
  return checkSource(source, { fileName: 'test.idl', readFile: (p) => files[p] }).diagnostics.map(show);
}

/** One diagnostic as `file:line:col IDLnnnn message`. */
export function show(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} IDL${d.code} ${d.message}`;
}
