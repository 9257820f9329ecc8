/** Finds the greeter among its named capabilities, calls it, and prints the answers. */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { consoleWrite, namedCap } from '@pecan/servers';
import { GreeterClient } from './hello.idl';

export default program(function* client(env: ThreadEnv): UserCode<void> {
  const greeter = new GreeterClient(env, yield* namedCap(env, 'greeter'));
  const console = yield* namedCap(env, 'console');
  for (const who of ['world', 'L4', 'Pecan'])
    yield* consoleWrite(env, console, `${yield* greeter.greet(who)}\n`);
});
