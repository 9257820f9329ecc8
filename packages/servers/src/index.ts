/**
 * `@pecan/servers`: user-level servers for Pecan systems. This issue brings sigma0;
 * the root task, namespace, console and drivers follow.
 *
 * @packageDocumentation
 */
export * from './sigma0';
