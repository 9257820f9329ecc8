import type { SourceFile, Span } from './source';

/**
 * Every error the compiler reports, by number. The numbers are stable: tests, CI logs
 * and documentation refer to them (`IDL2007`). 1xxx are lexical and syntax errors, 2xxx
 * semantic ones, 9xxx compiler bugs.
 */
export const DiagnosticCode = {
  InvalidCharacter: 1001,
  UnterminatedString: 1002,
  UnterminatedComment: 1003,
  InvalidNumber: 1004,
  Expected: 1005,
  NestingTooDeep: 1006,
  ImportNotFound: 1007,
  DuplicateName: 2001,
  UnknownName: 2002,
  WrongKind: 2003,
  InheritanceCycle: 2004,
  BadBound: 2005,
  OnewayResult: 2006,
  MessageTooLarge: 2007,
  BadProtocol: 2008,
  DuplicateProtocol: 2009,
  BadEnumValue: 2010,
  RecursiveType: 2011,
  BadRights: 2012,
  WindowConflict: 2013,
  NameClash: 2014,
  Internal: 9999,
} as const;
/** One of the {@link DiagnosticCode} numbers. */
export type DiagnosticCode = (typeof DiagnosticCode)[keyof typeof DiagnosticCode];

/** One compiler error, positioned in its source file. */
export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly category: 'error';
  /** What is wrong and what to do about it, in one sentence. */
  readonly message: string;
  /** The file name as the compiler was given it. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units. */
  readonly column: number;
  /** Offset and length of the offending text, for editors. */
  readonly start: number;
  readonly length: number;
  /** The whole source line, for the caret display. */
  readonly sourceLine: string;
}

/** Builds a diagnostic for `span`. */
export function diagnostic(span: Span, code: DiagnosticCode, message: string): Diagnostic {
  return diagnosticAt(span.file, span.start, span.end - span.start, code, message);
}

/** Builds a diagnostic at an offset of `file`. */
export function diagnosticAt(
  file: SourceFile,
  start: number,
  length: number,
  code: DiagnosticCode,
  message: string,
): Diagnostic {
  const { line, column } = file.position(start);
  return {
    code,
    category: 'error',
    message,
    file: file.name,
    line,
    column,
    start,
    length: Math.max(0, length),
    sourceLine: file.lineText(line),
  };
}

/**
 * Formats one diagnostic as tsc does in a terminal without colour:
 *
 * ```text
 * calc.idl:3:14 - error IDL2002: unknown type 'Pointt'; did you mean 'Point'?
 *
 * 3     Pointt p;
 *       ^~~~~~
 * ```
 */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.column} - ${d.category} IDL${d.code}: ${d.message}`;
  const gutter = String(d.line);
  const pad = ' '.repeat(gutter.length);
  // Tabs would put the caret in the wrong column; show them as single spaces.
  const text = d.sourceLine.replace(/\t/g, ' ');
  const room = Math.max(1, text.length - (d.column - 1));
  const width = Math.max(1, Math.min(d.length, room));
  const caret = `${' '.repeat(d.column - 1)}^${'~'.repeat(width - 1)}`;
  return `${head}\n\n${gutter}   ${text}\n${pad}   ${caret}\n`;
}

/** Formats a list of diagnostics, with tsc's closing count line. */
export function formatDiagnostics(list: readonly Diagnostic[]): string {
  if (list.length === 0) return '';
  const body = list.map(formatDiagnostic).join('\n');
  const files = new Set(list.map((d) => d.file));
  const where = files.size === 1 ? `in ${[...files][0]}` : `in ${files.size} files`;
  return `${body}\nFound ${list.length} error${list.length === 1 ? '' : 's'} ${where}.\n`;
}

/** Orders diagnostics by file, then position, so that output is stable. */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  return list.sort((a, b) =>
    a.file === b.file ? a.start - b.start || a.code - b.code : a.file < b.file ? -1 : 1,
  );
}
