/** Squares numbers, and crashes on the third request of each start. */
import { msgtag, program, type ThreadEnv, tagHasError, type UserCode } from '@pecan/kernel';

export default program(function* server(env: ThreadEnv): UserCode<void> {
  yield* env.print('server: (re)started');
  let served = 0;
  let tag: number = yield env.wait();
  for (;;) {
    if (tagHasError(tag)) {
      // The reply failed (the caller went away): no request to answer, so wait.
      tag = yield env.wait();
      continue;
    }
    served++;
    if (served === 3) throw new Error('the server fails on its third request');
    const n = env.utcb.mr(0);
    env.utcb.setMr(0, n * n);
    tag = yield env.replyAndWait(msgtag(0, 1));
  }
});
