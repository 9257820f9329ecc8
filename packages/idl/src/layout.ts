/**
 * Message layout arithmetic shared by the checker and the code generator: worst-case
 * sizes in message words, and which kind of receive window each typed item needs.
 *
 * Wire rules (docs/idl.md, "Wire format"): every scalar and enum takes one word;
 * `string<N>` and `bytes<N>` take a length word plus ⌈N/8⌉ words; `sequence<T, N>` a
 * count word plus N × T; `T[N]` N × T; a struct the sum of its fields; `cap` and
 * `fpage` one typed item of two words, placed after all untyped words.
 */
import type { Ty } from './model';

/** Message registers of both Pecan back ends (Fiasco.OC's amd64 UTCB). */
export const MESSAGE_REGISTERS = 63;
/** Words a typed item occupies. */
export const ITEM_WORDS = 2;
/** Largest bound or array length the language accepts; anything larger cannot fit anyway. */
export const MAX_BOUND = 4096;

/** Worst-case size of a value: untyped words and typed items. */
export interface Size {
  readonly words: number;
  readonly items: number;
}

const ZERO: Size = { words: 0, items: 0 };

/** Total message registers a size occupies. */
export function totalWords(s: Size): number {
  return s.words + ITEM_WORDS * s.items;
}

/** Adds sizes. */
export function addSizes(a: Size, b: Size): Size {
  return { words: a.words + b.words, items: a.items + b.items };
}

const structSizes = new WeakMap<object, Size>();

/** Worst-case size of a value of type `ty`. Recursive structs (reported elsewhere) count as empty. */
export function sizeOf(ty: Ty, visiting: Set<unknown> = new Set()): Size {
  switch (ty.kind) {
    case 'scalar':
    case 'enum':
      return { words: 1, items: 0 };
    case 'string':
    case 'bytes':
      return { words: 1 + Math.ceil(ty.max / 8), items: 0 };
    case 'cap':
    case 'fpage':
      return { words: 0, items: 1 };
    case 'sequence': {
      const e = sizeOf(ty.element, visiting);
      return { words: 1 + ty.max * e.words, items: ty.max * e.items };
    }
    case 'array': {
      const e = sizeOf(ty.element, visiting);
      return { words: ty.length * e.words, items: ty.length * e.items };
    }
    case 'struct': {
      // Memoised: deep chains of structs would otherwise cost quadratic time.
      const known = structSizes.get(ty.sym);
      if (known) return known;
      if (visiting.has(ty.sym)) return ZERO;
      visiting.add(ty.sym);
      let s = ZERO;
      for (const f of ty.sym.fields) s = addSizes(s, sizeOf(f.type, visiting));
      visiting.delete(ty.sym);
      structSizes.set(ty.sym, s);
      return s;
    }
    case 'error':
      return ZERO;
  }
}

/** Worst-case size of several values sent one after the other. */
export function sizeOfAll(types: readonly Ty[]): Size {
  let s = ZERO;
  for (const t of types) s = addSizes(s, sizeOf(t));
  return s;
}

/** Kind of receive window a typed item needs: an object window or a memory window. */
export type WindowKind = 'c' | 'f';

/** The window each item position of one message may need. */
export interface ItemKinds {
  /** Per item position, the kind an item there can have. */
  readonly kinds: (WindowKind | undefined)[];
  /** The first position that can hold either kind, or -1. */
  readonly conflict: number;
}

const MAX_ITEMS = Math.floor(MESSAGE_REGISTERS / ITEM_WORDS) + 1;

/**
 * Which kind of typed item can sit at each item position of a message made of `types`.
 * Sequences make positions variable, so this follows every possible item count (at most
 * 32, so the sets stay tiny).
 */
export function itemKinds(types: readonly Ty[]): ItemKinds {
  const kinds: (WindowKind | undefined)[] = [];
  let conflict = -1;
  const record = (pos: number, kind: WindowKind): void => {
    const had = kinds[pos];
    if (had === undefined) kinds[pos] = kind;
    else if (had !== kind && (conflict < 0 || pos < conflict)) conflict = pos;
  };
  const walk = (ty: Ty, starts: Set<number>, visiting: Set<unknown>): Set<number> => {
    if (starts.size === 0 || sizeOf(ty).items === 0) return starts;
    switch (ty.kind) {
      case 'cap':
      case 'fpage': {
        const next = new Set<number>();
        for (const s of starts) {
          record(s, ty.kind === 'cap' ? 'c' : 'f');
          if (s + 1 < MAX_ITEMS) next.add(s + 1);
        }
        return next;
      }
      case 'struct': {
        if (visiting.has(ty.sym)) return starts;
        visiting.add(ty.sym);
        for (const f of ty.sym.fields) starts = walk(f.type, starts, visiting);
        visiting.delete(ty.sym);
        return starts;
      }
      case 'array': {
        for (let i = 0; i < ty.length && starts.size > 0; i++) starts = walk(ty.element, starts, visiting);
        return starts;
      }
      case 'sequence': {
        // Any count from 0 to max: the union of the positions after each count.
        const all = new Set(starts);
        let cur = starts;
        for (let i = 0; i < ty.max && cur.size > 0; i++) {
          cur = walk(ty.element, cur, visiting);
          for (const s of cur) all.add(s);
        }
        return all;
      }
      default:
        return starts;
    }
  };
  let starts = new Set([0]);
  for (const t of types) starts = walk(t, starts, new Set());
  return { kinds, conflict };
}

/** Spells item kinds as the window string generated code passes to the runtime. */
export function windowString(kinds: readonly (WindowKind | undefined)[]): string {
  return kinds.map((k) => k ?? 'c').join('');
}
