import { check, type LoadedFile } from './checker';
import { generate } from './codegen/generate';
import { type Diagnostic, DiagnosticCode, diagnostic, sortDiagnostics } from './diagnostics';
import type { Program } from './model';
import { parse } from './parser';
import { SourceFile } from './source';

/** Options of {@link compile} and {@link checkSource}. */
export interface CompileOptions {
  /** The name of the source, for diagnostics and for resolving imports (default `input.idl`). */
  readonly fileName?: string;
  /**
   * Reads an imported file, given its path joined to the importing file's directory.
   * Returns undefined when it does not exist. Without it, every import is an error.
   */
  readonly readFile?: (path: string) => string | undefined;
  /** The module generated code imports the runtime from (default `@pecan/idl/runtime`). */
  readonly runtimeModule?: string;
  /**
   * Where the output for an IDL file goes (default {@link outputPath}: `x.idl` → `x.ts`).
   * Imports between generated files follow it, with `.ts` spelled `.js` as ESM requires.
   */
  readonly outputPath?: (sourceName: string) => string;
}

/** A generated file. */
export interface OutputFile {
  /** Path of the output, next to the source's name: `calc.idl` gives `calc.ts`. */
  readonly path: string;
  readonly text: string;
}

/** What {@link compile} returns. Files are empty when there are errors. */
export interface CompileResult {
  readonly files: OutputFile[];
  readonly diagnostics: Diagnostic[];
}

/** Joins a relative import path to the importing file's directory, POSIX-style. */
export function resolveImportPath(from: string, path: string): string {
  if (path.startsWith('/')) return normalize(path);
  const slash = from.lastIndexOf('/');
  return normalize(slash < 0 ? path : `${from.slice(0, slash + 1)}${path}`);
}

function normalize(path: string): string {
  const out: string[] = [];
  const absolute = path.startsWith('/');
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (part !== '..' || !absolute) out.push(part);
  }
  return (absolute ? '/' : '') + out.join('/');
}

/** The output path for a source name: the extension `.idl` becomes `.ts`. */
export function outputPath(fileName: string): string {
  return `${fileName.replace(/\.idl$/i, '')}.ts`;
}

/**
 * Parses `source` and every file it imports, and checks them. Diagnostics of imported
 * files are included. Never throws on any input.
 */
export function checkSource(
  source: string,
  options: CompileOptions = {},
): { program: Program | null; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  try {
    const loaded = new Map<string, LoadedFile>();
    const order: LoadedFile[] = [];
    const load = (name: string, text: string): LoadedFile => {
      const file = new SourceFile(name, text);
      const lf: LoadedFile = { file, ast: parse(file, diagnostics), imports: [] };
      loaded.set(name, lf);
      for (const imp of lf.ast.imports) {
        const path = resolveImportPath(name, imp.path);
        let target = loaded.get(path);
        if (!target) {
          let text: string | undefined;
          try {
            text = options.readFile?.(path);
          } catch {
            text = undefined;
          }
          if (text === undefined) {
            diagnostics.push(
              diagnostic(
                imp.span,
                DiagnosticCode.ImportNotFound,
                `cannot find '${imp.path}' (looked for '${path}'); import paths are relative to the importing file`,
              ),
            );
            continue;
          }
          target = load(path, text);
        }
        // A cycle of imports is harmless: each file is loaded once.
        lf.imports.push(target);
      }
      order.push(lf);
      return lf;
    };
    const main = load(options.fileName ?? 'input.idl', source);
    const program = check(order, main, diagnostics);
    return { program, diagnostics: sortDiagnostics(diagnostics) };
  } catch (e) {
    // A compiler bug must still not take the host down; report it like any error.
    const file = new SourceFile(options.fileName ?? 'input.idl', source);
    diagnostics.push(
      diagnostic(
        { file, start: 0, end: 0 },
        DiagnosticCode.Internal,
        `internal compiler error: ${e instanceof Error ? e.message : String(e)}; please report this with the input`,
      ),
    );
    return { program: null, diagnostics: sortDiagnostics(diagnostics) };
  }
}

/**
 * Compiles IDL source to TypeScript: the generated module for `source` itself (imported
 * files are compiled on their own; the output imports theirs). Reports every error.
 */
export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const { program, diagnostics } = checkSource(source, options);
  if (!program || diagnostics.length > 0) return { files: [], diagnostics };
  try {
    return { files: [generate(program, options)], diagnostics };
  } catch (e) {
    const file = program.main.file;
    return {
      files: [],
      diagnostics: [
        diagnostic(
          { file, start: 0, end: 0 },
          DiagnosticCode.Internal,
          `internal compiler error in code generation: ${e instanceof Error ? e.message : String(e)}; please report this with the input`,
        ),
      ],
    };
  }
}
