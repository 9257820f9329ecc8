/** The counter server: one count per client, kept apart by the label of each client's gate. */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { consoleWrite, namedCap, programEnvironment } from '@pecan/servers';
import { Overflow, serveCounter } from './counter.js';

const LIMIT = 100;

export default program(function* server(env: ThreadEnv): UserCode<void> {
  const { clients = {} } = yield* programEnvironment(env);
  const names = Object.values(clients).map((c) => c.program);
  yield* consoleWrite(env, yield* namedCap(env, 'console'), `serving ${names.join(', ')}\n`);
  // The root task picks the labels, so a client cannot pass itself off as another.
  const counts = new Map<number, number>();
  yield* serveCounter(env, {
    add(n, ctx) {
      const count = (counts.get(ctx.label) ?? 0) + n;
      if (count > LIMIT) throw new Overflow({ limit: LIMIT });
      counts.set(ctx.label, count);
      return count;
    },
    get: (ctx) => counts.get(ctx.label) ?? 0,
  });
});
