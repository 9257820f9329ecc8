/**
 * `@pecan/idl`: the Pecan IDL compiler. `compile()` turns interface definitions into
 * typed TypeScript stubs; the runtime those stubs import is `@pecan/idl/runtime`.
 *
 * @packageDocumentation
 */
export type * from './ast';
export { BUILTIN_TYPE_NAMES, SCALAR_TYPES } from './ast';
export { DEFAULT_CAP_RIGHTS } from './checker';
export {
  type CompileOptions,
  type CompileResult,
  checkSource,
  compile,
  type OutputFile,
  outputPath,
  resolveImportPath,
} from './compile';
export {
  type Diagnostic,
  DiagnosticCode,
  formatDiagnostic,
  formatDiagnostics,
} from './diagnostics';
export { ITEM_WORDS, MAX_BOUND, MESSAGE_REGISTERS, type Size, sizeOf } from './layout';
export type * from './model';
export { parse } from './parser';
export { derivedProtocol, fnv1a32, MAX_PROTOCOL } from './protocol';
export { SourceFile } from './source';
