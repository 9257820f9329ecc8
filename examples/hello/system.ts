/**
 * The hello system: `pecan run examples/hello/system.ts`. The root task starts the
 * console (it gets the UART), then the server, then the client; the client holds a
 * capability to the server's gate named `greeter`, and both print through the console
 * server, which puts each line on the UART prefixed with the program's name.
 */
import { defineSystem } from '@pecan/servers';

export default defineSystem({
  name: 'hello',
  machine: { arch: 'x86_64', ram: '32M' },
  programs: {
    console: { module: './console.ts', serves: ['out'], caps: { uart: { device: 'uart' } }, priority: 20 },
    server: {
      module: './server.ts',
      serves: ['greeter'],
      caps: { console: { gate: 'console/out' } },
      restart: 'on-failure',
      ram: '1M',
    },
    client: {
      module: './client.ts',
      caps: { greeter: { gate: 'server/greeter' }, console: { gate: 'console/out' } },
      ram: '1M',
    },
  },
});
