import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, formatDiagnostics } from '@pecan/idl';
import { IdlError } from '@pecan/idl/runtime';
import { CapRights, capIndex, Kernel, msgtag, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { BadName, Exists, NamespaceClient, NotFound, namespaceServer } from '../src/namespace';

const here = dirname(fileURLToPath(import.meta.url));

/** Slots above what the tasks' capability allocators hand out. */
const NS = capIndex(200);
const OWN_GATE = capIndex(201);

describe('the servers’ IDL interfaces', () => {
  it.each([
    ['namespace', 'namespace'],
    ['console', 'console'],
  ])('the committed stubs are what the IDL compiler generates from %s.idl', (name, folder) => {
    const source = readFileSync(join(here, `../idl/${name}.idl`), 'utf8');
    const r = compile(source, { fileName: `${name}.idl`, outputPath: () => `${name}.idl.ts` });
    expect(formatDiagnostics(r.diagnostics)).toBe('');
    expect(r.files[0]!.text).toBe(readFileSync(join(here, `../src/${folder}/${name}.idl.ts`), 'utf8'));
  });
});

describe('namespace server', () => {
  it('a server registers its gate; a client finds it by name at run time and calls it; unlink removes it', () => {
    const k = new Kernel({ platform: createTestPlatform() });
    const nsTask = k.createTask('ns');
    const nsThread = k.createThread(nsTask, namespaceServer, { name: 'ns', priority: 20 });
    const nsGate = k.createGate(nsThread, 0x40, 'ns');
    const events: string[] = [];

    // A squares server that registers its own gate under "squares".
    const serverTask = k.createTask('server');
    k.mapCap(serverTask, 200, nsGate, CapRights.RW);
    const server = k.createThread(
      serverTask,
      program(function* (env: ThreadEnv): UserCode<void> {
        const ns = new NamespaceClient(env, NS);
        yield* ns.register('squares', OWN_GATE);
        events.push('registered');
        try {
          yield* ns.register('squares', OWN_GATE);
        } catch (e) {
          events.push(e instanceof Exists ? `exists ${e.entry}` : String(e));
        }
        let tag: number = yield env.wait();
        for (;;) {
          const n = env.utcb.mr(0);
          env.utcb.setMr(0, n * n);
          tag = yield env.replyAndWait(msgtag(0, 1));
          void tag;
        }
      }),
      { name: 'server', priority: 10 },
    );
    k.mapCap(serverTask, 201, k.createGate(server, 0x80, 'squares'), CapRights.RW);

    const clientTask = k.createTask('client');
    k.mapCap(clientTask, 200, nsGate, CapRights.RW);
    k.createThread(
      clientTask,
      program(function* (env: ThreadEnv): UserCode<void> {
        const ns = new NamespaceClient(env, NS);
        const squares = yield* ns.query('squares');
        env.utcb.setMr(0, 12);
        yield env.call(squares, msgtag(1, 1));
        events.push(`12² = ${env.utcb.mr(0)}`);
        for (const bad of ['', 'no spaces', 'x'.repeat(49)]) {
          try {
            yield* ns.query(bad);
          } catch (e) {
            // Over the IDL's bound of 48 bytes, the client stub refuses before any IPC.
            events.push(
              e instanceof BadName ? 'bad name' : e instanceof IdlError ? `idl ${e.code}` : String(e),
            );
          }
        }
        yield* ns.unlink('squares');
        try {
          yield* ns.query('squares');
        } catch (e) {
          events.push(e instanceof NotFound ? `not found ${e.entry}` : String(e));
        }
      }),
      { name: 'client', priority: 5 },
    );
    const r = k.run();
    expect(r.dead).toEqual([]);
    expect(events).toEqual([
      'registered',
      'exists squares',
      '12² = 144',
      'bad name',
      'bad name',
      'idl -22',
      'not found squares',
    ]);
  });
});
