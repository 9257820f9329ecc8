import type { Kernel } from '@pecan/kernel';
import { createTestPlatform, pingPong } from '@pecan/kernel/testing';

/**
 * The benchmark's workload: `n` call + replyAndWait round trips with `words` words each
 * way, between two tasks, every capability check on (see `pingPong` in
 * `@pecan/kernel/testing`).
 */
export function ipcPingPong(n: number, words = 0): { kernel: Kernel; run: () => void } {
  return pingPong(createTestPlatform(), n, words);
}
