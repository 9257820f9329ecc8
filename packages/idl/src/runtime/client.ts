import {
  Errno,
  type KernelEntry,
  type ThreadEnv,
  tagHasError,
  tagItems,
  tagLabel,
  tagWords,
  type UserCode,
  type Utcb,
} from '@pecan/kernel';
import type { Codec } from './codec';
import { IdlError } from './errors';
import { Reader } from './reader';
import { ReceiveWindows } from './windows';
import { Writer } from './writer';

/** Shared by methods that raise nothing, so that a call allocates no list. */
const NO_RAISES: readonly Codec<Error>[] = [];

/** Options of a generated client. */
export interface ClientOptions {
  /** The window received fpages may land in (default: the whole address space). */
  readonly memoryWindow?: number;
}

/** The marshalling state of one client: reused for every call, so calls do not allocate. */
export class Stub {
  readonly writer: Writer;
  readonly reader: Reader;
  readonly windows: ReceiveWindows;

  constructor(
    private readonly env: ThreadEnv,
    options: ClientOptions = {},
  ) {
    this.writer = new Writer(env.utcb);
    this.reader = new Reader(env.utcb);
    this.windows = new ReceiveWindows(env, options.memoryWindow);
  }

  /**
   * Starts a request: the opcode goes in MR0, and the receive windows are armed for the
   * reply's typed items (`replyWindows`, e.g. `"c"`).
   */
  request(opcode: number, replyWindows: string): Writer {
    this.windows.arm(replyWindows);
    const w = this.writer.begin();
    w.word(opcode);
    return w;
  }

  /**
   * Checks the result tag of a call and starts reading the reply. An IPC failure or an
   * error label throws {@link IdlError}; a declared exception (label n > 0 is the n-th
   * entry of `raises`) is decoded and thrown.
   */
  reply(tag: number, raises: readonly Codec<Error>[] = NO_RAISES): Reader {
    if (tagHasError(tag)) {
      const code = this.env.utcb.error;
      this.windows.failed(code);
      throw new IdlError(-(2000 + code));
    }
    const r = this.reader.begin(tag);
    this.windows.landed(r.itemCount);
    const label = tagLabel(tag);
    if (label === 0) return r;
    if (label < 0) throw new IdlError(label, 'the server rejected the request');
    const codec = raises[label - 1];
    if (!codec)
      throw new IdlError(-Errno.EBADPROTO, `reply label ${label} is not an exception this method raises`);
    const e = codec.read(r);
    r.done();
    throw e;
  }

  /**
   * Starts a request whose values all sit at fixed positions (generated straight-line
   * code): arms the receive windows for the reply and returns the UTCB to write to.
   */
  begin(replyWindows: string): Utcb {
    this.windows.arm(replyWindows);
    return this.env.utcb;
  }

  /**
   * Checks the result tag of a call whose reply is `words` scalar words: returns when the
   * reply is exactly that, and otherwise throws as {@link Stub.reply} does (an IPC
   * failure, an error label, a declared exception, or a reply of the wrong length).
   */
  check(tag: number, words: number, raises: readonly Codec<Error>[] = NO_RAISES): void {
    // The common case, a plain success reply (label 0, no items, no flags), in one compare.
    if (tag === words) return;
    this.checkSlow(tag, words, raises);
  }

  private checkSlow(tag: number, words: number, raises: readonly Codec<Error>[]): void {
    const r = this.reply(tag, raises);
    if (tagWords(tag) < words)
      throw new IdlError(-Errno.EMSGTOOSHORT, `message ends after ${tagWords(tag)} words`);
    if (tagWords(tag) > words || tagItems(tag) > 0) {
      r.pos = words;
      r.done();
    }
  }

  /** Checks the result tag of a oneway send. */
  sent(tag: number): void {
    if (tagHasError(tag)) throw new IdlError(-(2000 + this.env.utcb.error));
  }
}

/**
 * Base class of generated clients: a capability to an object and the stub state.
 * Methods are generators: `const n = yield* file.read(0n, 64)` in a kernel thread.
 */
export class Client {
  /** The thread environment the calls are made from. */
  readonly env: ThreadEnv;
  /** The capability index of the object (an IPC gate). */
  readonly cap: number;
  protected readonly stub: Stub;

  constructor(env: ThreadEnv, cap: number, options: ClientOptions = {}) {
    this.env = env;
    this.cap = cap;
    this.stub = new Stub(env, options);
  }
}

/**
 * One scalar method's call, reused for every call of that method on its client: what a
 * generated scalar method returns instead of a fresh generator, so that a call
 * allocates nothing. The method writes the request into the UTCB and returns
 * `call(tag)`; `yield*` then takes two steps: the first yields the system call, the
 * second gives `reply(tag, utcb)`'s result. Consume it with `yield*` at once: the
 * next call of the same method on the same client starts it over.
 */
export class Call<R> {
  private phase = 0;
  private tag = 0;
  private readonly step: { value: unknown; done: boolean } = { value: undefined, done: false };
  private readonly env: ThreadEnv;
  private readonly cap: number;

  constructor(
    client: Client,
    /** Checks the reply's tag and reads the results from the UTCB (may throw). */
    private readonly reply: (tag: number, utcb: Utcb) => R,
  ) {
    this.env = client.env;
    this.cap = client.cap;
  }

  /** Starts the call with request tag `tag` (the MRs are already written). */
  call(tag: number): UserCode<R> {
    this.phase = 0;
    this.tag = tag;
    return this as unknown as UserCode<R>;
  }

  next(result: number): IteratorResult<KernelEntry, R> {
    const step = this.step;
    if (this.phase === 0) {
      this.phase = 1;
      step.value = this.env.call(this.cap, this.tag);
      step.done = false;
    } else {
      this.phase = 0;
      step.value = this.reply(result, this.env.utcb);
      step.done = true;
    }
    return step as IteratorResult<KernelEntry, R>;
  }

  return(value: R): IteratorResult<KernelEntry, R> {
    this.phase = 0;
    return { value, done: true };
  }

  throw(e: unknown): never {
    this.phase = 0;
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}
