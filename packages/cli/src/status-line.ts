/**
 * The live status line of `pecan run` on a terminal: virtual time, IPCs and page
 * faults, redrawn in place on standard output a few times a second once a run has
 * taken a moment. Console lines are printed above it (it is cleared first), and it
 * goes away at the end. When standard output is not a terminal it is never drawn.
 */
import type { RunResult } from '@pecan/kernel';
import type { RunIo } from './run';

/** Wall-clock milliseconds before the line first appears, and between redraws. */
const FIRST_DRAW_MS = 250;
const REDRAW_MS = 100;
const CLEAR = '\r\x1b[K';

export class StatusLine {
  private shown = false;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly started: number;

  constructor(private readonly io: RunIo) {
    this.now = io.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Prints console or log text, above the status line. */
  print(text: string): void {
    this.clear();
    this.io.stdout(text);
  }

  /** Redraws the line for `r`, when it is due. */
  update(r: RunResult, pageFaults: number, cpuHz: number): void {
    if (this.io.isTty !== true) return;
    const t = this.now();
    if (t - this.started < FIRST_DRAW_MS || t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    const ms = ((r.time * 1000) / cpuHz).toFixed(3);
    this.io.stdout(
      `${CLEAR}\x1b[2m[pecan] virtual ${ms} ms · ${r.ipcCount} IPCs · ${pageFaults} page faults\x1b[0m`,
    );
    this.shown = true;
  }

  /** Removes the line, if it is there. */
  clear(): void {
    if (!this.shown) return;
    this.io.stdout(CLEAR);
    this.shown = false;
  }
}
