/**
 * `@pecan/devices`: architecture-neutral device models that the back ends place in
 * their machines.
 *
 * @packageDocumentation
 */
export * from './device';
