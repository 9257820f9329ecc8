/**
 * Build plugins that let TypeScript import `.idl` files directly: the module a `.idl`
 * import gets is the generated stub code. Compile errors fail the build with the
 * compiler's diagnostics.
 *
 * @packageDocumentation
 */
export { type EsbuildPluginLike, idlEsbuildPlugin } from './esbuild';
export { idlVitePlugin, type VitePluginLike } from './vite';
