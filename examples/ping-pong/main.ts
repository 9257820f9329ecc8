/**
 * `pnpm demo [--trace out.json]`: boots the ping-pong system and prints its console
 * and a summary. With `--trace`, writes a Chrome trace to open in Perfetto.
 */
import { writeFileSync } from 'node:fs';
import { exportChromeTrace, TraceRecorder } from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';
import { bootPingPong } from './system';

const traceAt = process.argv.indexOf('--trace');
const tracePath = traceAt >= 0 ? process.argv[traceAt + 1] : undefined;
if (traceAt >= 0 && !tracePath) {
  console.error('pnpm demo: --trace needs a file name, e.g. --trace trace.json');
  process.exit(2);
}

const platform = createTestPlatform();
const usPerCycle = 1e6 / platform.cpuHz;
const kernel = bootPingPong({
  platform,
  logSink: (e) =>
    console.log(`[${(e.time * usPerCycle).toFixed(3).padStart(9)} µs] ${e.tag.padEnd(7)}| ${e.text}`),
});
const recorder = tracePath ? new TraceRecorder(kernel) : null;
const result = kernel.run();
if (recorder && tracePath) {
  writeFileSync(tracePath, exportChromeTrace(recorder.finish()));
  console.log(`trace written to ${tracePath} (open it at https://ui.perfetto.dev)`);
}
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
