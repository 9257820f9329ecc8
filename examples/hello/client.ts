/** Finds the greeter among its named capabilities and calls it. */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { namedCap } from '@pecan/servers';
import { GreeterClient } from './hello.idl';

export default program(function* client(env: ThreadEnv): UserCode<void> {
  const greeter = new GreeterClient(env, yield* namedCap(env, 'greeter'));
  for (const who of ['world', 'L4', 'Pecan']) yield* env.print(`client: ${yield* greeter.greet(who)}`);
});
