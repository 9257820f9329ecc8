import { CapRights, capIndex, FIRST_FREE_SLOT } from '../abi/caps';
import { msgtag } from '../abi/msgtag';
import { Kernel } from '../kernel';
import type { Platform } from '../platform/platform';
import type { ThreadEnv } from '../user/env';
import { program, type UserCode } from '../user/program';

/** A two-task system that performs a fixed number of IPC round trips when run. */
export interface PingPong {
  readonly kernel: Kernel;
  /** Runs the system to its end (the server left waiting) and checks that it got there. */
  run(): void;
}

/**
 * The null-IPC workload: a client task calls a gate `roundTrips` times with `words`
 * message words each way; the server task answers each with replyAndWait. Every
 * capability check is on. The IPC benchmark and the back ends' calibration tests
 * use it, so a new back end is measured the same way.
 */
export function pingPong(platform: Platform, roundTrips: number, words = 0): PingPong {
  const gateCap = capIndex(FIRST_FREE_SLOT);
  const kernel = new Kernel({ platform });
  const serverTask = kernel.createTask('server');
  const clientTask = kernel.createTask('client');
  const server = program(function* server(env: ThreadEnv): UserCode {
    yield env.wait();
    const reply = msgtag(0, words);
    for (;;) yield env.replyAndWait(reply);
  });
  const client = program(function* client(env: ThreadEnv): UserCode {
    const request = msgtag(0, words);
    for (let i = 0; i < roundTrips; i++) {
      const tag: number = yield env.call(gateCap, request);
      if (tag & 0x8000) throw new Error(`IPC failed: ${env.error(tag)}`);
    }
  });
  const st = kernel.createThread(serverTask, server, { name: 'server', priority: 2 });
  kernel.mapCap(clientTask, FIRST_FREE_SLOT, kernel.createGate(st, 0x10, 'ping'), CapRights.RW);
  kernel.createThread(clientTask, client, { name: 'client', priority: 1 });
  return {
    kernel,
    run() {
      const r = kernel.run();
      if (r.reason !== 'idle' || r.dead.length > 0 || kernel.ipcCount !== 2 * roundTrips) {
        throw new Error(`ping-pong went wrong: ${r.message}`);
      }
    },
  };
}

/**
 * Simulated cycles of one null IPC round trip between two tasks on `platform`: the
 * difference between runs of 2n and n round trips, divided by n, so boot and
 * teardown cancel out. This is the figure back ends calibrate against published
 * kernel measurements.
 */
export function nullIpcRoundTripCycles(platform: Platform, n = 200): number {
  const time = (count: number) => {
    const p = pingPong(platform, count);
    p.run();
    return p.kernel.now();
  };
  return (time(2 * n) - time(n)) / n;
}
