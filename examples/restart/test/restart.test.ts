import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main, RunExit } from '@pecan/cli';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('examples/restart through `pecan run`', () => {
  it.each(['x86_64', 'aarch64'])(
    'on %s the server is restarted twice and the client completes',
    async (arch) => {
      const out: string[] = [];
      const code = await main(['run', 'examples/restart/system.ts', '--arch', arch], {
        cwd: root,
        stdout: (t) => out.push(t),
        stderr: (t) => out.push(t),
      });
      expect(code).toBe(RunExit.OK);
      const lines = out.join('').split('\n');
      expect(lines.slice(0, lines.indexOf(''))).toEqual([
        'root: started server',
        'root: started client',
        'server: (re)started',
        'root: server crashed; restarting it (start 2)',
        // The root task (priority 200) restarts the server before the client (10) runs;
        // the restarted server (10) prints only after the client has seen its failure.
        'client: request 3 failed (-2005); calling again',
        'server: (re)started',
        'root: server crashed; restarting it (start 3)',
        'client: request 5 failed (-2005); calling again',
        'server: (re)started',
        'client: squares 1 4 9 16 25 36',
        'root: client exited',
      ]);
      expect(lines).toContain('programs:     server running (restarted 2×), client exited');
    },
  );
});
