import {
  CapRights,
  capIndex,
  FIRST_FREE_SLOT,
  Kernel,
  msgtag,
  program,
  type ThreadEnv,
  type UserCode,
} from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';

/** Where the client finds the server's gate. */
export const GATE_CAP = capIndex(FIRST_FREE_SLOT);

/**
 * Builds a two-task system whose client performs `n` call + replyAndWait round trips
 * through an IPC gate with `words` words each way, every capability check on.
 * Returns a function that runs it and the kernel, for inspection.
 */
export function ipcPingPong(n: number, words = 0): { kernel: Kernel; run: () => void } {
  const kernel = new Kernel({ platform: createTestPlatform() });
  const serverTask = kernel.createTask('server');
  const clientTask = kernel.createTask('client');
  const server = program(function* server(env: ThreadEnv): UserCode {
    yield env.wait();
    const reply = msgtag(0, words);
    for (;;) yield env.replyAndWait(reply);
  });
  const client = program(function* client(env: ThreadEnv): UserCode {
    const out = msgtag(0, words);
    for (let i = 0; i < n; i++) {
      const tag: number = yield env.call(GATE_CAP, out);
      if (tag & 0x8000) throw new Error(`IPC failed: ${env.error(tag)}`);
    }
  });
  const st = kernel.createThread(serverTask, server, { name: 'server', priority: 2 });
  const gate = kernel.createGate(st, 0x10, 'bench');
  kernel.mapCap(clientTask, FIRST_FREE_SLOT, gate, CapRights.RW);
  kernel.createThread(clientTask, client, { name: 'client', priority: 1 });
  return { kernel, run: () => void kernel.run() };
}
