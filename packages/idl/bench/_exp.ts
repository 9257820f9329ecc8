import { CapRights, capIndex, Kernel, msgtag, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import { createTestPlatform } from '@pecan/kernel/testing';
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
function* rawServer(env: ThreadEnv): UserCode<unknown> {
  const u = env.utcb;
  yield env.wait();
  for (;;) {
    u.setMr(0, (u.mr(0) + u.mr(1)) >>> 0);
    yield env.replyAndWait(msgtag(0, 1));
  }
}
const raw = () => system(rawServer, function* (env) {
  const u = env.utcb; let x = 0;
  for (let i = 0; i < N; i++) { u.setMr(0, i); u.setMr(1, x); const tag: number = yield env.call(GATE, msgtag(0x10, 2)); if (tag & 0x8000) throw new Error(); x = u.mr(0); }
});
function* add(env: ThreadEnv, a: number, b: number): UserCode<number> {
  const u = env.utcb; u.setMr(0, a); u.setMr(1, b);
  const tag: number = yield env.call(GATE, msgtag(0x10, 2)); if (tag & 0x8000) throw new Error(); return u.mr(0);
}
const gen = () => system(rawServer, function* (env) { let x = 0; for (let i = 0; i < N; i++) x = yield* add(env, i, x); });
// a reusable iterator
class AddCall { env: ThreadEnv; a = 0; b = 0; state = 0; res = { value: undefined as unknown, done: false };
  constructor(env: ThreadEnv) { this.env = env; }
  [Symbol.iterator]() { return this; }
  next(tag: number) { const r = this.res; if (this.state === 0) { const u = this.env.utcb; u.setMr(0, this.a); u.setMr(1, this.b); this.state = 1; r.value = this.env.call(GATE, msgtag(0x10, 2)); r.done = false; return r; }
    this.state = 0; if (tag & 0x8000) throw new Error(); r.value = this.env.utcb.mr(0); r.done = true; return r; }
}
const iter = () => system(rawServer, function* (env) { const c = new AddCall(env); let x = 0; for (let i = 0; i < N; i++) { c.a = i; c.b = x; x = (yield* c as unknown as number); } });
function once(make: () => Kernel): number { const k = make(); const t = process.hrtime.bigint(); k.run(); return Number(process.hrtime.bigint() - t) / N; }
const v = { raw, gen, iter };
for (let r = 0; r < 3; r++) for (const f of Object.values(v)) once(f);
const best: Record<string, number> = { raw: 1e9, gen: 1e9, iter: 1e9 };
for (let r = 0; r < 7; r++) for (const [n, f] of Object.entries(v)) best[n] = Math.min(best[n]!, once(f));
console.log(best);
