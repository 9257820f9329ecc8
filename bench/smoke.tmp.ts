import { ipcPingPong } from './kernel-ipc';

const { kernel, run } = ipcPingPong(5);
run();
const r = kernel.run();
console.log(r.reason, r.message, kernel.ipcCount);
for (const n of [1e5, 1e6]) {
  for (let rep = 0; rep < 3; rep++) {
    const p = ipcPingPong(n);
    const t0 = process.hrtime.bigint();
    p.run();
    const t1 = process.hrtime.bigint();
    console.log(n, Number(t1 - t0) / n, 'ns/rt', p.kernel.ipcCount);
  }
}
