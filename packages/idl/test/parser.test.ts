import { describe, expect, it } from 'vitest';
import type { Diagnostic, InterfaceDecl, ModuleDecl, StructDecl } from '../src/index';
import { parse, SourceFile } from '../src/index';

function parseOk(text: string) {
  const diagnostics: Diagnostic[] = [];
  const ast = parse(new SourceFile('t.idl', text), diagnostics);
  expect(diagnostics).toEqual([]);
  return ast;
}

describe('parser', () => {
  it('builds a typed tree with doc comments, directions and raises', () => {
    const ast = parseOk(`
      import "base.idl";
      /// The module.
      module fs {
        /// A file.
        /// Two lines.
        interface File : base.Object protocol 0x100 {
          //// not documentation
          /// Reads.
          u32 read(u64 offset, out bytes<64> data, inout u32 n) raises (NotFound, base.Gone);
          oneway void close();
        }
      }
    `);
    expect(ast.imports.map((i) => i.path)).toEqual(['base.idl']);
    const mod = ast.decls[0] as ModuleDecl;
    expect(mod.doc).toBe('The module.');
    const file = mod.body[0] as InterfaceDecl;
    expect(file.doc).toBe('A file.\nTwo lines.');
    expect(file.base?.text).toBe('base.Object');
    expect(file.protocol?.value).toBe(0x100n);
    const [read, close] = file.methods;
    expect(read!.doc).toBe('Reads.');
    expect(read!.params.map((p) => [p.direction, p.type.kind, p.name.text])).toEqual([
      ['in', 'scalar', 'offset'],
      ['out', 'bytes', 'data'],
      ['inout', 'scalar', 'n'],
    ]);
    expect(read!.raises.map((r) => r.text)).toEqual(['NotFound', 'base.Gone']);
    expect(close!.oneway).not.toBeNull();
    expect(close!.returns).toBeNull();
  });

  it('reads T[2][3] as two arrays of three, and nested generic types', () => {
    const ast = parseOk('struct S { u8[2][3] m; sequence<sequence<u16, 4>, 8> q; cap c; cap<x.I, rws> d; }');
    const [m, q, c, d] = (ast.decls[0] as StructDecl).fields;
    expect(m!.type).toMatchObject({
      kind: 'array',
      length: { value: 2n },
      element: { kind: 'array', length: { value: 3n } },
    });
    expect(q!.type).toMatchObject({ kind: 'sequence', bound: { value: 8n }, element: { kind: 'sequence' } });
    expect(c!.type).toMatchObject({ kind: 'cap', iface: null, rights: null });
    expect(d!.type).toMatchObject({ kind: 'cap', iface: { text: 'x.I' }, rights: { text: 'rws' } });
  });

  it('keeps keywords usable as field and parameter names', () => {
    const ast = parseOk(
      'struct S { u32 bytes; string<4> in; u8 module; }\ninterface I { void f(u32 out, out u32 in); }',
    );
    expect((ast.decls[0] as StructDecl).fields.map((f) => f.name.text)).toEqual(['bytes', 'in', 'module']);
    const f = (ast.decls[1] as InterfaceDecl).methods[0]!;
    expect(f.params.map((p) => [p.direction, p.name.text])).toEqual([
      ['in', 'out'],
      ['out', 'in'],
    ]);
  });

  it('accepts C-style trailing semicolons, enum trailing commas and negative enum values', () => {
    const ast = parseOk('enum E { A = -1, B, };\nstruct S { u8 x; };\nexception X;');
    expect(ast.decls.map((d) => d.kind)).toEqual(['enum', 'struct', 'exception']);
  });

  it('recovers after an error and keeps parsing later declarations', () => {
    const diagnostics: Diagnostic[] = [];
    const ast = parse(
      new SourceFile('t.idl', 'struct A { u32 }\nstruct B { u8 x; }\n}}\nenum C { X }'),
      diagnostics,
    );
    expect(ast.decls.map((d) => d.name.text)).toEqual(['A', 'B', 'C']);
    expect(diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
      "1:16 expected a field name, found '}'",
      "3:1 expected a declaration (module, interface, struct, enum or exception), found '}'",
      "3:2 expected a declaration (module, interface, struct, enum or exception), found '}'",
    ]);
  });
});
