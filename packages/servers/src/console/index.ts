export { CONSOLE_MAX_BYTES, CONSOLE_PROTOCOL, consoleBytes, consoleWrite } from './protocol';
export { uartConsole } from './server';
export { openUart, PL011_WINDOW, type UartPort } from './uart';
