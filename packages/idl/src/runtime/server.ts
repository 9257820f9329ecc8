import {
  Errno,
  msgtag,
  type SYSCALL,
  type ThreadEnv,
  tagHasError,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import type { Codec } from './codec';
import { IdlError } from './errors';
import { Reader } from './reader';
import { ReceiveWindows } from './windows';
import { Writer } from './writer';

/** What a server method may return: the value, or a generator (for methods that make IPC themselves). */
export type Served<T> = T | UserCode<T>;

/** Passed to every server method: which object the request came through. */
export interface CallContext {
  readonly env: ThreadEnv;
  /**
   * The label of the IPC gate the request came through (its creator's choice, two low
   * bits clear), so that one server thread can serve many objects.
   */
  readonly label: number;
  /** The sender's W and S rights on that gate (`CapRights.W`, `CapRights.S`). */
  readonly rights: number;
}

/** An exception a method may raise: its class and its codec. */
export interface Raisable {
  readonly type: abstract new (...args: never[]) => Error;
  readonly codec: Codec<Error>;
}

/** How the dispatcher handles one method. Generated; one per opcode. */
export interface Handler<S> {
  /** Decodes the request after MR0, calls `r.done()`, and calls the implementation. */
  readonly call: (impl: S, r: Reader, ctx: CallContext) => unknown;
  /** Writes the reply for what the implementation returned; null for oneway methods. */
  readonly reply: ((w: Writer, value: never) => void) | null;
  /** The declared exceptions, in `raises` order: the n-th replies with label n + 1. */
  readonly raises: readonly Raisable[];
}

/** The handlers of an interface and its bases: protocol → handlers by opcode. */
export type Handlers<S> = ReadonlyMap<number, readonly Handler<S>[]>;

/** Options of a server loop. */
export interface ServeOptions {
  /** The window received fpages land in (default: the whole address space). */
  readonly memoryWindow?: number;
  /**
   * Called with what went wrong when a request could not be served normally: a
   * malformed request (IdlError), an implementation that threw something undeclared,
   * or a failed IPC. The loop carries on either way.
   */
  readonly onError?: (error: unknown) => void;
}

/** Returned by {@link Dispatcher.dispatch} for a oneway request: nothing to reply. */
export const NO_REPLY = -1;
/** Returned by {@link Dispatcher.start} when {@link Dispatcher.finish} must run. */
export const PENDING = -2;

/** True when a server method returned a generator (it makes IPC itself) rather than its results. */
export function isUserCode<T>(v: Served<T>): v is UserCode<T> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { next?: unknown }).next === 'function' &&
    typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
  );
}

function errorReply(code: number): number {
  return msgtag(code, 0);
}

/** The state of one server loop: reused for every request. */
export class Dispatcher<S> {
  readonly reader: Reader;
  readonly writer: Writer;
  readonly windows: ReceiveWindows;
  private readonly ctx: { env: ThreadEnv; label: number; rights: number };
  private handler: Handler<S> | undefined;
  /** The method {@link Dispatcher.accept} took, as protocol and opcode; -1 when none. */
  private acceptedProtocol = -1;
  private acceptedOpcode = -1;
  private pending: UserCode<unknown> | null = null;
  private rejection = 0;

  constructor(
    readonly env: ThreadEnv,
    readonly impl: S,
    readonly handlers: Handlers<S>,
    /** Receive-window kinds for any request to the interface (`"cf"`). */
    readonly requestWindows: string,
    readonly options: ServeOptions = {},
  ) {
    this.reader = new Reader(env.utcb);
    this.writer = new Writer(env.utcb);
    this.windows = new ReceiveWindows(env, options.memoryWindow);
    this.ctx = { env, label: 0, rights: 0 };
  }

  /** Arms the receive windows and returns the open wait to `yield`: the first receive. */
  wait(): typeof SYSCALL {
    this.arm();
    return this.env.wait();
  }

  /**
   * Arms the receive windows and returns the system call to `yield` after a request:
   * reply with `reply` and wait, or only wait after a oneway request ({@link NO_REPLY}).
   * A failed reply (the caller is gone, or sent without waiting) fails the whole
   * replyAndWait before its wait phase; the error result then leads to a plain wait.
   */
  next(reply: number): typeof SYSCALL {
    this.arm();
    return reply === NO_REPLY ? this.env.wait() : this.env.replyAndWait(reply);
  }

  /**
   * For generated fast paths: the opcode (MR0) of `tag`'s request when it is a plain
   * request to `protocol` (no IPC error, no typed items, at least one word), else -1.
   * The generated code still checks the word count and every value; anything it does
   * not take goes to {@link Dispatcher.dispatch}.
   */
  opcode(tag: number, protocol: number): number {
    if ((tag & 0x8fc0) !== 0 || (tag & 0x3f) === 0 || tag - (tag & 0xffff) !== protocol * 0x10000) return -1;
    return this.env.utcb.mr(0);
  }

  /**
   * For generated fast paths: records that the request (method `opcode` of `protocol`)
   * was decoded completely, so that what the implementation throws is mapped to a
   * reply with {@link Dispatcher.failure}, and returns the call context.
   */
  accept(protocol: number, opcode: number): CallContext {
    const label = this.env.label;
    const ctx = this.ctx;
    ctx.rights = label & 3;
    ctx.label = label - ctx.rights;
    this.handler = undefined;
    this.acceptedProtocol = protocol;
    this.acceptedOpcode = opcode;
    this.reader.decoded = true;
    return ctx;
  }

  /**
   * For generated fast paths: the reply for `e`, thrown by the implementation of the
   * accepted method or while writing its reply (a declared exception, or −EIO).
   */
  failure(e: unknown): number {
    if (this.handler === undefined && this.acceptedProtocol >= 0)
      this.handler = this.handlers.get(this.acceptedProtocol)?.[this.acceptedOpcode];
    return this.failed(e);
  }

  /** Arms the receive windows; call before every receive. */
  arm(): void {
    this.windows.arm(this.requestWindows);
  }

  /**
   * Serves the request that `tag` (the result of a receive) describes and returns the
   * reply tag, or {@link NO_REPLY} for a oneway method. Never throws: a malformed or
   * unknown request gets an error label (−EBADPROTO, −ENOSYS, −EINVAL, −EMSGTOOSHORT,
   * −EMSGTOOLONG), an undeclared exception −EIO.
   */
  *dispatch(tag: number): UserCode<number> {
    const reply = this.start(tag);
    return reply === PENDING ? yield* this.finish() : reply;
  }

  /**
   * The part of {@link Dispatcher.dispatch} that needs no system call, which is all of
   * it for an implementation that returns plain values: the server loop then runs
   * without a generator per request. Returns {@link PENDING} when the implementation
   * returned a generator, or when a rejected request brought capabilities to drop.
   */
  start(tag: number): number {
    const { env, reader: r, windows } = this;
    if (tagHasError(tag)) {
      const code = env.utcb.error;
      windows.failed(code);
      this.report(new IdlError(-(2000 + code), 'receive failed'));
      return NO_REPLY;
    }
    const label = env.label;
    this.ctx.rights = label & 3;
    this.ctx.label = label - this.ctx.rights;
    r.begin(tag);
    windows.landed(r.itemCount);
    this.handler = undefined;
    this.acceptedProtocol = -1;
    try {
      const table = this.handlers.get(tagLabel(tag));
      if (!table) throw new IdlError(-Errno.EBADPROTO, `no interface here has protocol ${tagLabel(tag)}`);
      const op = r.word();
      const handler = table[op];
      if (!handler) throw new IdlError(-Errno.ENOSYS, `no method has opcode ${op}`);
      this.handler = handler;
      const value = handler.call(this.impl, r, this.ctx);
      if (isUserCode(value)) {
        this.pending = value;
        return PENDING;
      }
      return this.replyWith(handler, value);
    } catch (e) {
      return this.failed(e);
    }
  }

  /** Finishes what {@link Dispatcher.start} left {@link PENDING}. */
  *finish(): UserCode<number> {
    const pending = this.pending;
    this.pending = null;
    if (pending === null) {
      // A rejected request: drop the capabilities it brought, then answer it.
      yield* this.windows.release(this.reader.itemCount);
      return this.rejection;
    }
    try {
      const value = yield* pending;
      return this.replyWith(this.handler!, value);
    } catch (e) {
      const reply = this.failed(e);
      return reply === PENDING ? yield* this.finish() : reply;
    }
  }

  private replyWith(handler: Handler<S>, value: unknown): number {
    if (handler.reply === null) return NO_REPLY;
    const w = this.writer.begin();
    handler.reply(w, value as never);
    return w.finish(0);
  }

  /** The reply for an exception thrown while decoding, in the implementation, or while replying. */
  private failed(e: unknown): number {
    if (!this.reader.decoded) {
      this.report(e);
      this.rejection = errorReply(e instanceof IdlError ? e.code : -Errno.EINVAL);
      return this.reader.itemCount > 0 ? PENDING : this.rejection;
    }
    const raises = this.handler?.raises ?? [];
    for (let i = 0; i < raises.length; i++) {
      const x = raises[i]!;
      if (!(e instanceof x.type)) continue;
      try {
        const w = this.writer.begin();
        x.codec.write(w, e);
        return w.finish(i + 1);
      } catch (inner) {
        this.report(inner);
        return errorReply(-Errno.EIO);
      }
    }
    this.report(e);
    return errorReply(-Errno.EIO);
  }

  private report(e: unknown): void {
    try {
      this.options.onError?.(e);
    } catch {
      // A failing error hook must not stop the server either.
    }
  }
}

/**
 * The server loop: wait for a request, dispatch it, reply and wait for the next one in
 * one system call. Runs forever and never throws.
 */
export function* serve<S>(
  env: ThreadEnv,
  impl: S,
  handlers: Handlers<S>,
  requestWindows: string,
  options: ServeOptions = {},
): UserCode<never> {
  const d = new Dispatcher(env, impl, handlers, requestWindows, options);
  let tag: number = yield d.wait();
  for (;;) {
    let reply = d.start(tag);
    if (reply === PENDING) reply = yield* d.finish();
    tag = yield d.next(reply);
  }
}
