/** Squares numbers, and crashes on the third request of each start. */
import { msgtag, program, type ThreadEnv, type UserCode } from '@pecan/kernel';

export default program(function* server(env: ThreadEnv): UserCode<void> {
  yield* env.print('server: (re)started');
  let served = 0;
  yield env.wait();
  for (;;) {
    served++;
    if (served === 3) throw new Error('the server fails on its third request');
    const n = env.utcb.mr(0);
    env.utcb.setMr(0, n * n);
    yield env.replyAndWait(msgtag(0, 1));
  }
});
