import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compile, DiagnosticCode, formatDiagnostics } from '../src/index';

const VOCABULARY = [
  'module',
  'interface',
  'struct',
  'enum',
  'exception',
  'import',
  'oneway',
  'void',
  'in',
  'out',
  'inout',
  'raises',
  'protocol',
  'bool',
  'i8',
  'i16',
  'i32',
  'i64',
  'u8',
  'u16',
  'u32',
  'u64',
  'f64',
  'string',
  'bytes',
  'sequence',
  'cap',
  'fpage',
  'A',
  'B',
  'x',
  'y',
  'result',
  'env',
  '__proto__',
  'delete',
  '{',
  '}',
  '(',
  ')',
  '<',
  '>',
  '[',
  ']',
  ';',
  ',',
  ':',
  '=',
  '.',
  '-',
  '0',
  '1',
  '63',
  '4096',
  '0x7fffffff',
  '99999999999999999999999',
  '0x',
  '"a.idl"',
  '"',
  '///doc\n',
  '/*',
  '*/',
  '//c\n',
  '\n',
  '#',
  'é',
  '\u{1F600}',
];

const SAMPLE = `
import "lib.idl";
/// A calculator.
module demo {
  enum Color { Red, Green = 5, Blue }
  struct Point { i32 x; i32 y; Color c; sequence<Point2, 3> more; }
  struct Point2 { u64 a; string<16> s; bytes<9> b; u8[2][3] m; }
  exception DivByZero { string<32> what; }
  interface Calc protocol 0x10 {
    i32 add(in i32 a, in i32 b);
    u32 div(in u32 a, u32 b, out u32 rem) raises (DivByZero);
    oneway void log(string<64> text);
    void pass(cap<Calc, rw> c, fpage f);
  }
  interface Sub : Calc { void x(out cap<Calc> c, inout Point p); }
}
`;

/** Compiles and checks the invariants every result must satisfy. */
function compileChecked(source: string): void {
  const r = compile(source, {
    fileName: 'fuzz.idl',
    readFile: (p) => (p === 'lib.idl' ? SAMPLE : undefined),
  });
  for (const d of r.diagnostics) {
    if (d.code === DiagnosticCode.Internal) throw new Error(`internal error: ${d.message}`);
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.column).toBeGreaterThanOrEqual(1);
    expect(d.message.length).toBeGreaterThan(0);
  }
  expect(typeof formatDiagnostics(r.diagnostics)).toBe('string');
  if (r.diagnostics.length === 0) expect(r.files).toHaveLength(1);
}

describe('the compiler never crashes', () => {
  it('on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => compileChecked(s)),
      { numRuns: 2000 },
    );
  });

  it('on random token soups', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...VOCABULARY), { maxLength: 200 }), (tokens) =>
        compileChecked(tokens.join(' ')),
      ),
      { numRuns: 3000 },
    );
  });

  it('on mutations of a valid file (tokens deleted, duplicated or inserted)', () => {
    const pieces = SAMPLE.split(/(\s+|[{}()<>[\];,:=.])/).filter((p) => p !== '');
    const edit = fc.record({
      at: fc.nat({ max: pieces.length }),
      op: fc.constantFrom('delete', 'duplicate', 'insert'),
      token: fc.constantFrom(...VOCABULARY),
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
        const p = [...pieces];
        for (const e of edits) {
          const at = Math.min(e.at, p.length);
          if (e.op === 'delete') p.splice(at, 1);
          else if (e.op === 'duplicate') p.splice(at, 0, p[at] ?? ';');
          else p.splice(at, 0, ` ${e.token} `);
        }
        compileChecked(p.join(''));
      }),
      { numRuns: 3000 },
    );
  });

  it('on pathological nesting and size', () => {
    compileChecked('module a {'.repeat(5000));
    compileChecked('sequence<'.repeat(20000));
    compileChecked(`struct S { ${'u8['.repeat(3000)} }`);
    compileChecked('}'.repeat(10000));
    compileChecked(`interface I { void f(${'u8 a, '.repeat(5000)}); }`);
    compileChecked(Array.from({ length: 2000 }, (_, i) => `struct S${i} { S${i + 1} n; }`).join('\n'));
    compileChecked(
      Array.from({ length: 2000 }, (_, i) => `interface I${i} : I${(i + 1) % 2000} { }`).join('\n'),
    );
  });
});
