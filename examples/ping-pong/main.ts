/**
 * `pnpm demo:ping-pong [--arch x86_64|aarch64] [--trace out.json]`: boots the ping-pong system
 * (sigma0, a console driver, a pager, a server and a client) on the chosen machine
 * (default x86_64) and prints what the UART transmits and a summary. With
 * `--trace`, writes a Chrome trace to open in Perfetto. The same system boots
 * unchanged on both back ends; only the cycle counts differ.
 */
import { writeFileSync } from 'node:fs';
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import { exportChromeTrace, type Platform, TraceRecorder } from '@pecan/kernel';
import { bootPingPong } from './system';

/** Each machine, with its UART's transmit line connected to `sink`. */
const machines: Record<string, (sink: (byte: number) => void) => Platform> = {
  x86_64: (sink) => createX86Platform({ onSerialOutput: sink }),
  aarch64: (sink) => createArmPlatform({ onSerialOutput: sink }),
};

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value || value.startsWith('--')) {
    console.error(`pnpm demo:ping-pong: ${name} needs a value`);
    process.exit(2);
  }
  return value;
}

const tracePath = option('--trace');
const arch = option('--arch') ?? 'x86_64';
const machine = machines[arch];
if (!machine) {
  console.error(
    `pnpm demo:ping-pong: unknown --arch ${arch}; choose one of ${Object.keys(machines).join(', ')}`,
  );
  process.exit(2);
}

// The UART's bytes, a line at a time, stamped with the virtual time the line ended.
let line: number[] = [];
let kernel: ReturnType<typeof bootPingPong> | null = null;
const platform = machine((byte) => {
  if (byte !== 0x0a) {
    line.push(byte);
    return;
  }
  const time = kernel ? kernel.now() * usPerCycle : 0;
  console.log(`[${time.toFixed(3).padStart(9)} µs] uart | ${Buffer.from(line).toString('utf8')}`);
  line = [];
});
const usPerCycle = 1e6 / platform.cpuHz;
console.log(`booting ping-pong on ${platform.name} (${platform.cpuHz / 1e6} MHz)\n`);
kernel = bootPingPong({
  platform,
  logSink: (e) =>
    console.log(`[${(e.time * usPerCycle).toFixed(3).padStart(9)} µs] log  | ${e.tag}: ${e.text}`),
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
