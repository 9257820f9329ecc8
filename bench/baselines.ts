/**
 * Baseline measurements for the IPC benchmark.
 *
 * The kernel's synchronous IPC is only meaningful next to what the host runtime can do without it, so every
 * baseline here performs the same workload (a number sent to a peer, incremented, sent back) over a different
 * transport. All results are the median nanoseconds per round trip: the median rather than the mean because
 * GC pauses and JIT tier-ups produce rare, large outliers that say nothing about steady-state IPC cost.
 *
 * @packageDocumentation
 */

import { MessageChannel, Worker } from 'node:worker_threads';
import { EventEmitter } from 'eventemitter3';

/** Tuning knobs shared by {@link measureSync} and {@link measureAsync}. */
export interface MeasureOptions {
  /** Timed samples whose median is reported. Defaults to 15. */
  samples?: number;
  /** Untimed samples run first so the JIT has optimised the hot path before timing starts. Defaults to 3. */
  warmupSamples?: number;
}

const DEFAULT_SAMPLES = 15;
const DEFAULT_WARMUP_SAMPLES = 3;

// Round trips per sample, chosen so one sample takes roughly 5-50 ms on a slow 2-core machine: long enough
// that the hrtime calls and per-sample setup vanish into the noise, short enough that all baselines together
// finish in a couple of seconds.
const GENERATOR_ROUND_TRIPS = 200_000;
const ASYNC_AWAIT_ROUND_TRIPS = 50_000;
const EVENT_EMITTER_ROUND_TRIPS = 200_000;
const MESSAGE_CHANNEL_ROUND_TRIPS = 2_000;
const WORKER_ROUND_TRIPS = 1_000;

// A lost message would otherwise leave an open port or a live worker waiting forever; far above any sane
// sample time, so it only fires when something is actually broken.
const TRANSPORT_TIMEOUT_MS = 20_000;

function resolveOptions(roundTripsPerSample: number, opts: MeasureOptions): Required<MeasureOptions> {
  const samples = opts.samples ?? DEFAULT_SAMPLES;
  const warmupSamples = opts.warmupSamples ?? DEFAULT_WARMUP_SAMPLES;
  if (!Number.isSafeInteger(roundTripsPerSample) || roundTripsPerSample < 1) {
    throw new RangeError(`roundTripsPerSample must be a positive integer, got ${roundTripsPerSample}`);
  }
  if (!Number.isSafeInteger(samples) || samples < 1) {
    throw new RangeError(`samples must be a positive integer, got ${samples}`);
  }
  if (!Number.isSafeInteger(warmupSamples) || warmupSamples < 0) {
    throw new RangeError(`warmupSamples must be a non-negative integer, got ${warmupSamples}`);
  }
  return { samples, warmupSamples };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  // resolveOptions guarantees at least one sample, so both indices are in range.
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Times a synchronous round-trip workload and returns the median nanoseconds per round trip.
 *
 * @param roundTripsPerSample - how many round trips each call to `run` performs; pick it so a sample takes
 *   roughly 5-50 ms, otherwise timer resolution (too short) or GC (too long) dominates the sample.
 * @param run - performs exactly `n` round trips. It is called with the same `n` for warmup and timed samples,
 *   so any per-call setup it does is amortised over `n` and should be kept small.
 * @param opts - sample counts; see {@link MeasureOptions}.
 * @returns median over the timed samples of (sample duration / `roundTripsPerSample`), in nanoseconds.
 */
export function measureSync(
  roundTripsPerSample: number,
  run: (n: number) => void,
  opts: MeasureOptions = {},
): number {
  const { samples, warmupSamples } = resolveOptions(roundTripsPerSample, opts);
  for (let i = 0; i < warmupSamples; i++) run(roundTripsPerSample);
  const perRoundTrip: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    run(roundTripsPerSample);
    const elapsed = process.hrtime.bigint() - start;
    perRoundTrip.push(Number(elapsed) / roundTripsPerSample);
  }
  return median(perRoundTrip);
}

/**
 * Asynchronous counterpart of {@link measureSync}: each sample is timed from the call to `run` until its
 * promise settles, so the event-loop turns the transport needs are included in the cost.
 *
 * @param roundTripsPerSample - how many round trips each call to `run` performs.
 * @param run - performs exactly `n` round trips and resolves when the last reply has arrived.
 * @param opts - sample counts; see {@link MeasureOptions}.
 * @returns median nanoseconds per round trip over the timed samples.
 */
export async function measureAsync(
  roundTripsPerSample: number,
  run: (n: number) => Promise<void>,
  opts: MeasureOptions = {},
): Promise<number> {
  const { samples, warmupSamples } = resolveOptions(roundTripsPerSample, opts);
  for (let i = 0; i < warmupSamples; i++) await run(roundTripsPerSample);
  const perRoundTrip: number[] = [];
  for (let i = 0; i < samples; i++) {
    const start = process.hrtime.bigint();
    await run(roundTripsPerSample);
    const elapsed = process.hrtime.bigint() - start;
    perRoundTrip.push(Number(elapsed) / roundTripsPerSample);
  }
  return median(perRoundTrip);
}

// Every workload ends with the client holding the value it got back from the last reply. Checking it keeps
// the optimiser from discarding the messages and catches a transport that silently drops or duplicates one.
function expectFinal(transport: string, actual: number, expected: number): void {
  if (actual !== expected) {
    throw new Error(`${transport} baseline: expected final value ${expected}, got ${actual}`);
  }
}

/** A generator thread as the floor loop sees it: yields a message, is resumed with the reply. */
type GenThread = Generator<number, number, number>;

function* floorClient(roundTrips: number): GenThread {
  let value = 0;
  for (let i = 0; i < roundTrips; i++) value = yield value;
  return value;
}

function* floorServer(): GenThread {
  // The first resume of a generator discards its argument, so the loop primes the server once; after that
  // every resume delivers a request and the yield carries the reply.
  let request = yield 0;
  for (;;) request = yield request + 1;
}

function runGeneratorFloor(n: number): void {
  const client = floorClient(n);
  const server = floorServer();
  server.next(0);
  // The run queue of a two-thread system: whoever just yielded goes to the back, the other one runs. As in
  // any generator-based kernel, a switch resumes a generator through a call site that sees more than one
  // generator, and the message travels through the loop rather than a closure shared by the two threads.
  let current = client;
  let next = server;
  let message = 0;
  for (;;) {
    const step = current.next(message);
    if (step.done === true) {
      expectFinal('generator', step.value, n);
      return;
    }
    message = step.value;
    const ran = current;
    current = next;
    next = ran;
  }
}

/**
 * The floor the kernel's IPC is judged against (target: kernel at most 2x this): a client and a server
 * generator passing a number through a minimal two-slot run-queue loop, with no capabilities, message
 * registers or scheduling policy.
 *
 * @returns median nanoseconds per round trip (client to server to client, i.e. two generator resumes).
 */
export function generatorFloorNs(): number {
  return measureSync(GENERATOR_ROUND_TRIPS, runGeneratorFloor);
}

async function runAsyncAwait(n: number): Promise<void> {
  // Each side parks on a promise whose resolver the other side holds. Receivers always install their
  // resolver before the peer can send (promise executors run synchronously), so no message can be missed.
  let deliverToServer: (value: number) => void = () => {};
  let deliverToClient: (value: number) => void = () => {};

  const server = async (): Promise<void> => {
    for (let i = 0; i < n; i++) {
      const request = await new Promise<number>((resolve) => {
        deliverToServer = resolve;
      });
      deliverToClient(request + 1);
    }
  };

  const client = async (): Promise<number> => {
    let value = 0;
    for (let i = 0; i < n; i++) {
      const reply = new Promise<number>((resolve) => {
        deliverToClient = resolve;
      });
      deliverToServer(value);
      value = await reply;
    }
    return value;
  };

  // The server must be parked before the client's first send; both loops run exactly n iterations, so both
  // promises settle and a failure on either side rejects the sample instead of leaving it pending.
  const serverDone = server();
  const [, final] = await Promise.all([serverDone, client()]);
  expectFinal('async/await', final, n);
}

/**
 * Ping-pong between two async functions, each awaiting a promise the other resolves: the cost of the
 * microtask-queue handoff that an async/await kernel would pay per message.
 *
 * @returns median nanoseconds per round trip (ping plus pong).
 */
export function asyncAwaitNs(): Promise<number> {
  return measureAsync(ASYNC_AWAIT_ROUND_TRIPS, runAsyncAwait);
}

/**
 * Ping-pong through an `eventemitter3` emitter: emitting `ping` runs a handler that emits `pong`. This is the
 * cost of plain synchronous callbacks with event-name dispatch, without any thread abstraction.
 *
 * @returns median nanoseconds per round trip (ping plus pong).
 */
export function eventEmitterNs(): number {
  const emitter = new EventEmitter<{ ping: [value: number]; pong: [value: number] }>();
  let lastReply = 0;
  emitter.on('ping', (value) => {
    emitter.emit('pong', value + 1);
  });
  emitter.on('pong', (value) => {
    lastReply = value;
  });
  try {
    return measureSync(EVENT_EMITTER_ROUND_TRIPS, (n) => {
      // Every round trip starts from this loop rather than from the pong handler, so the stack stays two
      // emits deep however many round trips a sample runs.
      let value = 0;
      for (let i = 0; i < n; i++) {
        emitter.emit('ping', value);
        value = lastReply;
      }
      expectFinal('eventemitter3', value, n);
    });
  } finally {
    emitter.removeAllListeners();
  }
}

/**
 * Races `work` against a watchdog and a failure signal, always clearing the timer so it cannot keep the
 * process alive after the benchmark has finished.
 */
async function guarded<T>(label: string, work: Promise<T>, failure: Promise<never>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${label} baseline timed out after ${TRANSPORT_TIMEOUT_MS} ms`)),
      TRANSPORT_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, failure, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A request/reply transport driven from the client side, as consumed by {@link measureAsync}. */
interface ReplyDriven {
  /** Performs `n` round trips and resolves once the last reply has arrived and been checked. */
  run: (n: number) => Promise<void>;
  /** Must be attached to the transport's reply channel. */
  onReply: (value: unknown) => void;
}

/**
 * Builds a `run(n)` for a transport where the client sends with `send` and replies are fed to `onReply`.
 * Only one sample is in flight at a time, so a single slot for the current sample's completion is enough.
 */
function replyDriven(send: (value: number) => void, label: string): ReplyDriven {
  let onReply: (value: number) => void = (value) => {
    throw new Error(`${label} baseline: unexpected reply ${value} outside a sample`);
  };
  const run = (n: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let remaining = n;
      onReply = (value) => {
        remaining -= 1;
        if (remaining > 0) {
          send(value);
          return;
        }
        try {
          expectFinal(label, value, n);
          resolve();
        } catch (error: unknown) {
          reject(error);
        }
      };
      send(0);
    });
  return { run, onReply: (value: unknown) => onReply(Number(value)) };
}

/**
 * Ping-pong between the two ports of one `MessageChannel` in the same thread. Every hop is a structured
 * clone plus a macrotask, which is the cheapest way the runtime offers to cross an isolation boundary.
 *
 * @returns median nanoseconds per round trip (port1 to port2 to port1).
 */
export async function messageChannelNs(): Promise<number> {
  const { port1, port2 } = new MessageChannel();
  port2.on('message', (value: unknown) => port2.postMessage(Number(value) + 1));
  const transport = replyDriven((value) => port1.postMessage(value), 'MessageChannel');
  port1.on('message', transport.onReply);
  // In-thread ports have no failure event of their own, so only the watchdog can end a stuck run.
  const neverFails = new Promise<never>(() => {});
  try {
    return await guarded(
      'MessageChannel',
      measureAsync(MESSAGE_CHANNEL_ROUND_TRIPS, transport.run),
      neverFails,
    );
  } finally {
    // Open ports keep the event loop alive, so they must be closed even when a sample failed.
    port1.close();
    port2.close();
  }
}

// Plain CommonJS because eval'd worker code is run as a script; the echo is the minimum a server can do.
const ECHO_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (value) => parentPort.postMessage(value + 1));
`;

/**
 * Round trip to an echo server in a `worker_threads` Worker: the cost of real cross-thread IPC, for
 * comparison with the kernel, whose "threads" all share one JS thread.
 *
 * @returns median nanoseconds per round trip (main to worker to main).
 */
export async function workerPostMessageNs(): Promise<number> {
  const worker = new Worker(ECHO_WORKER_SOURCE, { eval: true });
  const transport = replyDriven((value) => worker.postMessage(value), 'worker_threads');
  worker.on('message', transport.onReply);
  // A worker that crashes or exits never replies; turning that into a rejection is what keeps a sample from
  // waiting on it forever.
  const failure = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`worker_threads baseline: worker exited with code ${code}`)),
    );
  });
  // The race below may settle on success first; without a handler the later exit-on-terminate rejection
  // would surface as an unhandled rejection.
  failure.catch(() => {});
  try {
    // Worker startup (tens of ms) lands in the first warmup sample, never in a timed one.
    return await guarded('worker_threads', measureAsync(WORKER_ROUND_TRIPS, transport.run), failure);
  } finally {
    await worker.terminate();
  }
}
