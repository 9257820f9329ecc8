/**
 * The console protocol: a client sends text to a console server, which writes it to
 * its device. Label {@link CONSOLE_PROTOCOL}; MR0 the number of bytes `n`; MR1… the
 * UTF-8 bytes, six per word, little-endian (six keep every word an exact number).
 * The reply has label 0, or −errno (EINVAL for a malformed message).
 */
import { msgtag, type ThreadEnv, tagLabel, type UserCode } from '@pecan/kernel';

/** The console protocol's label. */
export const CONSOLE_PROTOCOL = 0x434f;
/** Bytes per message register. */
export const CONSOLE_BYTES_PER_WORD = 6;
/** The most bytes one message carries (62 words after the count). */
export const CONSOLE_MAX_BYTES = 62 * CONSOLE_BYTES_PER_WORD;

const encoder = new TextEncoder();

/**
 * Writes `text` to the console behind capability `cap`, in as many messages as it
 * takes. Returns 0, or the first error (−errno, or an IPC error as `env.error` gives it).
 */
export function* consoleWrite(env: ThreadEnv, cap: number, text: string): UserCode<number> {
  const bytes = encoder.encode(text);
  const u = env.utcb;
  for (let at = 0; at < bytes.length || (at === 0 && bytes.length === 0); at += CONSOLE_MAX_BYTES) {
    const n = Math.min(CONSOLE_MAX_BYTES, bytes.length - at);
    u.setMr(0, n);
    const words = Math.ceil(n / CONSOLE_BYTES_PER_WORD);
    for (let w = 0; w < words; w++) {
      let v = 0;
      for (let b = CONSOLE_BYTES_PER_WORD - 1; b >= 0; b--)
        v = v * 256 + (bytes[at + w * CONSOLE_BYTES_PER_WORD + b] ?? 0);
      u.setMr(1 + w, v);
    }
    const tag: number = yield env.call(cap, msgtag(CONSOLE_PROTOCOL, 1 + words));
    const err = env.error(tag);
    if (err < 0) return err;
    if (tagLabel(tag) < 0) return tagLabel(tag);
    if (n === 0) break;
  }
  return 0;
}

/** Unpacks the bytes of a console message in `env`'s MRs; null when it is malformed. */
export function consoleBytes(env: ThreadEnv, words: number): Uint8Array | null {
  const u = env.utcb;
  const n = u.mr(0);
  if (!Number.isSafeInteger(n) || n < 0 || n > CONSOLE_MAX_BYTES) return null;
  if (1 + Math.ceil(n / CONSOLE_BYTES_PER_WORD) > words) return null;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const w = u.mr(1 + Math.floor(i / CONSOLE_BYTES_PER_WORD));
    out[i] = Math.floor(w / 256 ** (i % CONSOLE_BYTES_PER_WORD)) % 256;
  }
  return out;
}
