import type { CheckedFile, TypeSym } from '../model';
import { generatedNames, RUNTIME_NAMESPACE } from '../names';
import type { SourceFile } from '../source';

/** What is generated per declaration, by the suffix or prefix added to its name. */
export type Derived = '' | 'Codec' | 'Client' | 'Server' | 'Handlers';

/** Derived names that are types only (must be imported with `type`). */
function isTypeOnly(sym: TypeSym, derived: Derived): boolean {
  return (derived === '' && sym.kind === 'struct') || derived === 'Server';
}

/** `a/b/x.ts` seen from `a/c/y.ts` is `../b/x.js` (ESM imports name the emitted file). */
export function importSpecifier(from: string, to: string): string {
  const a = from.split('/').slice(0, -1);
  const b = to.split('/');
  let i = 0;
  while (i < a.length && i < b.length - 1 && a[i] === b[i]) i++;
  const up = a.slice(i).map(() => '..');
  const rel = [...up, ...b.slice(i)].join('/').replace(/\.ts$/, '.js');
  return up.length === 0 ? `./${rel}` : rel;
}

/**
 * The TypeScript names of declarations as seen from the file being generated: its own
 * declarations by their names, imported ones through imports, aliased when their name
 * is taken (`fs_Stat`).
 */
export class NameTable {
  private readonly taken = new Set<string>([RUNTIME_NAMESPACE]);
  private readonly aliases = new Map<TypeSym, string>();
  /** file → (imported name → local alias, type only) */
  private readonly imports = new Map<SourceFile, Map<string, { local: string; typeOnly: boolean }>>();

  constructor(private readonly main: CheckedFile) {
    for (const sym of main.decls) for (const n of generatedNames(sym)) this.taken.add(n);
  }

  /** The local name of `sym`'s `derived` name, importing it when it lives in another file. */
  ref(sym: TypeSym, derived: Derived = ''): string {
    const own = (base: string): string => (derived === '' ? base : `${base}${derived}`);
    if (sym.file === this.main.file) return own(sym.name);
    let alias = this.aliases.get(sym);
    if (alias === undefined) {
      const candidates = [sym.name, sym.fqn.replace(/\./g, '_')];
      alias = candidates.find((c) => this.free(sym, c));
      while (alias === undefined || !this.free(sym, alias)) alias = `${alias ?? candidates[1]}_`;
      for (const n of this.namesFor(sym, alias)) this.taken.add(n);
      this.aliases.set(sym, alias);
    }
    const imported = own(sym.name);
    let names = this.imports.get(sym.file);
    if (!names) {
      names = new Map();
      this.imports.set(sym.file, names);
    }
    const local = own(alias);
    names.set(imported, {
      local,
      typeOnly: isTypeOnly(sym, derived) && (names.get(imported)?.typeOnly ?? true),
    });
    return local;
  }

  private namesFor(sym: TypeSym, base: string): string[] {
    const shifted = { ...sym, name: base };
    return generatedNames(shifted);
  }

  private free(sym: TypeSym, base: string): boolean {
    return this.namesFor(sym, base).every((n) => !this.taken.has(n));
  }

  /** The import declarations for everything {@link NameTable.ref} pulled in, sorted. */
  importLines(outputPath: (f: SourceFile) => string): string[] {
    const from = outputPath(this.main.file);
    return [...this.imports.entries()]
      .map(([file, names]) => {
        // Sorted by local name, ignoring case, as the formatter's import sorting does.
        const list = [...names.entries()]
          .sort(([, a], [, b]) => {
            const x = a.local.toLowerCase();
            const y = b.local.toLowerCase();
            return x < y ? -1 : x > y ? 1 : a.local < b.local ? -1 : 1;
          })
          .map(
            ([name, { local, typeOnly }]) =>
              `${typeOnly ? 'type ' : ''}${name}${local === name ? '' : ` as ${local}`}`,
          );
        const spec = importSpecifier(from, outputPath(file));
        const one = `import { ${list.join(', ')} } from '${spec}';`;
        return one.length <= 110
          ? one
          : `import {\n${list.map((l) => `  ${l},\n`).join('')}} from '${spec}';`;
      })
      .sort();
  }
}
