/**
 * The syntax tree the parser produces: exactly what was written, with source spans.
 * Names are not resolved here; the checker builds the resolved model (`model.ts`).
 */
import type { Span } from './source';

/** An identifier where it was written. */
export interface Name {
  readonly text: string;
  readonly span: Span;
}

/** A possibly dotted name, `fs.File`. */
export interface QualifiedName {
  readonly parts: readonly Name[];
  /** The parts joined with dots. */
  readonly text: string;
  readonly span: Span;
}

/** A (possibly negative) integer literal. */
export interface IntLiteral {
  readonly value: bigint;
  /** True when the literal was malformed; the lexer reported it, so checks skip it. */
  readonly malformed: boolean;
  readonly span: Span;
}

/** The integer, boolean and floating-point types, which each take one message word. */
export const SCALAR_TYPES = ['bool', 'i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'f64'] as const;
/** The name of a one-word built-in type. */
export type ScalarName = (typeof SCALAR_TYPES)[number];

/** Every name the language reserves for a built-in type. */
export const BUILTIN_TYPE_NAMES: ReadonlySet<string> = new Set([
  ...SCALAR_TYPES,
  'string',
  'bytes',
  'sequence',
  'cap',
  'fpage',
  'void',
]);

/** A type as written. */
export type TypeNode =
  | { readonly kind: 'scalar'; readonly name: ScalarName; readonly span: Span }
  | { readonly kind: 'fpage'; readonly span: Span }
  | { readonly kind: 'string' | 'bytes'; readonly bound: IntLiteral; readonly span: Span }
  | { readonly kind: 'sequence'; readonly element: TypeNode; readonly bound: IntLiteral; readonly span: Span }
  | { readonly kind: 'array'; readonly element: TypeNode; readonly length: IntLiteral; readonly span: Span }
  | {
      readonly kind: 'cap';
      /** The interface, or null for an untyped `cap`. */
      readonly iface: QualifiedName | null;
      /** The rights letters (`rw`), or null for the default. */
      readonly rights: Name | null;
      readonly span: Span;
    }
  | { readonly kind: 'named'; readonly name: QualifiedName; readonly span: Span };

/** Something with an optional `///` comment. */
interface Documented {
  readonly doc: string | undefined;
}

/** A struct or exception field. */
export interface FieldDecl extends Documented {
  readonly name: Name;
  readonly type: TypeNode;
  readonly span: Span;
}

/** Which way a parameter travels: request, reply, or both. */
export type Direction = 'in' | 'out' | 'inout';

/** A method parameter as written. */
export interface ParamDecl {
  readonly direction: Direction;
  readonly type: TypeNode;
  readonly name: Name;
  readonly span: Span;
}

/** A method as written. */
export interface MethodDecl extends Documented {
  readonly name: Name;
  /** Where `oneway` was written, or null. */
  readonly oneway: Span | null;
  /** The return type, or null for `void`. */
  readonly returns: TypeNode | null;
  readonly params: readonly ParamDecl[];
  readonly raises: readonly QualifiedName[];
  /** Where `raises` was written, or null. */
  readonly raisesSpan: Span | null;
  readonly span: Span;
}

/** `module name { … }`. */
export interface ModuleDecl extends Documented {
  readonly kind: 'module';
  readonly name: Name;
  readonly body: readonly Decl[];
  readonly span: Span;
}

/** `interface Name [: Base] [protocol N] { … }`. */
export interface InterfaceDecl extends Documented {
  readonly kind: 'interface';
  readonly name: Name;
  readonly base: QualifiedName | null;
  readonly protocol: IntLiteral | null;
  readonly methods: readonly MethodDecl[];
  readonly span: Span;
}

/** `struct Name { … }`. */
export interface StructDecl extends Documented {
  readonly kind: 'struct';
  readonly name: Name;
  readonly fields: readonly FieldDecl[];
  readonly span: Span;
}

/** `exception Name { … }` or `exception Name;`. */
export interface ExceptionDecl extends Documented {
  readonly kind: 'exception';
  readonly name: Name;
  readonly fields: readonly FieldDecl[];
  readonly span: Span;
}

/** One enum member, with its value if written. */
export interface EnumMember extends Documented {
  readonly name: Name;
  readonly value: IntLiteral | null;
}

/** `enum Name { … }`. */
export interface EnumDecl extends Documented {
  readonly kind: 'enum';
  readonly name: Name;
  readonly members: readonly EnumMember[];
  readonly span: Span;
}

/** Any declaration. */
export type Decl = ModuleDecl | InterfaceDecl | StructDecl | ExceptionDecl | EnumDecl;

/** `import "path.idl";`. */
export interface ImportDecl {
  /** The path as written, relative to the importing file. */
  readonly path: string;
  readonly span: Span;
}

/** One parsed file. */
export interface IdlFile {
  readonly imports: readonly ImportDecl[];
  readonly decls: readonly Decl[];
}
