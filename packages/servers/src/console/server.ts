/**
 * The console server: the one task that owns the UART, serving `pecan.Console`
 * (../../idl/console.idl) to every other task.
 *
 * Output: with a clients table (gate label → client and gate, from the root task),
 * text is buffered per client and each line goes out whole, prefixed with `[client] `
 * (in a colour of the client's own when the console's sink is a terminal), so that the
 * lines of many programs never interleave. Without one it goes out as it comes.
 *
 * Input: the UART's receive interrupt comes to the server's thread as IPC from its Irq;
 * the server drains the receiver into a bounded buffer and triggers the Irq that the
 * holder of the input gate bound. That program reads the buffer with `read`, so input
 * goes to exactly one program: whoever holds the gate named `in`.
 */

import { Dispatcher } from '@pecan/idl/runtime';
import {
  capIndex,
  FixedSlot,
  msgtag,
  Proto,
  program,
  type ThreadEnv,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import type { DeviceAccess } from '../root/devices';
import { type ClientOfGate, programEnvironment } from '../root/program-env';
import { Sigma0Client } from '../sigma0/client';
import { ConsoleHandlers, type ConsoleServer, NotInput } from './console.idl';
import { CONSOLE_MAX_BYTES } from './protocol';
import { initUart, openUart, type UartPort } from './uart';

/** Bytes of input the console holds for its reader; what arrives beyond is dropped. */
export const CONSOLE_INPUT_BUFFER = 4096;
/** The longest line the console buffers; a longer one goes out in pieces of this size. */
export const CONSOLE_LINE_MAX = 1024;
/** The name of the gate whose holder gets the console's input. */
export const CONSOLE_INPUT_GATE = 'in';
/**
 * The label the UART's Irq delivers with: the root task's gate labels have low bits
 * 0x10 and up, so this one cannot be confused with a client's.
 */
const UART_IRQ_LABEL = 0x4;
/** ANSI colours for client prefixes: cyan, green, yellow, magenta, blue, red. */
const COLOURS = [36, 32, 33, 35, 34, 31];

/** What a console serves with. */
interface ConsoleSetup {
  readonly uart: UartPort;
  /** Gate label → client and gate (from the root task); absent for a console without one. */
  readonly clients?: Readonly<Record<string, ClientOfGate>>;
  /** Colour the prefixes (the sink is a terminal). */
  readonly colour: boolean;
  /** The UART's Irq, attached to this thread; absent when there is no input. */
  readonly irq?: number;
}

/** The prefix of each line of the client behind `label`. */
function prefixer(setup: ConsoleSetup): (label: number) => Uint8Array {
  const encoder = new TextEncoder();
  const names = [...new Set(Object.values(setup.clients ?? {}).map((c) => c.program))].sort();
  const cache = new Map<number, Uint8Array>();
  return (label) => {
    let p = cache.get(label);
    if (!p) {
      const who = setup.clients?.[String(label)]?.program ?? `client ${label.toString(16)}`;
      const colour = COLOURS[Math.max(0, names.indexOf(who)) % COLOURS.length];
      p = encoder.encode(setup.colour ? `\x1b[${colour}m[${who}]\x1b[0m ` : `[${who}] `);
      cache.set(label, p);
    }
    return p;
  };
}

/** The console's state and its `pecan.Console` implementation. */
function consoleImplementation(env: ThreadEnv, setup: ConsoleSetup) {
  const { uart, clients } = setup;
  const lines = new Map<number, number[]>();
  const prefix = prefixer(setup);
  const input: number[] = [];
  /** The input holder's Irq (a capability index here), once bound. */
  let notify = 0;

  const isInputGate = (label: number) =>
    clients === undefined || clients[String(label)]?.gate === CONSOLE_INPUT_GATE;

  function* putLine(label: number, line: readonly number[]): UserCode<void> {
    for (const c of prefix(label)) yield* uart.putc(c);
    for (const c of line) yield* uart.putc(c);
    yield* uart.putc(0x0a);
  }

  const impl: ConsoleServer = {
    *write(text, ctx): UserCode<void> {
      if (!clients) {
        for (const b of text) yield* uart.putc(b);
        return;
      }
      const line = lines.get(ctx.label) ?? [];
      for (const b of text) {
        if (b !== 0x0a) line.push(b);
        if (b === 0x0a || line.length >= CONSOLE_LINE_MAX) {
          yield* putLine(ctx.label, line);
          line.length = 0;
        }
      }
      lines.set(ctx.label, line);
    },
    *bindInput(irq, ctx): UserCode<void> {
      if (!isInputGate(ctx.label)) {
        yield* env.task.release(irq);
        throw new NotInput();
      }
      if (notify !== 0) yield* env.task.release(notify);
      notify = irq;
      if (input.length > 0) yield* env.irq(notify).trigger();
    },
    read(max, ctx) {
      if (!isInputGate(ctx.label)) throw new NotInput();
      return Uint8Array.from(input.splice(0, Math.min(max, CONSOLE_MAX_BYTES)));
    },
  };

  /** Takes what the UART received; tells the reader when input is waiting. */
  function* receive(): UserCode<void> {
    const got: number[] = [];
    yield* uart.drain(got);
    // Beyond the buffer, input is dropped as a UART overruns: nobody is reading it.
    for (const b of got.slice(0, CONSOLE_INPUT_BUFFER - input.length)) input.push(b);
    if (got.length > 0 && notify !== 0) yield* env.irq(notify).trigger();
  }

  return { impl, receive };
}

/**
 * The console's server loop: `pecan.Console` requests through the IDL dispatcher, and
 * the UART's interrupts, answered (unmasking the line) once the receiver is drained.
 */
function* runConsole(env: ThreadEnv, setup: ConsoleSetup): UserCode<never> {
  const console = consoleImplementation(env, setup);
  const d = new Dispatcher(env, console.impl, ConsoleHandlers, 'c');
  let tag: number = yield d.wait();
  for (;;) {
    let reply: number;
    if (setup.irq !== undefined && tagLabel(tag) === Proto.IRQ && env.label === UART_IRQ_LABEL) {
      yield* console.receive();
      reply = msgtag(0, 0);
    } else {
      reply = yield* d.dispatch(tag);
    }
    tag = yield d.next(reply);
  }
}

/**
 * The console server program for a task whose pager is sigma0 (no root task): it
 * finds the UART in the KIP, takes it from sigma0 and serves output only.
 */
export const uartConsole = program(function* uartConsole(env: ThreadEnv): UserCode<void> {
  const kip = yield* env.kernelInterface();
  const uart = yield* openUart(env, kip, new Sigma0Client(env, capIndex(FixedSlot.PAGER)));
  if (typeof uart === 'string') {
    yield* env.print(`console: no console: ${uart}`);
    return;
  }
  yield* runConsole(env, { uart, colour: false });
});

/** Sets up the UART's receive interrupt on its Irq; returns the Irq, or undefined without one. */
function* enableInput(env: ThreadEnv, uart: UartPort, access: DeviceAccess): UserCode<number | undefined> {
  if (!access.irq) return undefined;
  const err = yield* env.irq(access.irq.cap).attach(UART_IRQ_LABEL);
  if (err < 0) {
    yield* env.print(`console: no input: attaching to the UART's Irq failed (${err})`);
    return undefined;
  }
  yield* uart.enableReceiveInterrupt();
  return access.irq.cap;
}

/**
 * The console server for a system image. The root task hands it the UART as the device
 * capability named `uart` (`caps: { uart: { device: 'uart' } }`), with its registers
 * mapped and its Irq. It serves `pecan.Console` on the gates it serves: output, one
 * line at a time per client with the client's name in front, on every gate; input to
 * the holder of the gate named `in` (`serves: ['out', 'in']`).
 */
export const systemConsole = program(function* systemConsole(env: ThreadEnv): UserCode<void> {
  const me = yield* programEnvironment(env);
  const access = me.devices?.uart;
  if (!access) {
    yield* env.print('console: no UART: give this program caps: { uart: { device: "uart" } }');
    return;
  }
  const uart = yield* initUart(env, access);
  const irq = yield* enableInput(env, uart, access);
  yield* runConsole(env, {
    uart,
    clients: me.clients ?? {},
    colour: access.tty === true,
    ...(irq === undefined ? {} : { irq }),
  });
});
