/** Adds to its count on the counter server and prints each answer through the console. */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { consoleWrite, namedCap } from '@pecan/servers';
import { CounterClient, Overflow } from './counter.js';

export default program(function* client(env: ThreadEnv): UserCode<void> {
  const counter = new CounterClient(env, yield* namedCap(env, 'counter'));
  const console = yield* namedCap(env, 'console');
  for (const n of [1, 2, 3]) yield* consoleWrite(env, console, `add ${n}: ${yield* counter.add(n)}\n`);
  try {
    yield* counter.add(1000);
  } catch (e) {
    // Only the declared exception is expected; an IdlError means the call itself failed.
    if (!(e instanceof Overflow)) throw e;
    yield* consoleWrite(env, console, `add 1000: refused, the limit is ${e.limit}\n`);
  }
  yield* consoleWrite(env, console, `count: ${yield* counter.get()}\n`);
});
