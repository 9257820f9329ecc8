export { Console, ConsoleClient, type ConsoleServer, NotInput } from './console.idl';
export { CONSOLE_MAX_BYTES, CONSOLE_PROTOCOL, ConsoleInput, consoleWrite } from './protocol';
export {
  CONSOLE_INPUT_BUFFER,
  CONSOLE_INPUT_GATE,
  CONSOLE_LINE_MAX,
  systemConsole,
  uartConsole,
} from './server';
export { acquireUart, initUart, openUart, PL011_WINDOW, type UartPort } from './uart';
