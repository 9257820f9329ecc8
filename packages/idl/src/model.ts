/**
 * The checked program: every declaration resolved to a symbol, every type to a
 * {@link Ty}. Code generation reads only this, never the syntax tree.
 */
import type { Direction, ScalarName } from './ast';
import type { SourceFile, Span } from './source';

/** A resolved type. `error` stands for a type that failed to resolve (already reported). */
export type Ty =
  | { readonly kind: 'scalar'; readonly name: ScalarName }
  | { readonly kind: 'string' | 'bytes'; readonly max: number }
  | { readonly kind: 'sequence'; readonly element: Ty; readonly max: number }
  | { readonly kind: 'array'; readonly element: Ty; readonly length: number }
  | { readonly kind: 'cap'; readonly iface: InterfaceSym | null; readonly rights: number }
  | { readonly kind: 'fpage' }
  | { readonly kind: 'struct'; readonly sym: StructSym }
  | { readonly kind: 'enum'; readonly sym: EnumSym }
  | { readonly kind: 'error' };

/** What every named declaration has. */
interface SymBase {
  readonly name: string;
  /** Dotted fully-qualified name, `fs.File`. */
  readonly fqn: string;
  readonly file: SourceFile;
  /** Where the name was declared. */
  readonly span: Span;
  readonly doc: string | undefined;
}

/** A struct or exception field with its resolved type. */
export interface FieldSym {
  readonly name: string;
  type: Ty;
  readonly doc: string | undefined;
  readonly span: Span;
}

/** A struct: marshalled as its fields in order. */
export interface StructSym extends SymBase {
  readonly kind: 'struct';
  readonly fields: FieldSym[];
}

/** An exception: a declared outcome of a method, with fields. */
export interface ExceptionSym extends SymBase {
  readonly kind: 'exception';
  readonly fields: FieldSym[];
}

/** One enum member and its i32 value. */
export interface EnumMemberSym {
  readonly name: string;
  readonly value: number;
  readonly doc: string | undefined;
}

/** An enum: an i32 restricted to its members' values. */
export interface EnumSym extends SymBase {
  readonly kind: 'enum';
  readonly members: EnumMemberSym[];
}

/** A method parameter with its direction and resolved type. */
export interface ParamSym {
  readonly name: string;
  readonly direction: Direction;
  type: Ty;
  readonly span: Span;
}

/** A method with its opcode, resolved signature and declared exceptions. */
export interface MethodSym {
  readonly name: string;
  /** The value of MR0 in a request: the method's index in its own interface. */
  readonly opcode: number;
  readonly oneway: boolean;
  readonly params: ParamSym[];
  /** The return type, or null for void. */
  returns: Ty | null;
  readonly raises: ExceptionSym[];
  readonly doc: string | undefined;
  readonly span: Span;
  readonly iface: InterfaceSym;
  /** Receive-window kinds the client arms for the reply (`c` capability, `f` fpage). */
  replyWindows: string;
}

/** An interface: its protocol number, base and own methods. */
export interface InterfaceSym extends SymBase {
  readonly kind: 'interface';
  base: InterfaceSym | null;
  /** The tag label of every request for this interface's own methods. */
  protocol: number;
  /** True when the protocol number was written in the source. */
  protocolExplicit: boolean;
  readonly methods: MethodSym[];
  /** Receive-window kinds the server arms for any request, inherited methods included. */
  requestWindows: string;
}

/** A module: a scope of names (reopened modules share one). */
export interface ModuleSym extends SymBase {
  readonly kind: 'module';
  readonly parent: ModuleSym | null;
  readonly members: Map<string, Sym>;
}

/** A declaration that code is generated for. */
export type TypeSym = StructSym | ExceptionSym | EnumSym | InterfaceSym;
/** Anything a name can resolve to. */
export type Sym = TypeSym | ModuleSym;

/** One checked file: its declarations in source order, modules flattened. */
export interface CheckedFile {
  readonly file: SourceFile;
  readonly decls: TypeSym[];
  /** Files it imports, as loaded. */
  readonly imports: CheckedFile[];
}

/** The result of checking a file and everything it imports. */
export interface Program {
  /** The file that was compiled. */
  readonly main: CheckedFile;
  /** Every loaded file, imports before the files that import them. */
  readonly files: readonly CheckedFile[];
}

/** Every interface from `iface` up its base chain, most derived first. */
export function interfaceChain(iface: InterfaceSym): InterfaceSym[] {
  const chain: InterfaceSym[] = [];
  const seen = new Set<InterfaceSym>();
  for (let i: InterfaceSym | null = iface; i && !seen.has(i); i = i.base) {
    seen.add(i);
    chain.push(i);
  }
  return chain;
}
