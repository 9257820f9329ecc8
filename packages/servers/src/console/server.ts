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
import { programEnvironment } from '../root/program-env';
import { Sigma0Client } from '../sigma0/client';
import { CONSOLE_PROTOCOL, consoleBytes } from './protocol';
import { initUart, openUart, type UartPort } from './uart';

function* serve(env: ThreadEnv): UserCode<void> {
  const kip = yield* env.kernelInterface();
  const uart = yield* openUart(env, kip, new Sigma0Client(env, capIndex(FixedSlot.PAGER)));
  if (typeof uart === 'string') {
    yield* env.print(`console: no console: ${uart}`);
    return;
  }
  yield* serveConsole(env, uart);
}

/**
 * The console protocol's server loop over an initialised UART. With `clients` (gate
 * label → name), output is line-buffered per client and each line goes out whole,
 * prefixed with `[name] `, so that the lines of many programs never interleave.
 */
function* serveConsole(
  env: ThreadEnv,
  uart: UartPort,
  clients?: Readonly<Record<string, string>>,
): UserCode<void> {
  const pending = new Map<number, number[]>();
  const encoder = new TextEncoder();
  let tag: number = yield env.wait();
  for (;;) {
    let reply = msgtag(-Errno.EBADPROTO, 0);
    if (tagLabel(tag) === CONSOLE_PROTOCOL) {
      const bytes = consoleBytes(env, tagWords(tag));
      if (bytes === null) {
        reply = msgtag(-Errno.EINVAL, 0);
      } else if (!clients) {
        for (const b of bytes) yield* uart.putc(b);
        reply = msgtag(0, 0);
      } else {
        const label = env.label - (env.label & 3);
        const line = pending.get(label) ?? [];
        for (const b of bytes) {
          if (b !== 0x0a) {
            line.push(b);
            continue;
          }
          const who = clients[String(label)]?.split(':')[0] ?? `client ${label.toString(16)}`;
          for (const c of encoder.encode(`[${who}] `)) yield* uart.putc(c);
          for (const c of line) yield* uart.putc(c);
          yield* uart.putc(0x0a);
          line.length = 0;
        }
        pending.set(label, line);
        reply = msgtag(0, 0);
      }
    }
    tag = yield env.replyAndWait(reply);
  }
}

/** The console server program: run it in a task whose pager is sigma0. */
export const uartConsole = program(serve);

/**
 * The console server for a system image: the root task hands it the UART as the
 * device capability named `uart` (`caps: { uart: { device: 'uart' } }`), already in
 * its address or I/O space, and it serves the console protocol on the gate it serves,
 * one line at a time per client, each prefixed with the client's name.
 */
export const systemConsole = program(function* systemConsole(env: ThreadEnv): UserCode<void> {
  const me = yield* programEnvironment(env);
  const access = me.devices?.uart;
  if (!access) {
    yield* env.print('console: no UART: give this program caps: { uart: { device: "uart" } }');
    return;
  }
  yield* serveConsole(env, yield* initUart(env, access), me.clients ?? {});
});
