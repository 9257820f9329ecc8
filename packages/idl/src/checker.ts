import type {
  Decl,
  EnumDecl,
  ExceptionDecl,
  FieldDecl,
  IdlFile,
  InterfaceDecl,
  IntLiteral,
  MethodDecl,
  QualifiedName,
  StructDecl,
  TypeNode,
} from './ast';
import { BUILTIN_TYPE_NAMES } from './ast';
import { type Diagnostic, DiagnosticCode, diagnostic } from './diagnostics';
import {
  ITEM_WORDS,
  itemKinds,
  MAX_BOUND,
  MESSAGE_REGISTERS,
  type Size,
  sizeOfAll,
  totalWords,
  type WindowKind,
  windowString,
} from './layout';
import type {
  CheckedFile,
  EnumSym,
  ExceptionSym,
  FieldSym,
  InterfaceSym,
  MethodSym,
  ModuleSym,
  Program,
  StructSym,
  Sym,
  Ty,
  TypeSym,
} from './model';
import { interfaceChain } from './model';
import { CLIENT_MEMBERS, ERROR_MEMBERS, generatedNames, RUNTIME_NAMESPACE, TS_RESERVED } from './names';
import { MAX_NESTING } from './parser';
import { derivedProtocol, MAX_PROTOCOL } from './protocol';
import type { SourceFile, Span } from './source';

/** A parsed file and the files its imports resolved to. */
export interface LoadedFile {
  readonly file: SourceFile;
  readonly ast: IdlFile;
  readonly imports: LoadedFile[];
}

/** Rights letters of `cap<I, rights>`, as the kernel's CapRights numbers them. */
const RIGHT_BITS: Readonly<Record<string, number>> = { r: 0x4, w: 0x1, s: 0x2, d: 0x8 };
/** Rights a `cap<I>` carries when none are written: invoke (r) and modify (w), not s or d. */
export const DEFAULT_CAP_RIGHTS = 0x5;

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;

const KIND_WORD: Readonly<Record<Sym['kind'], string>> = {
  module: 'a module',
  struct: 'a struct',
  enum: 'an enum',
  exception: 'an exception',
  interface: 'an interface',
};

function where(span: Span): string {
  const p = span.file.position(span.start);
  return `${span.file.name}:${p.line}:${p.column}`;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

interface Work<D> {
  readonly node: D;
  readonly scope: ModuleSym;
}

/**
 * Resolves names and checks every rule of the language, collecting all errors. `files`
 * come in load order with imports first; `main` is the file being compiled.
 */
export function check(files: readonly LoadedFile[], main: LoadedFile, diagnostics: Diagnostic[]): Program {
  return new Checker(diagnostics).run(files, main);
}

class Checker {
  private readonly root: ModuleSym;
  private readonly structs: [StructSym, Work<StructDecl>][] = [];
  private readonly exceptions: [ExceptionSym, Work<ExceptionDecl>][] = [];
  private readonly enums: [EnumSym, Work<EnumDecl>][] = [];
  private readonly interfaces: [InterfaceSym, Work<InterfaceDecl>][] = [];

  constructor(private readonly diagnostics: Diagnostic[]) {
    const file = { name: '', text: '' } as unknown as SourceFile;
    this.root = {
      kind: 'module',
      name: '',
      fqn: '',
      file,
      span: { file, start: 0, end: 0 },
      doc: undefined,
      parent: null,
      members: new Map(),
    };
  }

  private error(span: Span, code: DiagnosticCode, message: string): void {
    this.diagnostics.push(diagnostic(span, code, message));
  }

  run(files: readonly LoadedFile[], main: LoadedFile): Program {
    const checked = new Map<LoadedFile, CheckedFile>();
    for (const f of files) {
      const decls: TypeSym[] = [];
      this.declare(f.file, f.ast.decls, this.root, decls);
      checked.set(f, { file: f.file, decls, imports: [] });
    }
    for (const [f, c] of checked) {
      for (const i of f.imports) {
        const ci = checked.get(i);
        if (ci) c.imports.push(ci);
      }
    }
    for (const [sym, w] of this.interfaces) this.resolveBase(sym, w);
    this.breakInheritanceCycles();
    this.limitInheritanceDepth();
    for (const [sym, w] of this.structs) this.resolveFields(sym, w.node.fields, w.scope, 'struct');
    for (const [sym, w] of this.exceptions) this.resolveFields(sym, w.node.fields, w.scope, 'exception');
    for (const [sym, w] of this.enums) this.resolveEnum(sym, w.node);
    for (const [sym, w] of this.interfaces) this.resolveMethods(sym, w);
    this.checkStructGraph();
    for (const [sym] of this.exceptions) this.checkExceptionSize(sym);
    for (const [sym, w] of this.interfaces) this.checkInterface(sym, w.node);
    this.checkProtocols();
    for (const c of checked.values()) this.checkGeneratedNames(c);
    const all = [...checked.values()];
    const mainChecked = checked.get(main) ?? all[all.length - 1]!;
    return { main: mainChecked, files: all };
  }

  // --- declaration ------------------------------------------------------------------

  private declare(file: SourceFile, decls: readonly Decl[], scope: ModuleSym, out: TypeSym[]): void {
    for (const d of decls) {
      const name = d.name.text;
      const fqn = scope.fqn ? `${scope.fqn}.${name}` : name;
      const existing = scope.members.get(name);
      const builtin = BUILTIN_TYPE_NAMES.has(name);
      if (builtin) {
        this.error(
          d.name.span,
          DiagnosticCode.DuplicateName,
          `'${name}' is a built-in type; choose another name for this ${d.kind}`,
        );
      } else if (existing && !(d.kind === 'module' && existing.kind === 'module')) {
        this.error(
          d.name.span,
          DiagnosticCode.DuplicateName,
          `duplicate name '${name}': ${KIND_WORD[existing.kind]} of that name is already declared at ${where(existing.span)}; rename one of them`,
        );
      }
      const register = !builtin && !existing;
      const base = { name, fqn, file, span: d.name.span, doc: d.doc };
      switch (d.kind) {
        case 'module': {
          let mod: ModuleSym;
          if (existing?.kind === 'module' && !builtin) mod = existing;
          else {
            mod = { ...base, kind: 'module', parent: scope, members: new Map() };
            if (register) scope.members.set(name, mod);
          }
          this.declare(file, d.body, mod, out);
          continue;
        }
        case 'struct': {
          const sym: StructSym = { ...base, kind: 'struct', fields: [] };
          this.structs.push([sym, { node: d, scope }]);
          out.push(sym);
          if (register) scope.members.set(name, sym);
          continue;
        }
        case 'exception': {
          const sym: ExceptionSym = { ...base, kind: 'exception', fields: [] };
          this.exceptions.push([sym, { node: d, scope }]);
          out.push(sym);
          if (register) scope.members.set(name, sym);
          continue;
        }
        case 'enum': {
          const sym: EnumSym = { ...base, kind: 'enum', members: [] };
          this.enums.push([sym, { node: d, scope }]);
          out.push(sym);
          if (register) scope.members.set(name, sym);
          continue;
        }
        case 'interface': {
          const sym: InterfaceSym = {
            ...base,
            kind: 'interface',
            base: null,
            protocol: 0,
            protocolExplicit: d.protocol !== null,
            methods: [],
            requestWindows: '',
          };
          this.interfaces.push([sym, { node: d, scope }]);
          out.push(sym);
          if (register) scope.members.set(name, sym);
          continue;
        }
      }
    }
  }

  // --- name lookup ------------------------------------------------------------------

  /**
   * Resolves `qn` from `scope` outwards, as CORBA IDL and C++ do: the first part is
   * looked up in the innermost scope that has it, the rest inside that.
   */
  private lookup(qn: QualifiedName, scope: ModuleSym, want: Sym['kind'][], what: string): Sym | null {
    const first = qn.parts[0]!;
    let found: Sym | undefined;
    for (let s: ModuleSym | null = scope; s && !found; s = s.parent) found = s.members.get(first.text);
    if (!found) {
      const hint = this.suggest(first.text, scope, want);
      this.error(
        qn.span,
        DiagnosticCode.UnknownName,
        `unknown ${what} '${qn.text}'; ${hint ? `did you mean '${hint}'? ` : ''}declare it, or import the file that declares it`,
      );
      return null;
    }
    for (let i = 1; i < qn.parts.length; i++) {
      const part = qn.parts[i]!;
      if (found.kind !== 'module') {
        this.error(
          qn.span,
          DiagnosticCode.WrongKind,
          `'${found.fqn}' is ${KIND_WORD[found.kind]}, not a module, so '${qn.text}' names nothing; remove '.${part.text}'`,
        );
        return null;
      }
      const next: Sym | undefined = found.members.get(part.text);
      if (!next) {
        const names = [...found.members.keys()];
        const close =
          part.text.length < 3
            ? undefined
            : names.find((n) => levenshtein(n, part.text) <= Math.max(1, Math.floor(part.text.length / 3)));
        this.error(
          qn.span,
          DiagnosticCode.UnknownName,
          `module '${found.fqn}' has no member '${part.text}'; ${close ? `did you mean '${found.fqn}.${close}'? ` : ''}check the spelling or declare it there`,
        );
        return null;
      }
      found = next;
    }
    return found;
  }

  private suggest(name: string, scope: ModuleSym, want: Sym['kind'][]): string | null {
    let best: string | null = null;
    // One edit makes any short name look like any other; only suggest for longer names.
    let bestDistance = name.length < 3 ? 0 : Math.max(1, Math.floor(name.length / 3)) + 1;
    for (let s: ModuleSym | null = scope; s; s = s.parent) {
      for (const [n, sym] of s.members) {
        if (!want.includes(sym.kind)) continue;
        const d = levenshtein(n, name);
        if (d < bestDistance) {
          best = n;
          bestDistance = d;
        }
      }
    }
    return best;
  }

  // --- interfaces: bases and cycles ---------------------------------------------------

  private resolveBase(sym: InterfaceSym, w: Work<InterfaceDecl>): void {
    const b = w.node.base;
    if (!b) return;
    const found = this.lookup(b, w.scope, ['interface'], 'interface');
    if (!found) return;
    if (found.kind !== 'interface') {
      this.error(
        b.span,
        DiagnosticCode.WrongKind,
        `'${b.text}' is ${KIND_WORD[found.kind]}; an interface can only inherit from an interface`,
      );
      return;
    }
    sym.base = found;
  }

  private breakInheritanceCycles(): void {
    const nodes = new Map(this.interfaces.map(([s, w]) => [s, w.node] as const));
    const done = new Set<InterfaceSym>();
    for (const [start] of this.interfaces) {
      const path: InterfaceSym[] = [];
      const onPath = new Set<InterfaceSym>();
      let cur: InterfaceSym | null = start;
      while (cur && !done.has(cur) && !onPath.has(cur)) {
        onPath.add(cur);
        path.push(cur);
        cur = cur.base;
      }
      if (cur && onPath.has(cur)) {
        const cycle = path.slice(path.indexOf(cur));
        // Report at the base clause of the cycle's first member in source order.
        const first = cycle.reduce((a, b) => (nodes.get(b)!.span.start < nodes.get(a)!.span.start ? b : a));
        const k = cycle.indexOf(first);
        const names = [...cycle.slice(k), ...cycle.slice(0, k), first].map((s) => s.name).join(' -> ');
        this.error(
          nodes.get(first)!.base!.span,
          DiagnosticCode.InheritanceCycle,
          `interface '${first.name}' inherits from itself (${names}); remove one of the base clauses in the cycle`,
        );
        for (const s of cycle) s.base = null;
      }
      for (const s of path) done.add(s);
    }
  }

  /** Cuts inheritance chains deeper than {@link MAX_NESTING}, reporting each chain once. */
  private limitInheritanceDepth(): void {
    const nodes = new Map(this.interfaces.map(([sym, w]) => [sym, w.node] as const));
    const depth = new Map<InterfaceSym, number>();
    const poisoned = new Set<InterfaceSym>();
    for (const [sym] of this.interfaces) {
      const path: InterfaceSym[] = [];
      let cur: InterfaceSym | null = sym;
      while (cur && !depth.has(cur)) {
        path.push(cur);
        cur = cur.base;
      }
      let d = cur ? depth.get(cur)! : 0;
      let poison = cur ? poisoned.has(cur) : false;
      for (let i = path.length - 1; i >= 0; i--) {
        const s = path[i]!;
        if (!poison && d + 1 > MAX_NESTING) {
          this.error(
            nodes.get(s)!.base!.span,
            DiagnosticCode.NestingTooDeep,
            `interface '${s.name}' inherits through more than ${MAX_NESTING} levels; flatten the hierarchy`,
          );
          poison = true;
        }
        if (poison) {
          s.base = null;
          poisoned.add(s);
          depth.set(s, 0);
        } else depth.set(s, ++d);
      }
    }
  }

  // --- types ------------------------------------------------------------------------

  private bound(lit: IntLiteral, what: string): number {
    const v = lit.value;
    if (lit.malformed) return 1;
    if (v < 1n || v > BigInt(MAX_BOUND)) {
      this.error(
        lit.span,
        DiagnosticCode.BadBound,
        `${what} is ${v}; it must be from 1 to ${MAX_BOUND}${v > BigInt(MAX_BOUND) ? ' (larger data belongs in shared memory: pass an fpage or a dataspace cap)' : ''}`,
      );
      return v < 1n ? 1 : MAX_BOUND;
    }
    return Number(v);
  }

  private rights(t: Extract<TypeNode, { kind: 'cap' }>): number {
    if (!t.rights) return DEFAULT_CAP_RIGHTS;
    const text = t.rights.text;
    let bits = 0;
    let ok = true;
    for (const ch of text) {
      const bit = RIGHT_BITS[ch];
      if (bit === undefined || bits & bit) ok = false;
      else bits |= bit;
    }
    if (!ok) {
      this.error(
        t.rights.span,
        DiagnosticCode.BadRights,
        `invalid rights '${text}'; write each of the letters r, w, s, d at most once (for example cap<${t.iface?.text ?? 'I'}, rw>)`,
      );
      return DEFAULT_CAP_RIGHTS;
    }
    return bits;
  }

  private resolveType(t: TypeNode, scope: ModuleSym): Ty {
    switch (t.kind) {
      case 'scalar':
        return { kind: 'scalar', name: t.name };
      case 'fpage':
        return { kind: 'fpage' };
      case 'string':
      case 'bytes':
        return { kind: t.kind, max: this.bound(t.bound, `the maximum length of ${t.kind}<N>`) };
      case 'sequence': {
        const element = this.resolveType(t.element, scope);
        return {
          kind: 'sequence',
          element,
          max: this.bound(t.bound, 'the maximum length of sequence<T, N>'),
        };
      }
      case 'array': {
        const element = this.resolveType(t.element, scope);
        return { kind: 'array', element, length: this.bound(t.length, 'the length of array T[N]') };
      }
      case 'cap': {
        const rights = this.rights(t);
        if (!t.iface) return { kind: 'cap', iface: null, rights };
        const found = this.lookup(t.iface, scope, ['interface'], 'interface');
        if (found && found.kind !== 'interface') {
          this.error(
            t.iface.span,
            DiagnosticCode.WrongKind,
            `'${t.iface.text}' is ${KIND_WORD[found.kind]}; cap<…> takes an interface (or write plain 'cap' for any object)`,
          );
          return { kind: 'cap', iface: null, rights };
        }
        return { kind: 'cap', iface: found, rights };
      }
      case 'named': {
        const found = this.lookup(t.name, scope, ['struct', 'enum'], 'type');
        if (!found) return { kind: 'error' };
        if (found.kind === 'struct') return { kind: 'struct', sym: found };
        if (found.kind === 'enum') return { kind: 'enum', sym: found };
        const fix =
          found.kind === 'interface'
            ? `pass a capability to it with cap<${t.name.text}>`
            : found.kind === 'exception'
              ? 'exceptions are raised with raises (…); declare a struct to pass the data'
              : 'name a struct or enum inside it';
        this.error(
          t.span,
          DiagnosticCode.WrongKind,
          `'${t.name.text}' is ${KIND_WORD[found.kind]}, not a type; ${fix}`,
        );
        return { kind: 'error' };
      }
    }
  }

  private resolveFields(
    sym: StructSym | ExceptionSym,
    fields: readonly FieldDecl[],
    scope: ModuleSym,
    kind: 'struct' | 'exception',
  ): void {
    const seen = new Map<string, FieldSym>();
    for (const f of fields) {
      const name = f.name.text;
      const prev = seen.get(name);
      if (prev) {
        this.error(
          f.name.span,
          DiagnosticCode.DuplicateName,
          `duplicate field '${name}' in ${kind} '${sym.name}': already declared at ${where(prev.span)}; rename one of them`,
        );
      } else if (name === '__proto__' || (kind === 'exception' && ERROR_MEMBERS.has(name))) {
        this.error(
          f.name.span,
          DiagnosticCode.NameClash,
          kind === 'exception' && name !== '__proto__'
            ? `field '${name}' would hide Error.${name} in the generated exception class; rename the field`
            : `field name '__proto__' would set the prototype of the generated object; rename the field`,
        );
      }
      const field: FieldSym = { name, type: this.resolveType(f.type, scope), doc: f.doc, span: f.name.span };
      if (!prev) seen.set(name, field);
      sym.fields.push(field);
    }
  }

  private resolveEnum(sym: EnumSym, node: EnumDecl): void {
    if (node.members.length === 0) {
      this.error(
        node.name.span,
        DiagnosticCode.BadEnumValue,
        `enum '${sym.name}' has no members; add at least one`,
      );
      return;
    }
    const byName = new Map<string, Span>();
    const byValue = new Map<number, string>();
    let next = 0n;
    for (const m of node.members) {
      if (m.value?.malformed) continue;
      const value = m.value ? m.value.value : next;
      const span = m.value ? m.value.span : m.name.span;
      next = value + 1n;
      const prevName = byName.get(m.name.text);
      if (prevName) {
        this.error(
          m.name.span,
          DiagnosticCode.DuplicateName,
          `duplicate member '${m.name.text}' in enum '${sym.name}': already declared at ${where(prevName)}; rename one of them`,
        );
        continue;
      }
      byName.set(m.name.text, m.name.span);
      if (m.name.text === '__proto__') {
        this.error(
          m.name.span,
          DiagnosticCode.NameClash,
          `enum member name '__proto__' would set the prototype of the generated object; rename it`,
        );
        continue;
      }
      if (value < BigInt(I32_MIN) || value > BigInt(I32_MAX)) {
        this.error(
          span,
          DiagnosticCode.BadEnumValue,
          `value ${value} of enum member '${m.name.text}' is out of range; enum values are i32, from ${I32_MIN} to ${I32_MAX}`,
        );
        continue;
      }
      const v = Number(value);
      const clash = byValue.get(v);
      if (clash !== undefined) {
        this.error(
          span,
          DiagnosticCode.BadEnumValue,
          `enum member '${m.name.text}' has value ${v}, which '${clash}' already has; give each member its own value`,
        );
        continue;
      }
      byValue.set(v, m.name.text);
      sym.members.push({ name: m.name.text, value: v, doc: m.doc });
    }
  }

  private resolveMethods(sym: InterfaceSym, w: Work<InterfaceDecl>): void {
    w.node.methods.forEach((m, opcode) => {
      sym.methods.push(this.resolveMethod(sym, m, opcode, w.scope));
    });
  }

  private resolveMethod(iface: InterfaceSym, m: MethodDecl, opcode: number, scope: ModuleSym): MethodSym {
    const params = m.params.map((p) => ({
      name: p.name.text,
      direction: p.direction,
      type: this.resolveType(p.type, scope),
      span: p.span,
    }));
    const seen = new Map<string, Span>();
    for (const p of m.params) {
      const prev = seen.get(p.name.text);
      if (prev) {
        this.error(
          p.name.span,
          DiagnosticCode.DuplicateName,
          `duplicate parameter '${p.name.text}' in method '${m.name.text}': already declared at ${where(prev)}; rename one of them`,
        );
      } else seen.set(p.name.text, p.name.span);
    }
    const raises: ExceptionSym[] = [];
    const raised = new Set<ExceptionSym>();
    for (const r of m.raises) {
      const found = this.lookup(r, scope, ['exception'], 'exception');
      if (!found) continue;
      if (found.kind !== 'exception') {
        this.error(
          r.span,
          DiagnosticCode.WrongKind,
          `'${r.text}' is ${KIND_WORD[found.kind]}; raises (…) lists exceptions, declared with 'exception ${found.name} { … }'`,
        );
        continue;
      }
      if (raised.has(found)) {
        this.error(
          r.span,
          DiagnosticCode.DuplicateName,
          `'${r.text}' is listed twice in raises (…); remove one`,
        );
        continue;
      }
      raised.add(found);
      raises.push(found);
    }
    return {
      name: m.name.text,
      opcode,
      oneway: m.oneway !== null,
      params,
      returns: m.returns ? this.resolveType(m.returns, scope) : null,
      raises,
      doc: m.doc,
      span: m.name.span,
      iface,
      replyWindows: '',
    };
  }

  // --- recursive and deeply nested structs -------------------------------------------

  /**
   * Rejects structs that contain themselves, and chains of structs nested more than
   * {@link MAX_NESTING} deep. The walk is iterative and cuts over-deep chains, so that
   * no later recursive pass (sizes, code generation) can exhaust the stack.
   */
  private checkStructGraph(): void {
    interface Edge {
      readonly field: FieldSym;
      readonly target: StructSym;
    }
    interface Frame {
      readonly sym: StructSym;
      readonly edges: Edge[];
      i: number;
    }
    const edgesOf = (sym: StructSym): Edge[] => {
      const out: Edge[] = [];
      const visit = (field: FieldSym, ty: Ty): void => {
        if (ty.kind === 'sequence' || ty.kind === 'array') visit(field, ty.element);
        else if (ty.kind === 'struct') out.push({ field, target: ty.sym });
      };
      for (const f of sym.fields) visit(f, f.type);
      return out;
    };
    const state = new Map<StructSym, 'active' | 'done'>();
    const depth = new Map<StructSym, number>();
    const poisoned = new Set<StructSym>();
    const reported = new Set<StructSym>();
    for (const [root] of this.structs) {
      if (state.has(root)) continue;
      const stack: Frame[] = [{ sym: root, edges: edgesOf(root), i: 0 }];
      state.set(root, 'active');
      while (stack.length > 0) {
        const frame = stack[stack.length - 1]!;
        if (frame.i < frame.edges.length) {
          const e = frame.edges[frame.i++]!;
          const st = state.get(e.target);
          if (st === undefined) {
            state.set(e.target, 'active');
            stack.push({ sym: e.target, edges: edgesOf(e.target), i: 0 });
          } else if (st === 'active') {
            this.reportCycle(stack, e, reported);
          }
          continue;
        }
        stack.pop();
        state.set(frame.sym, 'done');
        let d = 1;
        let cut = false;
        for (const e of frame.edges) {
          if (poisoned.has(e.target) || (depth.get(e.target) ?? 0) >= MAX_NESTING) {
            if (!poisoned.has(e.target) && !cut) {
              this.error(
                frame.sym.span,
                DiagnosticCode.NestingTooDeep,
                `struct '${frame.sym.name}' nests structs more than ${MAX_NESTING} levels deep (through field '${e.field.name}'); flatten the structs`,
              );
            }
            cut = true;
            e.field.type = { kind: 'error' };
          } else d = Math.max(d, 1 + (depth.get(e.target) ?? 0));
        }
        if (cut) poisoned.add(frame.sym);
        depth.set(frame.sym, d);
      }
    }
  }

  private reportCycle(
    stack: readonly { sym: StructSym; edges: { field: FieldSym }[]; i: number }[],
    closing: { field: FieldSym; target: StructSym },
    reported: Set<StructSym>,
  ): void {
    const at = stack.findIndex((f) => f.sym === closing.target);
    const cycle = stack.slice(at).map((f) => ({ sym: f.sym, field: f.edges[f.i - 1]!.field }));
    if (cycle.some((e) => reported.has(e.sym))) return;
    for (const e of cycle) reported.add(e.sym);
    const path = cycle.map((e) => `${e.sym.name}.${e.field.name}`).join(' -> ');
    this.error(
      closing.field.span,
      DiagnosticCode.RecursiveType,
      `struct '${closing.target.name}' contains itself (${path} -> ${closing.target.name}); messages have a bounded size, so break the cycle (pass an index or a cap instead)`,
    );
    // Cut the back edge: sizes and generated code then see a finite type.
    closing.field.type = { kind: 'error' };
  }

  // --- messages ---------------------------------------------------------------------

  private tooLarge(span: Span, what: string, size: Size): void {
    const total = totalWords(size);
    if (total <= MESSAGE_REGISTERS) return;
    const detail =
      size.items > 0
        ? ` (${size.words} untyped words + ${size.items} typed item${size.items === 1 ? '' : 's'} × ${ITEM_WORDS})`
        : '';
    this.error(
      span,
      DiagnosticCode.MessageTooLarge,
      `${what} needs ${total} words in the worst case${detail}, ${total - MESSAGE_REGISTERS} more than the ${MESSAGE_REGISTERS} message registers; pass bulk data through shared memory (an fpage, or a dataspace cap) instead of copying it`,
    );
  }

  private checkExceptionSize(sym: ExceptionSym): void {
    this.tooLarge(sym.span, `exception '${sym.name}'`, sizeOfAll(sym.fields.map((f) => f.type)));
  }

  private checkInterface(sym: InterfaceSym, node: InterfaceDecl): void {
    if (node.protocol && !node.protocol.malformed) {
      const v = node.protocol.value;
      if (v < 1n || v > BigInt(MAX_PROTOCOL)) {
        this.error(
          node.protocol.span,
          DiagnosticCode.BadProtocol,
          `protocol ${v} is out of range; use a number from 1 to ${MAX_PROTOCOL} (0x7fffffff), or omit it to derive one from the name`,
        );
        sym.protocol = derivedProtocol(sym.fqn);
      } else sym.protocol = Number(v);
    } else sym.protocol = derivedProtocol(sym.fqn);

    const inherited = new Map<string, MethodSym>();
    for (const b of sym.base ? interfaceChain(sym.base) : []) {
      for (const m of b.methods) if (!inherited.has(m.name)) inherited.set(m.name, m);
    }
    const own = new Map<string, MethodSym>();
    node.methods.forEach((decl, i) => {
      const m = sym.methods[i]!;
      const prev = own.get(m.name) ?? inherited.get(m.name);
      if (prev) {
        const whose = prev.iface === sym ? '' : ` in base interface '${prev.iface.name}'`;
        this.error(
          decl.name.span,
          DiagnosticCode.DuplicateName,
          `duplicate method '${m.name}': already declared${whose} at ${where(prev.span)}; methods cannot be overloaded or overridden, so rename one of them`,
        );
      } else if (CLIENT_MEMBERS.has(m.name)) {
        this.error(
          decl.name.span,
          DiagnosticCode.NameClash,
          `method name '${m.name}' clashes with the '${m.name}' member of the generated client class; rename the method`,
        );
      }
      if (!own.has(m.name)) own.set(m.name, m);
      this.checkMethod(m, decl);
    });

    // The server arms one set of receive windows for any request it may get.
    const requests: { label: string; kinds: (WindowKind | undefined)[] }[] = [];
    for (const i of interfaceChain(sym)) {
      for (const m of i.methods) {
        const k = itemKinds(requestTypes(m));
        if (k.conflict < 0) requests.push({ label: `'${m.name}'`, kinds: k.kinds });
      }
    }
    const merged = mergeKinds(requests);
    if (merged.conflict) {
      const c = merged.conflict;
      this.error(
        node.name.span,
        DiagnosticCode.WindowConflict,
        `requests to interface '${sym.name}' can carry ${c.a.kind} as typed item ${c.position} (in ${c.a.label}) or ${c.b.kind} (in ${c.b.label}); a server sets up one receive window per item position, so order cap and fpage parameters the same way in every method`,
      );
    }
    sym.requestWindows = windowString(merged.kinds);
  }

  private checkMethod(m: MethodSym, decl: MethodDecl): void {
    if (m.oneway) {
      if (decl.returns) {
        this.error(
          decl.returns.span,
          DiagnosticCode.OnewayResult,
          `oneway method '${m.name}' cannot return a value, because it gets no reply; return void or remove 'oneway'`,
        );
      }
      decl.params.forEach((p) => {
        if (p.direction !== 'in') {
          this.error(
            p.span,
            DiagnosticCode.OnewayResult,
            `oneway method '${m.name}' cannot have ${p.direction} parameter '${p.name.text}', because it gets no reply; make it 'in' or remove 'oneway'`,
          );
        }
      });
      if (decl.raisesSpan) {
        this.error(
          decl.raisesSpan,
          DiagnosticCode.OnewayResult,
          `oneway method '${m.name}' cannot raise exceptions, because it gets no reply to carry them; remove the raises clause or 'oneway'`,
        );
      }
    }
    const outs = m.params.filter((p) => p.direction !== 'in');
    if (m.returns && outs.length > 0) {
      const clash = outs.find((p) => p.name === 'result');
      if (clash) {
        this.error(
          clash.span,
          DiagnosticCode.NameClash,
          `parameter 'result' of method '${m.name}' clashes with the return value, which the generated result object calls 'result'; rename the parameter`,
        );
      }
    }
    const request = sizeOfAll(requestTypes(m));
    const reply = sizeOfAll(replyTypes(m));
    this.tooLarge(m.span, `the request of method '${m.name}'`, request);
    this.tooLarge(m.span, `the reply of method '${m.name}'`, reply);

    const req = itemKinds(requestTypes(m));
    if (req.conflict >= 0) this.mixedItems(m, 'request', req.conflict);
    const replies: { label: string; kinds: (WindowKind | undefined)[] }[] = [];
    const self = itemKinds(replyTypes(m));
    const own = { label: `the reply of '${m.name}'`, kinds: self.kinds };
    if (self.conflict >= 0) {
      this.mixedItems(m, 'reply', self.conflict);
      return;
    }
    replies.push(own);
    for (const e of m.raises) {
      const k = itemKinds(e.fields.map((f) => f.type));
      if (k.conflict < 0) replies.push({ label: `exception '${e.name}'`, kinds: k.kinds });
    }
    const merged = mergeKinds(replies);
    if (merged.conflict) {
      const c = merged.conflict;
      this.error(
        m.span,
        DiagnosticCode.WindowConflict,
        `replies of method '${m.name}' can carry ${c.a.kind} as typed item ${c.position} (in ${c.a.label}) or ${c.b.kind} (in ${c.b.label}); a client sets up one receive window per item position, so order cap and fpage fields the same way`,
      );
    }
    m.replyWindows = windowString(merged.kinds);
  }

  private mixedItems(m: MethodSym, which: 'request' | 'reply', position: number): void {
    const who = which === 'request' ? 'the server' : 'the client';
    this.error(
      m.span,
      DiagnosticCode.WindowConflict,
      `the ${which} of method '${m.name}' can carry a capability or an fpage as typed item ${position}, depending on a sequence's length; ${who} sets up one receive window per item position, so put fixed cap and fpage parameters before sequences of the other kind`,
    );
  }

  // --- protocols and generated names -------------------------------------------------

  private checkProtocols(): void {
    const byNumber = new Map<number, InterfaceSym>();
    for (const [sym, w] of this.interfaces) {
      const prev = byNumber.get(sym.protocol);
      if (!prev) {
        byNumber.set(sym.protocol, sym);
        continue;
      }
      const hex = `0x${sym.protocol.toString(16)}`;
      const how = sym.protocolExplicit ? '' : ' (derived from its name)';
      this.error(
        w.node.protocol?.span ?? w.node.name.span,
        DiagnosticCode.DuplicateProtocol,
        `protocol ${hex}${how} of interface '${sym.fqn}' is already used by '${prev.fqn}' at ${where(prev.span)}; give one of them another 'protocol N'`,
      );
    }
  }

  private checkGeneratedNames(c: CheckedFile): void {
    const taken = new Map<string, TypeSym>();
    for (const sym of c.decls) {
      if (TS_RESERVED.has(sym.name) || sym.name === RUNTIME_NAMESPACE) {
        this.error(
          sym.span,
          DiagnosticCode.NameClash,
          sym.name === RUNTIME_NAMESPACE
            ? `'${sym.name}' is the name generated code imports the runtime as; rename the ${sym.kind}`
            : `'${sym.name}' is a reserved word or global name in TypeScript; rename the ${sym.kind}`,
        );
        continue;
      }
      for (const [i, n] of generatedNames(sym).entries()) {
        const prev = taken.get(n);
        if (prev && prev !== sym) {
          const mine =
            i === 0 ? `${sym.kind} '${sym.fqn}'` : `'${n}', generated for ${sym.kind} '${sym.fqn}',`;
          this.error(
            sym.span,
            DiagnosticCode.NameClash,
            `${mine} clashes with a name generated for ${prev.kind} '${prev.fqn}' at ${where(prev.span)}; generated TypeScript puts every declaration of a file in one scope, so rename one of them`,
          );
          break;
        }
        taken.set(n, sym);
      }
    }
  }
}

/** The values a request carries after its opcode word. */
export function requestTypes(m: MethodSym): Ty[] {
  return [
    { kind: 'scalar', name: 'u32' },
    ...m.params.filter((p) => p.direction !== 'out').map((p) => p.type),
  ];
}

/** The values a successful reply carries: out and inout parameters, then the return value. */
export function replyTypes(m: MethodSym): Ty[] {
  const types = m.params.filter((p) => p.direction !== 'in').map((p) => p.type);
  if (m.returns) types.push(m.returns);
  return types;
}

interface KindSource {
  readonly label: string;
  readonly kinds: readonly (WindowKind | undefined)[];
}

function kindWord(k: WindowKind): string {
  return k === 'c' ? 'a capability' : 'an fpage';
}

/** Merges per-message item kinds, naming the first two messages that disagree. */
function mergeKinds(list: readonly KindSource[]): {
  kinds: (WindowKind | undefined)[];
  conflict: {
    position: number;
    a: { label: string; kind: string };
    b: { label: string; kind: string };
  } | null;
} {
  const kinds: (WindowKind | undefined)[] = [];
  const from: string[] = [];
  for (const src of list) {
    for (const [pos, k] of src.kinds.entries()) {
      if (k === undefined) continue;
      const had = kinds[pos];
      if (had === undefined) {
        kinds[pos] = k;
        from[pos] = src.label;
      } else if (had !== k) {
        return {
          kinds,
          conflict: {
            position: pos,
            a: { label: from[pos]!, kind: kindWord(had) },
            b: { label: src.label, kind: kindWord(k) },
          },
        };
      }
    }
  }
  return { kinds, conflict: null };
}
