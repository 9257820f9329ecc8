/**
 * The hello system: `pecan run examples/hello/system.ts`. The root task starts the
 * server first (the client needs its gate), gives the client a capability to it named
 * `greeter`, and restarts the server if it crashes.
 */
import { defineSystem } from '@pecan/servers';

export default defineSystem({
  name: 'hello',
  machine: { arch: 'x86_64', ram: '32M' },
  programs: {
    server: { module: './server.ts', serves: ['greeter'], restart: 'on-failure', ram: '1M' },
    client: { module: './client.ts', caps: { greeter: { gate: 'server/greeter' } }, ram: '1M' },
  },
});
