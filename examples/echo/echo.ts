/** Reads the RTC once, then echoes each line of console input in capitals until `quit`. */
import { program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { ConsoleInput, consoleWrite, namedCap, openRtc, programEnvironment } from '@pecan/servers';

export default program(function* echo(env: ThreadEnv): UserCode<void> {
  const me = yield* programEnvironment(env);
  const out = yield* namedCap(env, 'console');
  const say = (text: string) => consoleWrite(env, out, `${text}\n`);

  // The RTC: its registers are in this task, from the root task (`{ device: 'rtc' }`).
  const rtc = openRtc(env, me.devices!.rtc!);
  if (typeof rtc === 'string') throw new Error(rtc);
  yield* say(`the ${rtc.name} says it is ${new Date(yield* rtc.now()).toISOString()}`);

  // Console input: only the holder of the console's `in` gate gets it.
  const input = yield* ConsoleInput.open(env, yield* namedCap(env, 'input'));
  if (typeof input === 'number') throw new Error(`no console input (${input})`);
  yield* say('type a line (quit to stop)');
  for (;;) {
    const line = yield* input.readLine();
    if (line === 'quit') break;
    yield* say(line.toUpperCase());
  }
  yield* say('bye');
});
