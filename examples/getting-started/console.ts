/** The console server of @pecan/servers, as this system's console program. */
export { systemConsole as default } from '@pecan/servers';
