import { type Diagnostic, DiagnosticCode, diagnosticAt } from './diagnostics';
import type { SourceFile } from './source';

/**
 * Token kinds. There are no reserved words: `module`, `u32`, `in`, … are identifiers
 * that the parser recognises where they can occur, so that they stay usable as field
 * and parameter names (`u32 bytes;`, `string<8> in;`).
 */
export type TokenKind = 'ident' | 'int' | 'string' | 'punct' | 'eof';

/** One token with its source range. */
export interface Token {
  readonly kind: TokenKind;
  /** The source text; for strings, the decoded value. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Integer tokens: the value (0 for a malformed literal, which has been reported). */
  readonly value: bigint;
  /** Integer tokens: true when the literal was malformed (and reported). */
  readonly malformed: boolean;
  /** The `///` lines just before this token, joined with newlines. */
  readonly doc: string | undefined;
}

const PUNCT = '{}()<>[];,:=.-';

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Parses a number literal's text (`123`, `0x7f`, `0b101`, with `_` separators), or returns null. */
export function parseIntLiteral(text: string): bigint | null {
  const clean = text.replace(/_/g, '');
  if (text.startsWith('_') || text.endsWith('_') || text.includes('__')) return null;
  if (/^0[xX][0-9a-fA-F]+$/.test(clean) || /^0[bB][01]+$/.test(clean) || /^[0-9]+$/.test(clean)) {
    return BigInt(clean);
  }
  return null;
}

/**
 * Splits `file` into tokens, reporting malformed input into `diagnostics` and carrying
 * on, so that one stray character does not hide the errors after it.
 */
export function tokenize(file: SourceFile, diagnostics: Diagnostic[]): Token[] {
  const src = file.text;
  const n = src.length;
  const tokens: Token[] = [];
  let doc: string[] = [];
  let i = 0;
  const push = (kind: TokenKind, text: string, start: number, value = 0n, malformed = false): void => {
    tokens.push({
      kind,
      text,
      start,
      end: i,
      value,
      malformed,
      doc: doc.length > 0 ? doc.join('\n') : undefined,
    });
    doc = [];
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    const start = i;
    if (c === 47 && src.charCodeAt(i + 1) === 47) {
      let end = src.indexOf('\n', i);
      if (end < 0) end = n;
      const line = src.slice(i, end).replace(/\r$/, '');
      // `///` is documentation; `////` and beyond are ordinary comments (rustdoc's rule).
      if (line.startsWith('///') && !line.startsWith('////'))
        doc.push(line.slice(line.startsWith('/// ') ? 4 : 3));
      i = end;
      continue;
    }
    if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) {
        diagnostics.push(
          diagnosticAt(
            file,
            start,
            2,
            DiagnosticCode.UnterminatedComment,
            "unterminated block comment; close it with '*/'",
          ),
        );
        i = n;
      } else {
        i = end + 2;
      }
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      push('ident', src.slice(start, i), start);
      continue;
    }
    if (isDigit(c)) {
      // Take letters too, so that `12abc` or `0x` is one bad literal, not two tokens.
      while (i < n && isIdentPart(src.charCodeAt(i))) i++;
      const text = src.slice(start, i);
      const value = parseIntLiteral(text);
      if (value === null) {
        diagnostics.push(
          diagnosticAt(
            file,
            start,
            i - start,
            DiagnosticCode.InvalidNumber,
            `invalid number '${text}'; write a decimal, 0x hexadecimal or 0b binary integer`,
          ),
        );
      }
      push('int', text, start, value ?? 0n, value === null);
      continue;
    }
    if (c === 34) {
      i++;
      let value = '';
      let closed = false;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (d === 34) {
          i++;
          closed = true;
          break;
        }
        if (d === 10 || d === 13) break;
        if (d === 92 && i + 1 < n && src.charCodeAt(i + 1) !== 10) {
          const e = src[i + 1]!;
          value += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          continue;
        }
        value += src[i];
        i++;
      }
      if (!closed) {
        diagnostics.push(
          diagnosticAt(
            file,
            start,
            i - start,
            DiagnosticCode.UnterminatedString,
            `unterminated string literal; close it with '"' before the end of the line`,
          ),
        );
      }
      push('string', value, start);
      continue;
    }
    if (PUNCT.includes(src[i]!)) {
      i++;
      push('punct', src[start]!, start);
      continue;
    }
    // One diagnostic for a run of stray characters, not one per character.
    while (i < n) {
      const d = src.codePointAt(i)!;
      if (d === 32 || d === 9 || d === 10 || d === 13 || isIdentPart(d) || d === 34) break;
      if (d === 47 && (src.charCodeAt(i + 1) === 47 || src.charCodeAt(i + 1) === 42)) break;
      if (d < 128 && PUNCT.includes(src[i]!)) break;
      i += d > 0xffff ? 2 : 1;
    }
    const bad = src.slice(start, i);
    diagnostics.push(
      diagnosticAt(
        file,
        start,
        i - start,
        DiagnosticCode.InvalidCharacter,
        `unexpected ${[...bad].length === 1 ? 'character' : 'characters'} '${bad}'; remove ${[...bad].length === 1 ? 'it' : 'them'}`,
      ),
    );
  }
  tokens.push({
    kind: 'eof',
    text: '',
    start: n,
    end: n,
    value: 0n,
    malformed: false,
    doc: doc.length > 0 ? doc.join('\n') : undefined,
  });
  return tokens;
}
