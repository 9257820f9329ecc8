/**
 * Generated stubs against hand-written IPC for the same exchange: a call with two u32
 * in and one u32 out, between two tasks, every capability check on. Prints one JSON
 * line with `--json`. Run: `tsx --conditions=@pecan/source packages/idl/bench/idl.bench.ts --json`.
 *
 * Both sides exchange the same messages: the interface's protocol number (explicit, as
 * Pecan's own interfaces have) as label, the opcode and the two values; one word back.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from '@pecan/idl';
import { CapRights, capIndex, Kernel, msgtag, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';

const here = dirname(fileURLToPath(import.meta.url));
const GATE = capIndex(100);
const N = 200_000;

// Generated at run time into a git-ignored file, so the bench always measures current output.
const generated = compile('interface Bench protocol 0x4243 { u32 add(u32 a, u32 b); }', {
  fileName: 'bench.idl',
}).files[0]!;
const stubPath = join(here, 'bench.gen.tmp.ts');
writeFileSync(stubPath, generated.text);
const stubs = await import(stubPath);

function system(
  server: (env: ThreadEnv) => UserCode<unknown>,
  client: (env: ThreadEnv) => UserCode<unknown>,
) {
  const k = new Kernel({ platform: createTestPlatform() });
  const st = k.createTask('server');
  const ct = k.createTask('client');
  const s = k.createThread(st, program(server, 'server'), { priority: 2 });
  k.mapCap(ct, 100, k.createGate(s, 0x10), CapRights.RW);
  k.createThread(ct, program(client, 'client'), { priority: 1 });
  return k;
}

function stub(): Kernel {
  return system(
    (env) => stubs.serveBench(env, { add: (a: number, b: number) => (a + b) >>> 0 }),
    function* (env) {
      const c = new stubs.BenchClient(env, GATE);
      let x = 0;
      for (let i = 0; i < N; i++) x = yield* c.add(i, x);
    },
  );
}

function raw(): Kernel {
  return system(
    function* (env) {
      const u = env.utcb;
      yield env.wait();
      for (;;) {
        u.setMr(0, (u.mr(1) + u.mr(2)) >>> 0);
        yield env.replyAndWait(msgtag(0, 1));
      }
    },
    function* (env) {
      const u = env.utcb;
      let x = 0;
      for (let i = 0; i < N; i++) {
        u.setMr(0, stubs.Bench.opcodes.add);
        u.setMr(1, i);
        u.setMr(2, x);
        const tag: number = yield env.call(GATE, msgtag(stubs.Bench.protocol, 3));
        if (tag & 0x8000) throw new Error('IPC failed');
        x = u.mr(0);
      }
    },
  );
}

/** ns per call of one run of a fresh system. */
function once(make: () => Kernel): number {
  const k = make();
  const t = process.hrtime.bigint();
  k.run();
  return Number(process.hrtime.bigint() - t) / N;
}

// Like with like: the same messages, the same server work (an add), both sides in two
// tasks on one kernel, in this one process. The raw side is what a careful hand-written
// client of the same server does (set the MRs, call, check the error bit, read MR0); the
// stub side additionally checks every value, the label, the word count and exceptions.
// Warm-up runs both variants before anything is timed: V8 deoptimizes on shapes it sees
// first (the kernel's IPC path differs between the two), which distorted the first samples.
// Then rounds alternate between the two, so machine drift hits both alike.
for (let round = 0; round < 3; round++) {
  once(raw);
  once(stub);
}
const rawRuns: number[] = [];
const stubRuns: number[] = [];
for (let round = 0; round < 11; round++) {
  rawRuns.push(once(raw));
  stubRuns.push(once(stub));
}
// The median of each: a stray slow round (a GC, the machine's other load) moves neither.
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const rawNs = median(rawRuns);
const stubNs = median(stubRuns);
const result = {
  stub_call_ns: Math.round(stubNs),
  raw_ipc_ns: Math.round(rawNs),
  ratio: +(stubNs / rawNs).toFixed(2),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else console.log(`stub ${result.stub_call_ns} ns, raw ${result.raw_ipc_ns} ns per call: ${result.ratio}×`);
