/** Asks for the squares of 1…6, calling again whenever the server died under a call. */
import { msgtag, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { namedCap } from '@pecan/servers';

export default program(function* client(env: ThreadEnv): UserCode<void> {
  const squares = yield* namedCap(env, 'squares');
  const results: number[] = [];
  for (let i = 1; i <= 6; ) {
    env.utcb.setMr(0, i);
    const tag: number = yield env.call(squares, msgtag(1, 1));
    if (tag & 0x8000) {
      yield* env.print(`client: request ${i} failed (${env.error(tag)}); calling again`);
      continue;
    }
    results.push(env.utcb.mr(0));
    i++;
  }
  yield* env.print(`client: squares ${results.join(' ')}`);
});
