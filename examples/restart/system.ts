/**
 * The restart system: `pecan run examples/restart/system.ts`. The server crashes on
 * the third request of each start; the root task restarts it (policy `on-failure`) on
 * the same gate, and the client, whose call failed, simply calls again.
 */
import { defineSystem } from '@pecan/servers';

export default defineSystem({
  name: 'restart',
  machine: { arch: 'x86_64', ram: '32M' },
  programs: {
    server: { module: './server.ts', serves: ['squares'], restart: 'on-failure' },
    client: { module: './client.ts', caps: { squares: { gate: 'server/squares' } } },
  },
});
