/**
 * The ping-pong system: a "squares" server and a client in two tasks, connected by
 * an IPC gate. The client sends numbers, the server replies with their squares, and
 * both print through the console server, a user-level driver that writes each byte
 * to the machine's UART registers (a 16550 through I/O ports on the PC, a PL011
 * through an MMIO page on `virt`). The client then stores the squares in memory it
 * was never given: each first touch of a page is a page fault that the kernel sends to
 * the client's pager, which backs the page with a frame from sigma0.
 *
 * Everything the threads do goes through the kernel; the host only boots the system,
 * as a boot loader would.
 */
import {
  CapRights,
  capIndex,
  FIRST_FREE_SLOT,
  FixedSlot,
  Kernel,
  type LogEvent,
  msgtag,
  type Platform,
  program,
  type ThreadEnv,
  tagHasError,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { anonPager, attachSigma0, bootSigma0, consoleWrite, uartConsole } from '@pecan/servers';

/** Where the client finds the server's gate. */
const SERVER = capIndex(FIRST_FREE_SLOT);
/** Where both find the console's gate. */
const CONSOLE = capIndex(FIRST_FREE_SLOT + 1);

/** Prints a line on the console (the UART, through its user-level driver). */
function* say(env: ThreadEnv, text: string): UserCode<void> {
  yield* consoleWrite(env, CONSOLE, `${text}\n`);
}
/** The protocol label of the squares service (user protocols use labels ≥ 0). */
export const SQUARES_PROTOCOL = 0x5a;
/** Replies with this label mean "bad request". */
export const BAD_REQUEST = 1;

/** The server: squares each number it receives; rejects messages of other protocols. */
export const squaresServer = program(function* squaresServer(env: ThreadEnv): UserCode {
  yield* say(env, 'squares server: waiting for requests');
  let served = 0;
  let tag: number = yield env.wait();
  for (;;) {
    if (tagHasError(tag)) {
      // The reply failed (the caller went away): no request to answer, so wait.
      tag = yield env.wait();
      continue;
    }
    let reply = msgtag(BAD_REQUEST, 0);
    if (tagLabel(tag) === SQUARES_PROTOCOL && (tag & 0x3f) === 1) {
      const n = env.utcb.mr(0);
      yield env.compute(200); // the work, on the virtual clock
      served++;
      // Print before loading the reply: a console write reuses the message registers.
      if (served % 4 === 0) yield* say(env, `squares server: ${served} requests served`);
      env.utcb.setMr(0, n * n);
      reply = msgtag(0, 1);
    }
    tag = yield env.replyAndWait(reply);
  }
});

/** Where the client keeps its table of squares: memory nobody has mapped for it. */
export const TABLE = 0x2000_0000;

/** The client: asks for the squares of 1…n, prints them, and stores them at {@link TABLE}. */
export const squaresClient = program(function* squaresClient(env: ThreadEnv): UserCode {
  const n = env.arg;
  const squares: number[] = [];
  for (let i = 1; i <= n; i++) {
    env.utcb.setMr(0, i);
    const tag: number = yield env.call(SERVER, msgtag(SQUARES_PROTOCOL, 1));
    const err = env.error(tag);
    if (err !== 0) {
      yield* say(env, `client: request ${i} failed with error ${err}`);
      return;
    }
    squares.push(env.utcb.mr(0));
  }
  yield* say(env, `client: squares of 1..${n} = ${squares.join(' ')}`);
  // One square per 1 KiB: the table spans several pages, each faulted in on first touch.
  for (let i = 0; i < n; i++) yield* env.mem.writeU32(TABLE + i * 1024, squares[i]!);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += yield* env.mem.readU32(TABLE + i * 1024);
  yield* say(
    env,
    `client: stored them at 0x${TABLE.toString(16)} (${Math.ceil(n / 4)} pages); their sum is ${sum}`,
  );
});

/** Options for {@link bootPingPong}. */
export interface PingPongOptions {
  readonly platform: Platform;
  readonly requests?: number;
  readonly seed?: number;
  readonly logSink?: (e: LogEvent) => void;
}

/**
 * Boots the system: sigma0; the console task (its pager is sigma0, which gives it the
 * UART); a pager task whose pager is sigma0; the server task with its thread and gate;
 * the client task, whose pager is the pager task's gate.
 */
export function bootPingPong(options: PingPongOptions): Kernel {
  const kernel = new Kernel({
    platform: options.platform,
    seed: options.seed ?? 0,
    ...(options.logSink ? { logSink: options.logSink } : {}),
  });
  const sigma0 = bootSigma0(kernel);
  const consoleTask = kernel.createTask('console');
  attachSigma0(kernel, sigma0, consoleTask);
  const consoleThread = kernel.createThread(consoleTask, uartConsole, {
    name: 'console',
    priority: 30,
    pager: capIndex(FixedSlot.PAGER),
  });
  const consoleGate = kernel.createGate(consoleThread, 0x300, 'console');
  const pagerTask = kernel.createTask('pager');
  attachSigma0(kernel, sigma0, pagerTask);
  const pager = kernel.createThread(pagerTask, anonPager, {
    name: 'pager',
    priority: 20,
    pager: capIndex(FixedSlot.PAGER),
  });
  const serverTask = kernel.createTask('server');
  const clientTask = kernel.createTask('client');
  const server = kernel.createThread(serverTask, squaresServer, { name: 'server', priority: 10 });
  const gate = kernel.createGate(server, 0x100, 'squares');
  kernel.mapCap(clientTask, FIRST_FREE_SLOT, gate, CapRights.RW);
  kernel.mapCap(clientTask, FIRST_FREE_SLOT + 1, consoleGate, CapRights.RW);
  kernel.mapCap(serverTask, FIRST_FREE_SLOT + 1, consoleGate, CapRights.RW);
  kernel.mapCap(clientTask, FixedSlot.PAGER, kernel.createGate(pager, 0x200, 'pager'), CapRights.RW);
  kernel.createThread(clientTask, squaresClient, {
    name: 'client',
    priority: 5,
    arg: options.requests ?? 12,
    pager: capIndex(FixedSlot.PAGER),
  });
  return kernel;
}
