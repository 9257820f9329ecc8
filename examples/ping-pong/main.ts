/**
 * `pnpm demo`: boots the ping-pong system and prints its console and a summary.
 */
import { createTestPlatform } from '@pecan/kernel/testing';
import { bootPingPong } from './system';

const platform = createTestPlatform();
const usPerCycle = 1e6 / platform.cpuHz;
const kernel = bootPingPong({
  platform,
  logSink: (e) =>
    console.log(`[${(e.time * usPerCycle).toFixed(3).padStart(9)} µs] ${e.tag.padEnd(7)}| ${e.text}`),
});
const result = kernel.run();
const threads = [...kernel.threads].map(
  (t) => `${t.name} (${t.deathReason ?? t.state}, ${t.cyclesUsed} cycles)`,
);
console.log('');
console.log(`stopped:      ${result.reason} — ${result.message}`);
console.log(
  `virtual time: ${result.time} cycles (${(result.time * usPerCycle).toFixed(3)} µs at ${platform.cpuHz / 1e6} MHz)`,
);
console.log(`IPC count:    ${result.ipcCount}`);
console.log(`threads:      ${threads.join(', ')}`);
process.exitCode = result.reason === 'idle' || result.reason === 'exited' ? 0 : 1;
