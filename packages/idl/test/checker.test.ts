import { describe, expect, it } from 'vitest';
import {
  checkSource,
  derivedProtocol,
  fnv1a32,
  type InterfaceSym,
  MAX_PROTOCOL,
  type StructSym,
} from '../src/index';

function program(source: string, files: Record<string, string> = {}) {
  const { program, diagnostics } = checkSource(source, { fileName: 'main.idl', readFile: (p) => files[p] });
  expect(diagnostics).toEqual([]);
  return program!;
}

function decl<T>(source: string, name: string): T {
  return program(source).main.decls.find((d) => d.name === name) as T;
}

describe('checker', () => {
  it('derives protocols with FNV-1a over the qualified name, masked to 31 bits', () => {
    // Published FNV-1a 32-bit test vectors.
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(derivedProtocol('foobar')).toBe(0xbf9cf968 & 0x7fffffff);
    const iface = decl<InterfaceSym>('module fs { interface File { } }', 'File');
    expect(iface.protocol).toBe(fnv1a32('fs.File') & MAX_PROTOCOL);
    expect(iface.protocolExplicit).toBe(false);
    expect(decl<InterfaceSym>('interface X protocol 0x7fffffff { }', 'X').protocol).toBe(0x7fffffff);
  });

  it('numbers methods per interface; inherited methods keep their protocol and opcode', () => {
    const p = program('interface A { void a0(); void a1(); }\ninterface B : A { void b0(); }');
    const [a, b] = p.main.decls as InterfaceSym[];
    expect(a!.methods.map((m) => [m.name, m.opcode])).toEqual([
      ['a0', 0],
      ['a1', 1],
    ]);
    expect(b!.base).toBe(a);
    expect(b!.methods.map((m) => [m.name, m.opcode, m.iface.name])).toEqual([['b0', 0, 'B']]);
  });

  it('resolves names from the innermost scope outwards, across reopened modules and imports', () => {
    const p = program(
      'import "lib/a.idl";\nmodule m { module inner { struct S { T t; m.T u; outer.U v; } } struct T { u8 x; } }',
      { 'lib/a.idl': 'module outer { struct U { u8 y; } }\nmodule m { }' },
    );
    const s = p.main.decls.find((d) => d.name === 'S') as StructSym;
    expect(s.fqn).toBe('m.inner.S');
    expect(s.fields.map((f) => (f.type.kind === 'struct' ? f.type.sym.fqn : f.type.kind))).toEqual([
      'm.T',
      'm.T',
      'outer.U',
    ]);
    expect(p.files.map((f) => f.file.name)).toEqual(['lib/a.idl', 'main.idl']);
  });

  it('loads a file once even when imports form a cycle', () => {
    const p = program('import "b.idl";\nstruct A { B b; }', {
      'b.idl': 'import "main.idl";\nstruct B { u8 x; }',
    });
    expect(p.files.map((f) => f.file.name)).toEqual(['b.idl', 'main.idl']);
  });

  it('computes the receive windows a server and a client arm', () => {
    const p = program(`
      interface I { void f(cap a, u32 x, fpage b); void g(cap a); cap<I> h(out fpage p); void k(sequence<u8, 3> s); }
      interface J : I { void m(cap a, fpage b, fpage c); }
    `);
    const [i, j] = p.main.decls as InterfaceSym[];
    expect(i!.requestWindows).toBe('cf');
    expect(j!.requestWindows).toBe('cff');
    expect(i!.methods.map((m) => m.replyWindows)).toEqual(['', '', 'fc', '']);
  });

  it('accepts messages of exactly 63 words', () => {
    program('interface I { void f(sequence<u64, 59> a, cap c); u64[63] g(); }');
  });
});
