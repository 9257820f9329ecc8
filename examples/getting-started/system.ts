/**
 * The getting-started system: `pecan run system.ts`. Two programs run the same client
 * module; each gets a gate of its own to the counter server, so the server keeps their
 * counts apart.
 */
import { defineSystem } from '@pecan/servers';

export default defineSystem({
  name: 'getting-started',
  machine: { arch: 'x86_64', ram: '32M' },
  programs: {
    console: { module: './console.ts', serves: ['out'], caps: { uart: { device: 'uart' } }, priority: 20 },
    server: {
      module: './server.ts',
      serves: ['counter'],
      caps: { console: { gate: 'console/out' } },
      restart: 'on-failure',
      ram: '1M',
      kernelMemory: '128K',
    },
    alice: {
      module: './client.ts',
      caps: { counter: { gate: 'server/counter' }, console: { gate: 'console/out' } },
      ram: '1M',
    },
    bob: {
      module: './client.ts',
      caps: { counter: { gate: 'server/counter' }, console: { gate: 'console/out' } },
      ram: '1M',
    },
  },
});
