/**
 * Test helpers for the register-level device models: an {@link IrqLine} that records
 * every level it is driven to, and a settable clock.
 */
import type { IrqLine } from '../src/index';

/** An interrupt line that records each `set` call, in order. */
export class RecordingIrq implements IrqLine {
  /** Every level the device drove, oldest first. */
  readonly calls: boolean[] = [];
  /** The current level. */
  level = false;

  set(level: boolean): void {
    this.calls.push(level);
    this.level = level;
  }

  /** Returns the levels recorded since the last call and forgets them. */
  take(): boolean[] {
    return this.calls.splice(0);
  }
}

/** A deterministic clock in milliseconds since the Unix epoch. */
export class TestClock {
  constructor(public ms: number) {}

  readonly now = (): number => this.ms;

  advance(ms: number): void {
    this.ms += ms;
  }
}
