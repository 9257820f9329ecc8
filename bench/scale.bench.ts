/**
 * `pnpm bench:scale [--json]`: brief §9's scale target — 100,000 threads and
 * 1,000,000 mappings in one kernel. Reports how long each phase takes and how much
 * memory the process holds, and checks that every thread ran and every mapping went.
 */
import { CapRights, Kernel, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';

const THREADS = 100_000;
const TASKS = 100;
const MAPPINGS_PER_TASK = 10_000;

const ms = (from: number) => Math.round(performance.now() - from);

const kernel = new Kernel({ platform: createTestPlatform(), kernelMemory: 2 ** 40 });
let phase = performance.now();
const tasks = Array.from({ length: TASKS }, (_, i) => kernel.createTask(`t${i}`, { kernelMemory: 2 ** 30 }));
let started = 0;
const body = program(function* (env: ThreadEnv): UserCode {
  started++;
  yield env.wait();
});
for (let i = 0; i < THREADS; i++) kernel.createThread(tasks[i % TASKS]!, body, { slot: 0 });
const createMs = ms(phase);

phase = performance.now();
const irq = kernel.createIrq('shared');
for (const t of tasks)
  for (let s = 100; s < 100 + MAPPINGS_PER_TASK; s++) kernel.mapCap(t, s, irq, CapRights.R);
const mapMs = ms(phase);
const mappings = irq.capCount - 1;

phase = performance.now();
const result = kernel.run();
const runMs = ms(phase);

phase = performance.now();
kernel.deleteObject(irq);
const revokeMs = ms(phase);

if (started !== THREADS || mappings !== TASKS * MAPPINGS_PER_TASK || result.reason !== 'idle' || irq.alive) {
  throw new Error(`scale run went wrong: ${started} threads ran, ${mappings} mappings, ${result.reason}`);
}
const out = {
  threads: THREADS,
  mappings,
  create_threads_ms: createMs,
  map_ms: mapMs,
  run_all_threads_ms: runMs,
  revoke_all_mappings_ms: revokeMs,
  rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20),
};
if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(out)}\n`);
else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(24)} ${v}`);
