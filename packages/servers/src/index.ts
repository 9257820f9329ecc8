/**
 * `@pecan/servers`: user-level servers for Pecan systems: sigma0, a pager for
 * anonymous memory, and a console on the machine's UART. The root task, namespace
 * and file systems follow.
 *
 * @packageDocumentation
 */
export * from './blk';
export * from './console';
export * from './namespace';
export * from './pager';
export * from './root';
export * from './sigma0';
export * from './system';
