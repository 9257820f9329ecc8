/**
 * `@pecan/servers`: user-level servers for Pecan systems: sigma0 and a pager for
 * anonymous memory. The root task, namespace, console and drivers follow.
 *
 * @packageDocumentation
 */
export * from './pager';
export * from './sigma0';
