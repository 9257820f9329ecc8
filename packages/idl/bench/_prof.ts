import { CapRights, capIndex, Kernel, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';
import * as stubs from './bench.gen.tmp';
const GATE = capIndex(100);
const N = 200_000;
function system(server: (env: ThreadEnv) => UserCode<unknown>, client: (env: ThreadEnv) => UserCode<unknown>) {
  const k = new Kernel({ platform: createTestPlatform() });
  const st = k.createTask('server');
  const ct = k.createTask('client');
  const s = k.createThread(st, program(server, 'server'), { priority: 2 });
  k.mapCap(ct, 100, k.createGate(s, 0x10), CapRights.RW);
  k.createThread(ct, program(client, 'client'), { priority: 1 });
  return k;
}
for (let r = 0; r < 15; r++) {
  const k = process.env.RAW ? system(function* (env) { const u = env.utcb; yield env.wait(); for (;;) { u.setMr(0, (u.mr(0) + u.mr(1)) >>> 0); yield env.replyAndWait(0x10001); } }, function* (env) { const u = env.utcb; let x = 0; for (let i = 0; i < N; i++) { u.setMr(0, i); u.setMr(1, x); const tag: number = yield env.call(GATE, 0x100002); x = u.mr(0); } }) : system((env) => stubs.serveBench(env, { add: (a: number, b: number) => (a + b) >>> 0 }), function* (env) {
    const c = new stubs.BenchClient(env, GATE); let x = 0; for (let i = 0; i < N; i++) x = yield* c.add(i, x);
  });
  const t = process.hrtime.bigint(); k.run(); console.log(Number(process.hrtime.bigint() - t) / N);
}
