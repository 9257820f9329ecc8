/** The greeter: serves `hello.Greeter` on the gate the root task bound to it. */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { consoleWrite, namedCap } from '@pecan/servers';
import { serveGreeter } from './hello.idl';

export default program(function* server(env: ThreadEnv): UserCode<void> {
  yield* consoleWrite(env, yield* namedCap(env, 'console'), 'ready\n');
  yield* serveGreeter(env, { greet: (who) => `hello, ${who}` });
});
