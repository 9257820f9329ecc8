import type { Ty } from '../model';
import type { NameTable } from './names';

/** Spells capability rights as the letters the IDL uses, for comments. */
export function rightsLetters(rights: number): string {
  let s = '';
  if (rights & 0x4) s += 'r';
  if (rights & 0x1) s += 'w';
  if (rights & 0x2) s += 's';
  if (rights & 0x8) s += 'd';
  return s || 'none';
}

/** Maps resolved IDL types to TypeScript types and to marshalling code. */
export class TypeMapper {
  constructor(private readonly names: NameTable) {}

  /** The TypeScript type of a value. */
  ts(ty: Ty): string {
    switch (ty.kind) {
      case 'scalar':
        return ty.name === 'bool' ? 'boolean' : ty.name === 'i64' || ty.name === 'u64' ? 'bigint' : 'number';
      case 'string':
        return 'string';
      case 'bytes':
        return 'Uint8Array';
      case 'sequence':
      case 'array':
        return `${this.ts(ty.element)}[]`;
      case 'cap':
        return 'number';
      case 'fpage':
        return 'idl.Flexpage';
      case 'struct':
      case 'enum':
        return this.names.ref(ty.sym);
      case 'error':
        return 'never';
    }
  }

  /** A statement writing `expr` with the writer `w`. */
  write(ty: Ty, expr: string): string {
    switch (ty.kind) {
      case 'scalar':
        return `w.${ty.name}(${expr});`;
      case 'string':
      case 'bytes':
        return `w.${ty.kind}(${expr}, ${ty.max});`;
      case 'sequence':
        return `w.sequence(${expr}, ${ty.max}, ${this.codec(ty.element)});`;
      case 'array':
        return `w.array(${expr}, ${ty.length}, ${this.codec(ty.element)});`;
      case 'cap':
        return `w.cap(${expr}, ${ty.rights}); // rights: ${rightsLetters(ty.rights)}`;
      case 'fpage':
        return `w.fpage(${expr});`;
      case 'struct':
      case 'enum':
        return `${this.names.ref(ty.sym, 'Codec')}.write(w, ${expr});`;
      case 'error':
        return `throw new Error('unresolved type');`;
    }
  }

  /** An expression reading a value with the reader `r`. */
  read(ty: Ty): string {
    switch (ty.kind) {
      case 'scalar':
        return `r.${ty.name}()`;
      case 'string':
      case 'bytes':
        return `r.${ty.kind}(${ty.max})`;
      case 'sequence':
        return `r.sequence(${ty.max}, ${this.codec(ty.element)})`;
      case 'array':
        return `r.array(${ty.length}, ${this.codec(ty.element)})`;
      case 'cap':
        return 'r.cap()';
      case 'fpage':
        return 'r.fpage()';
      case 'struct':
      case 'enum':
        return `${this.names.ref(ty.sym, 'Codec')}.read(r)`;
      case 'error':
        return 'undefined as never';
    }
  }

  /** An expression for the codec of a type (sequence and array elements). */
  codec(ty: Ty): string {
    switch (ty.kind) {
      case 'scalar':
        return `idl.Codecs.${ty.name}`;
      case 'string':
      case 'bytes':
        return `idl.Codecs.${ty.kind}(${ty.max})`;
      case 'sequence':
        return `idl.Codecs.sequence(${this.codec(ty.element)}, ${ty.max})`;
      case 'array':
        return `idl.Codecs.array(${this.codec(ty.element)}, ${ty.length})`;
      case 'cap':
        return `idl.Codecs.cap(${ty.rights})`;
      case 'fpage':
        return 'idl.Codecs.fpage';
      case 'struct':
      case 'enum':
        return this.names.ref(ty.sym, 'Codec');
      case 'error':
        return 'undefined as never';
    }
  }
}
