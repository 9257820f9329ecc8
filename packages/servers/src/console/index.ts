export { CONSOLE_MAX_BYTES, CONSOLE_PROTOCOL, consoleBytes, consoleWrite } from './protocol';
export { systemConsole, uartConsole } from './server';
export { acquireUart, initUart, openUart, PL011_WINDOW, type UartAccess, type UartPort } from './uart';
