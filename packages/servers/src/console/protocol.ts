/**
 * The client side of the console (`pecan.Console`, ../../idl/console.idl): write text,
 * and, for the program holding the console's input gate, read what is typed.
 */

import { IdlError } from '@pecan/idl/runtime';
import { Proto, type ThreadEnv, tagLabel, type UserCode } from '@pecan/kernel';
import { Console, ConsoleClient } from './console.idl';

/** The console protocol's label. */
export const CONSOLE_PROTOCOL = Console.protocol;
/** The most bytes one `write` or `read` carries (the IDL's bound). */
export const CONSOLE_MAX_BYTES = 480;

const encoder = new TextEncoder();

/** The negative code an IDL call failed with (−errno, or −(2000 + IPC error)). */
function failureCode(e: unknown): number {
  if (e instanceof IdlError) return e.code;
  throw e;
}

/**
 * Writes `text` to the console behind capability `cap`, in as many messages as it
 * takes. Returns 0, or the first error: −errno from the console, or −(2000 + IPC
 * error) when the call failed.
 */
export function* consoleWrite(env: ThreadEnv, cap: number, text: string): UserCode<number> {
  const bytes = encoder.encode(text);
  const console = new ConsoleClient(env, cap);
  for (let at = 0; at < bytes.length; at += CONSOLE_MAX_BYTES) {
    try {
      yield* console.write(bytes.subarray(at, at + CONSOLE_MAX_BYTES));
    } catch (e) {
      return failureCode(e);
    }
  }
  return 0;
}

/** Label the reader's Irq delivers with. */
const INPUT_IRQ_LABEL = 0x1c;

/**
 * Console input for the program that holds the console's input gate: an Irq of its
 * own that the console triggers when input arrives, and reads that wait for it.
 *
 * ```ts
 * const input = yield* ConsoleInput.open(env, yield* namedCap(env, 'input'));
 * if (typeof input === 'number') return; // −errno
 * const line = yield* input.readLine(); // waits for a whole line
 * ```
 */
export class ConsoleInput {
  private readonly console: ConsoleClient;
  private readonly pending: number[] = [];
  /** The last line ended with `\r`: a `\n` that follows it belongs to that ending. */
  private afterCr = false;
  private readonly decoder = new TextDecoder();

  private constructor(
    private readonly env: ThreadEnv,
    cap: number,
    private readonly irq: number,
  ) {
    this.console = new ConsoleClient(env, cap);
  }

  /**
   * Creates the Irq (from the task's factory), attaches the calling thread to it and
   * binds it with the console. Returns the reader, or a negative code when the Irq
   * cannot be made or the call fails. Throws `NotInput` when `cap` is a console gate
   * other than the input gate.
   */
  static *open(env: ThreadEnv, cap: number): UserCode<ConsoleInput | number> {
    const irq = env.caps.alloc();
    let err = yield* env.factory.createIrq(irq);
    if (err < 0) return err;
    err = yield* env.irq(irq).attach(INPUT_IRQ_LABEL);
    if (err < 0) return err;
    const input = new ConsoleInput(env, cap, irq);
    try {
      yield* input.console.bindInput(irq);
    } catch (e) {
      yield* env.task.release(irq);
      return failureCode(e);
    }
    return input;
  }

  /**
   * Up to `max` bytes of input, waiting until there is some. Throws `NotInput` when
   * the gate is not the console's input gate and IdlError when the console fails.
   */
  *read(max = CONSOLE_MAX_BYTES): UserCode<Uint8Array> {
    for (;;) {
      const got = yield* this.console.read(Math.min(max, CONSOLE_MAX_BYTES));
      if (got.length > 0) return got;
      // Nothing yet: sleep until the console triggers the Irq, then unmask it.
      const tag: number = yield this.env.receive(this.irq);
      if (tagLabel(tag) === Proto.IRQ) yield* this.env.irq(this.irq).unmask();
    }
  }

  /**
   * The next line of input, without its line ending (`\n`, `\r` or `\r\n`, even when
   * the `\r` and the `\n` arrive in different reads).
   */
  *readLine(): UserCode<string> {
    for (;;) {
      if (this.afterCr && this.pending.length > 0) {
        if (this.pending[0] === 0x0a) this.pending.shift();
        this.afterCr = false;
      }
      const end = this.pending.findIndex((b) => b === 0x0a || b === 0x0d);
      if (end >= 0) {
        const line = this.pending.splice(0, end + 1);
        this.afterCr = line[end] === 0x0d;
        return this.decoder.decode(Uint8Array.from(line.slice(0, end)));
      }
      for (const b of yield* this.read()) this.pending.push(b);
    }
  }
}
