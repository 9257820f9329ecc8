/**
 * The host end of the machine's console UART for `pecan run`: where its output goes
 * (`machine.console.sink`) and where its input comes from (`machine.console.source`).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SerialHost } from '@pecan/devices';
import type { ConsoleDescription } from '@pecan/servers';

/**
 * The UART's output, cut into lines and decoded as UTF-8, on its way to the sink. A
 * line is passed on whole, so a status line can be cleared before it.
 */
export class ConsoleOutput {
  private line: number[] = [];
  private readonly decoder = new TextDecoder();
  /** The sink file's descriptor, opened (and so checked) up front. */
  private file: number | null = null;

  constructor(
    sink: ConsoleDescription['sink'],
    /** The description's folder, which a sink file's path is relative to. */
    base: string,
    private readonly write: (text: string) => void,
  ) {
    if (typeof sink === 'object') this.file = openSync(resolve(base, sink.file), 'w');
    else if (sink === 'none') this.write = () => {};
  }

  /** Takes one byte the UART transmitted. */
  readonly byte = (b: number): void => {
    if (b !== 0x0a) {
      this.line.push(b);
      return;
    }
    this.emit(`${this.decoder.decode(Uint8Array.from(this.line))}\n`);
    this.line = [];
  };

  /** Passes on a last line without its newline, and closes a sink file. */
  close(): void {
    if (this.line.length > 0) this.emit(`${this.decoder.decode(Uint8Array.from(this.line))}\n`);
    this.line = [];
    if (this.file !== null) closeSync(this.file);
    this.file = null;
  }

  private emit(text: string): void {
    if (this.file !== null) writeSync(this.file, text);
    else this.write(text);
  }
}

/**
 * Input for the UART's receiver. Scripted input (a file or text) is handed over only
 * when the system has nothing left to do, as much as the receiver takes, so the run
 * stays deterministic; standard input also arrives at the run's time slices.
 */
export class ConsoleInputFeed {
  private queue: number[] = [];
  private waiting: Promise<void> | null = null;
  private ended = true;
  /** Whether input comes as it is typed (from standard input). */
  readonly live: boolean;

  constructor(
    source: ConsoleDescription['source'],
    cwd: string,
    private readonly uart: SerialHost,
    stdin?: AsyncIterable<Uint8Array | string>,
  ) {
    this.live = source === 'stdin' && stdin !== undefined;
    if (typeof source === 'object') {
      const bytes =
        'text' in source ? new TextEncoder().encode(source.text) : readFileSync(resolve(cwd, source.file));
      this.queue = [...bytes];
    } else if (this.live && stdin) {
      this.ended = false;
      this.pump(stdin);
    }
  }

  private reader: AsyncIterator<Uint8Array | string> | null = null;

  private pump(stdin: AsyncIterable<Uint8Array | string>): void {
    let wake: () => void = () => {};
    this.waiting = new Promise<void>((r) => {
      wake = r;
    });
    const reader = stdin[Symbol.asyncIterator]();
    this.reader = reader;
    void (async () => {
      const encoder = new TextEncoder();
      try {
        for (;;) {
          const next = await reader.next();
          if (next.done) break;
          const chunk = next.value;
          for (const b of typeof chunk === 'string' ? encoder.encode(chunk) : chunk) this.queue.push(b);
          wake();
          this.waiting = new Promise<void>((r) => {
            wake = r;
          });
        }
      } catch {
        // A failing standard input ends the input, as end of file does.
      } finally {
        this.ended = true;
        wake();
      }
    })();
  }

  /**
   * Stops reading standard input (the run is over), so the process can exit: a Node
   * stream's iterator destroys the stream. Not awaited: a source stuck in a read of
   * its own finishes when it finishes.
   */
  close(): void {
    const reader = this.reader;
    this.reader = null;
    void reader?.return?.().catch(() => {});
  }

  /** Whether input may still come: queued, or from a source that is still open. */
  get open(): boolean {
    return this.queue.length > 0 || !this.ended;
  }

  /**
   * Hands the receiver what it has room for; returns how many bytes it took. A full
   * receiver in a system with nothing to do will never drain, so callers stop then.
   */
  deliver(): number {
    const n = Math.min(this.queue.length, this.uart.rxFree);
    if (n > 0) this.uart.receive(this.queue.splice(0, n));
    return n;
  }

  /** Resolves when standard input brings more (or ends). */
  async more(): Promise<void> {
    if (this.queue.length === 0 && this.waiting) await this.waiting;
  }
}
