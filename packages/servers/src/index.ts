/**
 * `@pecan/servers`: user-level servers for Pecan systems: sigma0, a pager for
 * anonymous memory, the root task that boots system descriptions, the namespace, the
 * console on the machine's UART, and a virtio-blk driver.
 *
 * @packageDocumentation
 */
export * from './blk';
export * from './console';
export * from './namespace';
export * from './pager';
export * from './root';
export * from './rtc';
export * from './sigma0';
export * from './system';
