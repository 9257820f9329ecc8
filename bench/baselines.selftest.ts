/**
 * Self-check for the IPC baselines: runs all five and prints their medians as one JSON object, so a reviewer
 * can eyeball them against the expected ballpark without starting the full benchmark.
 *
 * Run with `node_modules/.bin/tsx bench/baselines.selftest.ts`.
 *
 * @packageDocumentation
 */

import {
  asyncAwaitNs,
  eventEmitterNs,
  generatorFloorNs,
  messageChannelNs,
  workerPostMessageNs,
} from './baselines';

// Sequential on purpose: running the baselines concurrently would have them compete for the same two cores
// and event loop, inflating every number.
const results = {
  generator_floor_ns: generatorFloorNs(),
  async_await_ns: await asyncAwaitNs(),
  eventemitter_ns: eventEmitterNs(),
  messagechannel_ns: await messageChannelNs(),
  worker_postmessage_ns: await workerPostMessageNs(),
};

const rounded = Object.fromEntries(
  Object.entries(results).map(([key, ns]) => [key, Math.round(ns * 10) / 10]),
);
console.log(JSON.stringify(rounded, null, 2));
