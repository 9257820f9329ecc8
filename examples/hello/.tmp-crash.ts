import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
export default program(function* crash(env: ThreadEnv): UserCode<void> {
  yield* env.print('crash: starting');
  yield* env.mem.writeU32(0x1000_0000, 1);
  throw new Error('boom');
});
