/**
 * `pnpm bench:ipc [--json]`: the null-IPC benchmark of brief §9, every figure measured
 * in this one process so that ratios survive a noisy machine.
 *
 * kernel_ipc_roundtrip_ns is a call plus replyAndWait between two tasks through an
 * IPC gate with every capability check on; the baselines are the same ping-pong on
 * bare generators, async/await, EventEmitter, MessageChannel and a worker.
 */
import {
  asyncAwaitNs,
  eventEmitterNs,
  generatorFloorNs,
  measureSync,
  messageChannelNs,
  workerPostMessageNs,
} from './baselines';
import { ipcPingPong } from './kernel-ipc';

const ROUND_TRIPS = 200_000;

/** Median ns per kernel round trip carrying `words` words each way. */
function kernelNs(words: number): number {
  return measureSync(ROUND_TRIPS, (n) => {
    const system = ipcPingPong(n, words);
    system.run();
    if (system.kernel.ipcCount !== 2 * n)
      throw new Error(`expected ${2 * n} IPCs, saw ${system.kernel.ipcCount}`);
  });
}

/**
 * Brings the kernel's hot paths to their steady-state compilation before anything is
 * timed. Without it the first figures depend on which message lengths V8 happened to
 * see first (a never-taken copy branch is compiled as a deoptimization point, and the
 * re-optimized code is faster), and vary by almost 2x from run to run.
 */
function warmUp(): void {
  for (let i = 0; i < 3; i++) {
    for (const words of [0, 8, 1, 63]) {
      const system = ipcPingPong(50_000, words);
      system.run();
    }
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  warmUp();
  // Interleave the two most important figures so drift hits both alike.
  const floorA = generatorFloorNs();
  const kernelA = kernelNs(0);
  const floorB = generatorFloorNs();
  const kernelB = kernelNs(0);
  const result = {
    kernel_ipc_roundtrip_ns: Math.min(kernelA, kernelB),
    generator_floor_ns: Math.min(floorA, floorB),
    async_await_ns: await asyncAwaitNs(),
    eventemitter_ns: eventEmitterNs(),
    messagechannel_ns: await messageChannelNs(),
    worker_postmessage_ns: await workerPostMessageNs(),
    kernel_ipc_8words_ns: kernelNs(8),
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const k = result.kernel_ipc_roundtrip_ns;
  const rows: [string, number, string][] = [
    ['kernel IPC round trip (null)', k, ''],
    ['kernel IPC round trip (8 words)', result.kernel_ipc_8words_ns, ''],
    [
      'generator floor',
      result.generator_floor_ns,
      `kernel/floor = ${(k / result.generator_floor_ns).toFixed(2)} (target ≤ 2.0)`,
    ],
    [
      'async/await',
      result.async_await_ns,
      `async/kernel = ${(result.async_await_ns / k).toFixed(2)} (target > 1)`,
    ],
    ['EventEmitter', result.eventemitter_ns, ''],
    [
      'MessageChannel',
      result.messagechannel_ns,
      `MessageChannel/kernel = ${(result.messagechannel_ns / k).toFixed(0)} (target ≥ 100)`,
    ],
    ['worker postMessage', result.worker_postmessage_ns, ''],
  ];
  for (const [name, ns, note] of rows)
    console.log(`${name.padEnd(34)} ${ns.toFixed(1).padStart(10)} ns  ${note}`);
}

await main();
