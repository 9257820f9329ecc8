import { Errno, type ThreadEnv, tagHasError, tagLabel } from '@pecan/kernel';
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
