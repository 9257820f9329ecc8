/**
 * The console server: the one task that owns the UART, serving the console protocol
 * (./protocol.ts) to every other task. It gets its device from sigma0 (its pager
 * capability, slot 4, must reach sigma0) and writes through the device's registers.
 */
import {
  capIndex,
  Errno,
  FixedSlot,
  msgtag,
  program,
  type ThreadEnv,
  tagLabel,
  tagWords,
  type UserCode,
} from '@pecan/kernel';
import { Sigma0Client } from '../sigma0/client';
import { CONSOLE_PROTOCOL, consoleBytes } from './protocol';
import { openUart } from './uart';

function* serve(env: ThreadEnv): UserCode<void> {
  const kip = yield* env.kernelInterface();
  const uart = yield* openUart(env, kip, new Sigma0Client(env, capIndex(FixedSlot.PAGER)));
  if (typeof uart === 'string') {
    yield* env.print(`console: no console: ${uart}`);
    return;
  }
  let tag: number = yield env.wait();
  for (;;) {
    let reply = msgtag(-Errno.EBADPROTO, 0);
    if (tagLabel(tag) === CONSOLE_PROTOCOL) {
      const bytes = consoleBytes(env, tagWords(tag));
      if (bytes === null) {
        reply = msgtag(-Errno.EINVAL, 0);
      } else {
        for (const b of bytes) yield* uart.putc(b);
        reply = msgtag(0, 0);
      }
    }
    tag = yield env.replyAndWait(reply);
  }
}

/** The console server program: run it in a task whose pager is sigma0. */
export const uartConsole = program(serve);
