/**
 * `@pecan/devices`: architecture-neutral device models that the back ends place in
 * their machines.
 *
 * @packageDocumentation
 */
export * from './device';
export * from './machine-bus';
export * from './pl011';
export * from './pl031';
export * from './rtc-cmos';
export type { SerialHost, SerialHostOptions, SerialInput } from './serial-host';
export * from './uart-16550';
export * from './virtio';
