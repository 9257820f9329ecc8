import {
  capIndex,
  FixedSlot,
  Kernel,
  MemRights,
  memFpage,
  memMapControl,
  msgtag,
  Proto,
  program,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

describe.each(BACKENDS)('smoke on $name', (backend) => {
  it('a page fault is resolved by a pager and the access completes', () => {
    const k = new Kernel({ platform: backend.create() });
    const s0 = k.createTask('sigma0', { sigma0: true });
    const ram = k.memory!.regions.find((r) => r.kind === 'ram' && r.size > 8 * 1024 * 1024)!;
    const frame = ram.base + 4 * 1024 * 1024;
    const faults: number[] = [];
    const pager = k.createThread(
      s0,
      program(function* (env) {
        let tag = yield env.wait();
        for (;;) {
          const addr = env.utcb.mr(0);
          faults.push(addr);
          env.utcb.setMr(0, memMapControl(addr));
          env.utcb.setMr(1, memFpage(frame, 12, MemRights.RW));
          tag = yield env.replyAndWait(msgtag(0, 0, 1));
          void tag;
        }
      }),
      { name: 'pager', priority: 5 },
    );
    const gate = k.createGate(pager, 0x10);
    const client = k.createTask('client');
    k.mapCap(client, FixedSlot.PAGER, gate, 7);
    let seen = -1;
    k.createThread(
      client,
      program(function* (env) {
        env.utcb.setMr(0, 1234);
        yield* env.mem.writeU32(0x1000_0010, 0xdeadbeef);
        seen = yield* env.mem.readU32(0x1000_0010);
        expect(env.utcb.mr(0)).toBe(1234);
      }),
      { pager: capIndex(FixedSlot.PAGER) },
    );
    const r = k.run();
    expect(r.dead).toEqual([]);
    expect(seen).toBe(0xdeadbeef);
    expect(faults).toEqual([0x1000_0010 + 2]);
    void Proto;
  });
});
