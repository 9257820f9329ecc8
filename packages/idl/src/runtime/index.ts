/**
 * `@pecan/idl/runtime`: what generated stubs import. Small on purpose: marshalling
 * into message registers ({@link Writer}, {@link Reader}, {@link Codecs}), receive
 * windows for typed items, the client base class, the server loop, and the errors.
 *
 * @packageDocumentation
 */
export type { ThreadEnv, UserCode } from '@pecan/kernel';
export { msgtag, tagWords } from '@pecan/kernel';
export { Call, Client, type ClientOptions, Stub } from './client';
export { type Codec, Codecs } from './codec';
export { IdlError, IdlException } from './errors';
export type { Flexpage } from './flexpage';
export { Reader } from './reader';
export * from './scalars';
export {
  type CallContext,
  Dispatcher,
  type Handler,
  type Handlers,
  isUserCode,
  NO_REPLY,
  type Raisable,
  type Served,
  type ServeOptions,
  serve,
} from './server';
export { ReceiveWindows, WHOLE_SPACE_WINDOW } from './windows';
export { mrBytes, Writer } from './writer';
