/**
 * The ping-pong system: a "squares" server and a client in two tasks, connected by
 * an IPC gate. The client sends numbers, the server replies with their squares, and
 * both print through their task's Log. Everything the threads do goes through the
 * kernel's invoke syscall; the host only boots the system, as a boot loader would.
 */
import {
  CapRights,
  capIndex,
  FIRST_FREE_SLOT,
  Kernel,
  type LogEvent,
  msgtag,
  type Platform,
  program,
  type ThreadEnv,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';

/** Where the client finds the server's gate. */
const SERVER = capIndex(FIRST_FREE_SLOT);
/** The protocol label of the squares service (user protocols use labels ≥ 0). */
export const SQUARES_PROTOCOL = 0x5a;
/** Replies with this label mean "bad request". */
export const BAD_REQUEST = 1;

/** The server: squares each number it receives; rejects messages of other protocols. */
export const squaresServer = program(function* squaresServer(env: ThreadEnv): UserCode {
  yield* env.print('squares server: waiting for requests');
  let served = 0;
  let tag: number = yield env.wait();
  for (;;) {
    let reply = msgtag(BAD_REQUEST, 0);
    if (tagLabel(tag) === SQUARES_PROTOCOL && (tag & 0x3f) === 1) {
      const n = env.utcb.mr(0);
      yield env.compute(200); // the work, on the virtual clock
      served++;
      // Print before loading the reply: a Log write reuses the message registers.
      if (served % 4 === 0) yield* env.print(`squares server: ${served} requests served`);
      env.utcb.setMr(0, n * n);
      reply = msgtag(0, 1);
    }
    tag = yield env.replyAndWait(reply);
  }
});

/** The client: asks for the squares of 1…n and prints them. */
export const squaresClient = program(function* squaresClient(env: ThreadEnv): UserCode {
  const n = env.arg;
  const squares: number[] = [];
  for (let i = 1; i <= n; i++) {
    env.utcb.setMr(0, i);
    const tag: number = yield env.call(SERVER, msgtag(SQUARES_PROTOCOL, 1));
    const err = env.error(tag);
    if (err !== 0) {
      yield* env.print(`client: request ${i} failed with error ${err}`);
      return;
    }
    squares.push(env.utcb.mr(0));
  }
  yield* env.print(`client: squares of 1..${n} = ${squares.join(' ')}`);
});

/** Options for {@link bootPingPong}. */
export interface PingPongOptions {
  readonly platform: Platform;
  readonly requests?: number;
  readonly seed?: number;
  readonly logSink?: (e: LogEvent) => void;
}

/** Boots the system: two tasks, a server thread, a gate, a client thread. */
export function bootPingPong(options: PingPongOptions): Kernel {
  const kernel = new Kernel({
    platform: options.platform,
    seed: options.seed ?? 0,
    ...(options.logSink ? { logSink: options.logSink } : {}),
  });
  const serverTask = kernel.createTask('server');
  const clientTask = kernel.createTask('client');
  const server = kernel.createThread(serverTask, squaresServer, { name: 'server', priority: 10 });
  const gate = kernel.createGate(server, 0x100, 'squares');
  kernel.mapCap(clientTask, FIRST_FREE_SLOT, gate, CapRights.RW);
  kernel.createThread(clientTask, squaresClient, {
    name: 'client',
    priority: 5,
    arg: options.requests ?? 12,
  });
  return kernel;
}
