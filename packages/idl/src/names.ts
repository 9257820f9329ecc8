/**
 * Names that generated TypeScript cannot use, and the names it derives from IDL
 * declarations. The checker uses these to reject clashes before code generation, so
 * that generated code always compiles.
 */
import type { TypeSym } from './model';

/** Words TypeScript reserves, plus the global types generated code refers to. */
export const TS_RESERVED: ReadonlySet<string> = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false ' +
    'finally for function if import in instanceof new null return super switch this throw true try ' +
    'typeof var void while with implements interface let package private protected public static ' +
    'yield await arguments eval undefined any boolean number bigint string symbol object never unknown ' +
    'Error Uint8Array'
  ).split(' '),
);

/** The name generated code imports the runtime as. */
export const RUNTIME_NAMESPACE = 'idl';

/** Names the client class defines itself, which methods therefore cannot have. */
export const CLIENT_MEMBERS: ReadonlySet<string> = new Set(['env', 'cap', 'stub', 'constructor']);

/** Names an exception field cannot have, because the generated class extends Error. */
export const ERROR_MEMBERS: ReadonlySet<string> = new Set([
  'name',
  'message',
  'stack',
  'cause',
  'constructor',
]);

/** The top-level TypeScript names generated for a declaration, its own name first. */
export function generatedNames(sym: TypeSym): string[] {
  const n = sym.name;
  switch (sym.kind) {
    case 'struct':
    case 'enum':
    case 'exception':
      return [n, `${n}Codec`];
    case 'interface':
      return [n, `${n}Client`, `${n}Server`, `${n}Handlers`, `serve${n}`];
  }
}

/** `delete` → `delete_`: a usable TypeScript variable name for an IDL parameter. */
export function safeIdentifier(name: string, taken: ReadonlySet<string> = new Set()): string {
  let s = name;
  while (TS_RESERVED.has(s) || taken.has(s)) s += '_';
  return s;
}
