/**
 * `pnpm demo [--arch x86_64|aarch64] [--trace out.json]`: boots the ping-pong system
 * (sigma0, a pager, a server and a client) on the chosen machine (default x86_64) and
 * prints its console and a summary. With
 * `--trace`, writes a Chrome trace to open in Perfetto. The same system boots
 * unchanged on both back ends; only the cycle counts differ.
 */
import { writeFileSync } from 'node:fs';
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import { exportChromeTrace, type Platform, TraceRecorder } from '@pecan/kernel';
import { bootPingPong } from './system';

const machines: Record<string, () => Platform> = {
  x86_64: () => createX86Platform(),
  aarch64: () => createArmPlatform(),
};

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value || value.startsWith('--')) {
    console.error(`pnpm demo: ${name} needs a value`);
    process.exit(2);
  }
  return value;
}

const tracePath = option('--trace');
const arch = option('--arch') ?? 'x86_64';
const machine = machines[arch];
if (!machine) {
  console.error(`pnpm demo: unknown --arch ${arch}; choose one of ${Object.keys(machines).join(', ')}`);
  process.exit(2);
}

const platform = machine();
console.log(`booting ping-pong on ${platform.name} (${platform.cpuHz / 1e6} MHz)\n`);
const usPerCycle = 1e6 / platform.cpuHz;
const kernel = bootPingPong({
  platform,
  logSink: (e) =>
    console.log(`[${(e.time * usPerCycle).toFixed(3).padStart(9)} µs] ${e.tag.padEnd(7)}| ${e.text}`),
});
const recorder = tracePath ? new TraceRecorder(kernel) : null;
let pageFaults = 0;
kernel.events.on('ipc', (e) => {
  if (e.kind === 'page-fault') pageFaults++;
});
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
console.log(`page faults:  ${pageFaults} (each sent to the pager, which mapped a frame from sigma0)`);
console.log(`threads:      ${threads.join(', ')}`);
process.exitCode = result.reason === 'idle' || result.reason === 'exited' ? 0 : 1;
