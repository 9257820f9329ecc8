/**
 * Helpers for back ends that carry a thread's register file in exception IPC, after
 * their fixed words (see `ExceptionState.gprs`).
 */
import type { WordSink, WordSource } from './platform';

/** Writes `gprs` to words `first…` of `out`; returns the frame's length in words. */
export function writeRegisterFile(gprs: Float64Array, out: WordSink, first: number): number {
  for (let i = 0; i < gprs.length; i++) out.setWord(first + i, gprs[i]!);
  return first + gprs.length;
}

/** Reads `gprs` back from words `first…` of a reply. */
export function readRegisterFile(gprs: Float64Array, reply: WordSource, first: number): void {
  for (let i = 0; i < gprs.length; i++) gprs[i] = reply.word(first + i);
}
