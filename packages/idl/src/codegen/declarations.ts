import type { EnumSym, ExceptionSym, FieldSym, StructSym } from '../model';
import type { Emitter } from './emitter';
import type { TypeMapper } from './types';

/** Emits an enum: its const object, its type and its codec. */
export function emitEnum(out: Emitter, sym: EnumSym): void {
  out.doc(sym.doc, `IDL enum \`${sym.fqn}\`; an i32 on the wire.`);
  out.block(
    `export const ${sym.name} = {`,
    () => {
      for (const m of sym.members) {
        out.doc(m.doc);
        out.line(`${m.name}: ${m.value},`);
      }
    },
    '} as const;',
  );
  out.line(`export type ${sym.name} = (typeof ${sym.name})[keyof typeof ${sym.name}];`);
  out.line(`/** Marshals {@link ${sym.name}}; reading rejects values it does not list. */`);
  out.line(
    `export const ${sym.name}Codec: idl.Codec<${sym.name}> = idl.Codecs.enumOf(${sym.name}, '${sym.fqn}');`,
  );
}

function emitFieldsType(out: Emitter, types: TypeMapper, fields: readonly FieldSym[], prefix = ''): void {
  for (const f of fields) {
    out.doc(f.doc);
    out.line(`${prefix}${f.name}: ${types.ts(f.type)};`);
  }
}

/** The codec's write method: the fields in declaration order. */
function emitWrite(out: Emitter, types: TypeMapper, fields: readonly FieldSym[]): void {
  if (fields.length === 0) {
    out.line('write() {},');
    return;
  }
  out.block(
    'write(w, v) {',
    () => {
      for (const f of fields) out.line(types.write(f.type, `v.${f.name}`));
    },
    '},',
  );
}

/** The codec's read method: `make` wraps the object literal of fields (read in order). */
function emitRead(
  out: Emitter,
  types: TypeMapper,
  fields: readonly FieldSym[],
  open: string,
  close: string,
): void {
  if (fields.length === 0) {
    out.block('read() {', () => out.line(`${open}${close}`), '},');
    return;
  }
  out.block(
    'read(r) {',
    () => {
      // Object literals evaluate in order, so the fields are read in wire order.
      out.block(
        `${open}{`,
        () => {
          for (const f of fields) out.line(`${f.name}: ${types.read(f.type)},`);
        },
        `}${close}`,
      );
    },
    '},',
  );
}

/** Emits a struct: its TypeScript interface and its codec. */
export function emitStruct(out: Emitter, types: TypeMapper, sym: StructSym): void {
  out.doc(sym.doc, `IDL struct \`${sym.fqn}\`.`);
  out.block(`export interface ${sym.name} {`, () => emitFieldsType(out, types, sym.fields));
  out.line(`/** Marshals {@link ${sym.name}}: its fields in order. */`);
  out.block(
    `export const ${sym.name}Codec: idl.Codec<${sym.name}> = {`,
    () => {
      emitWrite(out, types, sym.fields);
      emitRead(out, types, sym.fields, 'return ', ';');
    },
    '};',
  );
}

/** Emits an exception: its class (extending IdlException) and its codec. */
export function emitException(out: Emitter, types: TypeMapper, sym: ExceptionSym): void {
  out.doc(
    sym.doc,
    `IDL exception \`${sym.fqn}\`: thrown by a server method that raises it, rethrown in the client.`,
  );
  out.block(`export class ${sym.name} extends idl.IdlException {`, () => {
    emitFieldsType(out, types, sym.fields, 'readonly ');
    if (sym.fields.length === 0) {
      out.block('constructor() {', () => out.line(`super('${sym.fqn}');`));
      return;
    }
    const shape = sym.fields.map((f) => `${f.name}: ${types.ts(f.type)}`).join('; ');
    out.block(`constructor(fields: { ${shape} }) {`, () => {
      out.line(`super('${sym.fqn}');`);
      for (const f of sym.fields) out.line(`this.${f.name} = fields.${f.name};`);
    });
  });
  out.line(`/** Marshals {@link ${sym.name}}: its fields in order. */`);
  out.block(
    `export const ${sym.name}Codec: idl.Codec<${sym.name}> = {`,
    () => {
      emitWrite(out, types, sym.fields);
      if (sym.fields.length === 0) emitRead(out, types, sym.fields, `return new ${sym.name}(`, ');');
      else emitRead(out, types, sym.fields, `return new ${sym.name}(`, ');');
    },
    '};',
  );
}
