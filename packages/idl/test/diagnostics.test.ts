import { describe, expect, it } from 'vitest';
import { checkSource, DiagnosticCode, formatDiagnostic, formatDiagnostics } from '../src/index';
import { diagnose } from './helpers';

/**
 * One test per error kind: the exact message and where it points. Messages are part of
 * the compiler's interface (people grep CI logs for them), so they change deliberately.
 */
describe('diagnostics', () => {
  it('prints file:line:column, the code, the source line and a caret under the culprit', () => {
    const src = 'module m {\n  struct P { Pointt p; }\n}\n';
    const [d] = checkSource(src, { fileName: 'calc.idl' }).diagnostics;
    expect(formatDiagnostic(d!)).toBe(
      [
        "calc.idl:2:14 - error IDL2002: unknown type 'Pointt'; declare it, or import the file that declares it",
        '',
        '2     struct P { Pointt p; }',
        '                 ^~~~~~',
        '',
      ].join('\n'),
    );
  });

  it('summarises several errors like tsc', () => {
    const { diagnostics } = checkSource('struct A { X x; Y y; }', { fileName: 'a.idl' });
    expect(diagnostics).toHaveLength(2);
    expect(formatDiagnostics(diagnostics).endsWith('\nFound 2 errors in a.idl.\n')).toBe(true);
  });

  it('IDL1001: unexpected characters, one report per run', () => {
    expect(diagnose('struct A { u32 x; } ## @\n')).toEqual([
      "test.idl:1:21 IDL1001 unexpected characters '##'; remove them",
      "test.idl:1:24 IDL1001 unexpected character '@'; remove it",
    ]);
  });

  it('IDL1002: unterminated string', () => {
    expect(diagnose('import "a.idl;\nstruct A { u32 x; }')).toEqual([
      `test.idl:1:8 IDL1002 unterminated string literal; close it with '"' before the end of the line`,
      `test.idl:1:15 IDL1005 expected ';' after the import, found 'struct'`,
    ]);
  });

  it('IDL1003: unterminated block comment', () => {
    expect(diagnose('struct A { u32 x; }\n/* never closed\n')).toEqual([
      "test.idl:2:1 IDL1003 unterminated block comment; close it with '*/'",
    ]);
  });

  it('IDL1004: invalid number', () => {
    expect(diagnose('struct A { u32[0x] x; u32[12ab] y; }')).toEqual([
      "test.idl:1:16 IDL1004 invalid number '0x'; write a decimal, 0x hexadecimal or 0b binary integer",
      "test.idl:1:27 IDL1004 invalid number '12ab'; write a decimal, 0x hexadecimal or 0b binary integer",
    ]);
  });

  it('IDL1005: syntax errors, every one reported, pointing where the token is missing', () => {
    expect(
      diagnose('struct P {\n  u32 x\n  u32 y;\n}\ninterface I { void f(u32 a b); }\nstruct Q { u32 z; }'),
    ).toEqual([
      "test.idl:2:8 IDL1005 expected ';' after field 'x', found 'u32'",
      "test.idl:5:28 IDL1005 expected ')' to close the parameters of 'f', found 'b'",
    ]);
  });

  it('IDL1006: nesting too deep', () => {
    const deep = `struct S { ${'sequence<'.repeat(70)}u8${', 1>'.repeat(70)} x; }`;
    expect(diagnose(deep)).toEqual([
      'test.idl:1:588 IDL1006 nesting is deeper than 64 levels; flatten the declarations or types',
    ]);
  });

  it('IDL1006: struct chains and inheritance chains too deep, reported once per chain', () => {
    const structs = Array.from({ length: 70 }, (_, i) => `struct S${i} { S${i + 1} n; }`).join('\n');
    const ifaces = Array.from({ length: 70 }, (_, i) => `interface I${i} : I${i + 1} { }`).join('\n');
    expect(diagnose(`${structs}\nstruct S70 { u8 x; }\n${ifaces}\ninterface I70 { }`)).toEqual([
      "test.idl:7:8 IDL1006 struct 'S6' nests structs more than 64 levels deep (through field 'n'); flatten the structs",
      "test.idl:78:16 IDL1006 interface 'I6' inherits through more than 64 levels; flatten the hierarchy",
    ]);
  });

  it('IDL1007: import not found', () => {
    expect(diagnose('import "../lib/missing.idl";\nstruct A { u32 x; }')).toEqual([
      "test.idl:1:1 IDL1007 cannot find '../lib/missing.idl' (looked for '../lib/missing.idl'); import paths are relative to the importing file",
    ]);
  });

  it('IDL2001: duplicate names, including across files and against built-ins', () => {
    const files = { 'lib.idl': 'module m { struct Point { u32 x; } }' };
    expect(
      diagnose(
        'import "lib.idl";\nmodule m {\n  enum Point { A }\n  struct u8 { u32 x; }\n  struct S { u32 a; i32 a; }\n}',
        files,
      ),
    ).toEqual([
      "test.idl:3:8 IDL2001 duplicate name 'Point': a struct of that name is already declared at lib.idl:1:19; rename one of them",
      "test.idl:4:10 IDL2001 'u8' is a built-in type; choose another name for this struct",
      "test.idl:5:25 IDL2001 duplicate field 'a' in struct 'S': already declared at test.idl:5:18; rename one of them",
    ]);
  });

  it('IDL2001: duplicate methods, also against inherited ones', () => {
    expect(
      diagnose('interface A { void f(); }\ninterface B : A { void g(u32 x, u32 x); void f(); }'),
    ).toEqual([
      "test.idl:2:37 IDL2001 duplicate parameter 'x' in method 'g': already declared at test.idl:2:30; rename one of them",
      "test.idl:2:46 IDL2001 duplicate method 'f': already declared in base interface 'A' at test.idl:1:20; methods cannot be overloaded or overridden, so rename one of them",
    ]);
  });

  it('IDL2002: unknown names, with a suggestion when one is close', () => {
    expect(
      diagnose(
        'module fs {\n  struct Stat { u64 size; }\n  interface F { Stt stat(); void g(fs.Nope n); }\n}',
      ),
    ).toEqual([
      "test.idl:3:17 IDL2002 unknown type 'Stt'; did you mean 'Stat'? declare it, or import the file that declares it",
      "test.idl:3:36 IDL2002 module 'fs' has no member 'Nope'; check the spelling or declare it there",
    ]);
  });

  it('IDL2003: a name of the wrong kind', () => {
    expect(
      diagnose('struct S { u32 x; }\nexception E;\ninterface I : S { void f(I i); void g() raises (S); }'),
    ).toEqual([
      "test.idl:3:15 IDL2003 'S' is a struct; an interface can only inherit from an interface",
      "test.idl:3:26 IDL2003 'I' is an interface, not a type; pass a capability to it with cap<I>",
      "test.idl:3:49 IDL2003 'S' is a struct; raises (…) lists exceptions, declared with 'exception S { … }'",
    ]);
  });

  it('IDL2004: inheritance cycles, reported once per cycle', () => {
    expect(
      diagnose('interface A : C { }\ninterface B : A { }\ninterface C : B { }\ninterface D : D { }'),
    ).toEqual([
      "test.idl:1:15 IDL2004 interface 'A' inherits from itself (A -> C -> B -> A); remove one of the base clauses in the cycle",
      "test.idl:4:15 IDL2004 interface 'D' inherits from itself (D -> D); remove one of the base clauses in the cycle",
    ]);
  });

  it('IDL2005: bounds that are zero, negative or absurd', () => {
    expect(diagnose('struct S { string<0> a; sequence<u8, -3> b; bytes<1000000> c; u8[0] d; }')).toEqual([
      'test.idl:1:19 IDL2005 the maximum length of string<N> is 0; it must be from 1 to 4096',
      'test.idl:1:38 IDL2005 the maximum length of sequence<T, N> is -3; it must be from 1 to 4096',
      'test.idl:1:51 IDL2005 the maximum length of bytes<N> is 1000000; it must be from 1 to 4096 (larger data belongs in shared memory: pass an fpage or a dataspace cap)',
      'test.idl:1:66 IDL2005 the length of array T[N] is 0; it must be from 1 to 4096',
    ]);
  });

  it('IDL2006: results of a oneway method', () => {
    expect(
      diagnose('exception E;\ninterface I {\n  oneway u32 f(out u32 a, inout u8 b) raises (E);\n}'),
    ).toEqual([
      "test.idl:3:10 IDL2006 oneway method 'f' cannot return a value, because it gets no reply; return void or remove 'oneway'",
      "test.idl:3:16 IDL2006 oneway method 'f' cannot have out parameter 'a', because it gets no reply; make it 'in' or remove 'oneway'",
      "test.idl:3:27 IDL2006 oneway method 'f' cannot have inout parameter 'b', because it gets no reply; make it 'in' or remove 'oneway'",
      "test.idl:3:39 IDL2006 oneway method 'f' cannot raise exceptions, because it gets no reply to carry them; remove the raises clause or 'oneway'",
    ]);
  });

  it('IDL2007: messages that do not fit the message registers say by how much', () => {
    expect(
      diagnose(
        [
          'interface Disk {',
          '  void write(u64 block, bytes<512> data);',
          '  void fits(sequence<u64, 61> a); // 63 words: exactly full',
          '  void caps(u32[30] a, cap<Disk>[17] c);',
          '  sequence<u64, 62> read(); // 63 words: exactly full',
          '}',
          'exception Huge { string<4096> text; }',
        ].join('\n'),
      ),
    ).toEqual([
      "test.idl:2:8 IDL2007 the request of method 'write' needs 67 words in the worst case, 4 more than the 63 message registers; pass bulk data through shared memory (an fpage, or a dataspace cap) instead of copying it",
      "test.idl:4:8 IDL2007 the request of method 'caps' needs 65 words in the worst case (31 untyped words + 17 typed items × 2), 2 more than the 63 message registers; pass bulk data through shared memory (an fpage, or a dataspace cap) instead of copying it",
      "test.idl:7:11 IDL2007 exception 'Huge' needs 513 words in the worst case, 450 more than the 63 message registers; pass bulk data through shared memory (an fpage, or a dataspace cap) instead of copying it",
    ]);
  });

  it('IDL2008: protocol numbers out of range', () => {
    expect(diagnose('interface A protocol 0 { }\ninterface B protocol 0x80000000 { }')).toEqual([
      'test.idl:1:22 IDL2008 protocol 0 is out of range; use a number from 1 to 2147483647 (0x7fffffff), or omit it to derive one from the name',
      'test.idl:2:22 IDL2008 protocol 2147483648 is out of range; use a number from 1 to 2147483647 (0x7fffffff), or omit it to derive one from the name',
    ]);
  });

  it('IDL2009: two interfaces with one protocol number', () => {
    expect(
      diagnose('module a { interface A protocol 0x42 { } }\nmodule b { interface B protocol 66 { } }'),
    ).toEqual([
      "test.idl:2:33 IDL2009 protocol 0x42 of interface 'b.B' is already used by 'a.A' at test.idl:1:22; give one of them another 'protocol N'",
    ]);
  });

  it('IDL2010: enum values out of range, repeated, or no members at all', () => {
    expect(diagnose('enum A { X = 2147483648, Y = -1, Z = 0, W, V = 1 }\nenum Empty { }')).toEqual([
      "test.idl:1:14 IDL2010 value 2147483648 of enum member 'X' is out of range; enum values are i32, from -2147483648 to 2147483647",
      "test.idl:1:48 IDL2010 enum member 'V' has value 1, which 'W' already has; give each member its own value",
      "test.idl:2:6 IDL2010 enum 'Empty' has no members; add at least one",
    ]);
  });

  it('IDL2011: structs that contain themselves, even through a sequence', () => {
    expect(
      diagnose('struct Node { u32 v; sequence<Node, 2> kids; }\nstruct A { B b; }\nstruct B { A[2] a; }'),
    ).toEqual([
      "test.idl:1:40 IDL2011 struct 'Node' contains itself (Node.kids -> Node); messages have a bounded size, so break the cycle (pass an index or a cap instead)",
      "test.idl:3:17 IDL2011 struct 'A' contains itself (A.b -> B.a -> A); messages have a bounded size, so break the cycle (pass an index or a cap instead)",
    ]);
  });

  it('IDL2012: capability rights that are not r, w, s, d', () => {
    expect(diagnose('interface F { void f(cap<F, rx> a, cap<F, rr> b, cap<F, rwsd> ok); }')).toEqual([
      "test.idl:1:29 IDL2012 invalid rights 'rx'; write each of the letters r, w, s, d at most once (for example cap<F, rw>)",
      "test.idl:1:43 IDL2012 invalid rights 'rr'; write each of the letters r, w, s, d at most once (for example cap<F, rw>)",
    ]);
  });

  it('IDL2013: one receive window per item position must serve every message', () => {
    expect(
      diagnose(
        [
          'interface S {',
          '  void a(cap c);',
          '  void b(fpage f);',
          '  void c(sequence<cap, 2> cs, fpage f);',
          '  void d(out sequence<fpage, 2> fs, out cap c);',
          '}',
        ].join('\n'),
      ),
    ).toEqual([
      "test.idl:1:11 IDL2013 requests to interface 'S' can carry a capability as typed item 0 (in 'a') or an fpage (in 'b'); a server sets up one receive window per item position, so order cap and fpage parameters the same way in every method",
      "test.idl:4:8 IDL2013 the request of method 'c' can carry a capability or an fpage as typed item 0, depending on a sequence's length; the server sets up one receive window per item position, so put fixed cap and fpage parameters before sequences of the other kind",
      "test.idl:5:8 IDL2013 the reply of method 'd' can carry a capability or an fpage as typed item 0, depending on a sequence's length; the client sets up one receive window per item position, so put fixed cap and fpage parameters before sequences of the other kind",
    ]);
  });

  it('IDL2014: names the generated TypeScript could not use', () => {
    expect(
      diagnose(
        [
          'struct Point { u32 x; }',
          'struct PointCodec { u32 y; }',
          'struct delete { u32 z; }',
          'exception Oops { string<8> message; }',
          'interface I { void env(); u32 f(out u32 result); }',
        ].join('\n'),
      ),
    ).toEqual([
      "test.idl:2:8 IDL2014 struct 'PointCodec' clashes with a name generated for struct 'Point' at test.idl:1:8; generated TypeScript puts every declaration of a file in one scope, so rename one of them",
      "test.idl:3:8 IDL2014 'delete' is a reserved word or global name in TypeScript; rename the struct",
      "test.idl:4:28 IDL2014 field 'message' would hide Error.message in the generated exception class; rename the field",
      "test.idl:5:20 IDL2014 method name 'env' clashes with the 'env' member of the generated client class; rename the method",
      "test.idl:5:33 IDL2014 parameter 'result' of method 'f' clashes with the return value, which the generated result object calls 'result'; rename the parameter",
    ]);
  });

  it('reports errors in every file, each under its own name', () => {
    const files = {
      'lib/a.idl': 'struct A { Nope n; }',
      'lib/b.idl': 'import "a.idl";\nstruct B { A a; Zip z; }',
    };
    expect(diagnose('import "lib/b.idl";\nstruct C { B b; }', files)).toEqual([
      "lib/a.idl:1:12 IDL2002 unknown type 'Nope'; declare it, or import the file that declares it",
      "lib/b.idl:2:17 IDL2002 unknown type 'Zip'; declare it, or import the file that declares it",
    ]);
  });

  it('has a test above for every code except the internal one', () => {
    const codes = Object.values(DiagnosticCode).filter((c) => c !== DiagnosticCode.Internal);
    expect(codes).toHaveLength(21);
  });
});
