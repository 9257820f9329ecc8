import {
  capIndex,
  Errno,
  FixedSlot,
  Kernel,
  KipMemType,
  memFpage,
  msgtag,
  Proto,
  program,
  type ThreadEnv,
  type UserCode,
} from '@pecan/kernel';
import { attachSigma0, bootSigma0, Sigma0Client, Sigma0Op } from '@pecan/servers';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

const PAGER = capIndex(FixedSlot.PAGER);

/** Boots sigma0 and one client task running `main`; returns the kernel and the run result. */
function runClient(backend: (typeof BACKENDS)[number], main: (env: ThreadEnv) => UserCode<void>) {
  const k = new Kernel({ platform: backend.create() });
  const s0 = bootSigma0(k);
  const client = k.createTask('root');
  attachSigma0(k, s0, client);
  k.createThread(client, program(main), { name: 'root', pager: PAGER });
  const result = k.run();
  return { k, s0, result };
}

describe.each(BACKENDS)('sigma0 on $name', (backend) => {
  it('gives a named RAM frame once; a second request for it gets EBUSY', () => {
    const got: number[] = [];
    let ram = 0;
    const { result } = runClient(backend, function* (env) {
      const kip = yield* env.kernelInterface();
      ram = kip.memory.find((d) => d.type === KipMemType.CONVENTIONAL && d.size >= 1 << 22)!.base;
      const s0 = new Sigma0Client(env, PAGER);
      got.push(yield* s0.frame(ram + 0x10_0000, 12, 0x2000_0000));
      yield* env.mem.writeU32(0x2000_0000, 0x1234_5678);
      got.push(yield* env.mem.readU32(0x2000_0000));
      got.push(yield* s0.frame(ram + 0x10_0000, 12, 0x2000_1000));
    });
    expect(result.dead).toEqual([]);
    expect(got).toEqual([ram + 0x10_0000, 0x1234_5678, -Errno.EBUSY]);
  });

  it('goes back to waiting when its reply fails (a request sent without waiting), and serves the next', () => {
    let pa = 0;
    const { result } = runClient(backend, function* (env) {
      env.utcb.setMr(0, Sigma0Op.FPAGE_ANY);
      env.utcb.setMr(1, memFpage(0, 12, 7));
      yield env.send(PAGER, msgtag(Proto.SIGMA0, 2)); // nobody waits for the reply
      pa = yield* new Sigma0Client(env, PAGER).any(12, 0x3000_0000);
    });
    expect(result.reason).toBe('idle');
    expect(result.dead).toEqual([]);
    expect(pa).toBeGreaterThan(0);
  });

  it('gives any frame: distinct frames, and large blocks aligned to their size', () => {
    const got: number[] = [];
    const { result } = runClient(backend, function* (env) {
      const s0 = new Sigma0Client(env, PAGER);
      got.push(yield* s0.any(12, 0x3000_0000));
      got.push(yield* s0.any(12, 0x3000_1000));
      got.push(yield* s0.any(21, 0x3020_0000));
    });
    expect(result.dead).toEqual([]);
    expect(got[0]).not.toBe(got[1]);
    expect(got[2]! % 2 ** 21).toBe(0);
    for (const pa of got) expect(pa).toBeGreaterThanOrEqual(0);
  });

  it('refuses what is not RAM, bad flexpages and unknown requests precisely', () => {
    const got: number[] = [];
    const { result } = runClient(backend, function* (env) {
      const s0 = new Sigma0Client(env, PAGER);
      const kip = yield* env.kernelInterface();
      const reserved = kip.memory.find((d) => d.type === KipMemType.RESERVED)!;
      got.push(yield* s0.frame(reserved.base, 12, 0x2000_0000)); // the kernel's RAM or a hole
      const mmio = kip.memory.find((d) => d.type === KipMemType.DEDICATED)!;
      got.push(yield* s0.frame(mmio.base, 12, 0x2000_0000)); // device memory is not RAM
      got.push(yield* s0.mmio(mmio.base, 12, 0x2100_0000)); // but it is MMIO
      env.utcb.setMr(0, 0x55);
      env.utcb.setMr(1, memFpage(0, 12, 7));
      const tag = yield env.call(PAGER, msgtag(Proto.SIGMA0, 2));
      got.push((tag - (tag & 0xffff)) / 0x10000);
      env.utcb.setMr(0, Sigma0Op.FPAGE_RAM);
      env.utcb.setMr(1, memFpage(0x1000, 13, 7)); // misaligned for its size
      const tag2 = yield env.call(PAGER, msgtag(Proto.SIGMA0, 2));
      got.push((tag2 - (tag2 & 0xffff)) / 0x10000);
    });
    expect(result.dead).toEqual([]);
    expect(got).toEqual([-Errno.ENOENT, -Errno.ENOENT, expect.any(Number), -Errno.ENOSYS, -Errno.EINVAL]);
    expect(got[2]).toBeGreaterThanOrEqual(0);
  });

  it("resolves its clients' page faults one to one, and declines a page it gave away", () => {
    let value = 0;
    const { result } = runClient(backend, function* (env) {
      const kip = yield* env.kernelInterface();
      const ram = kip.memory.find((d) => d.type === KipMemType.CONVENTIONAL && d.size >= 1 << 22)!;
      const va = ram.base + 0x20_0000;
      yield* env.mem.writeU32(va + 8, 77); // fault: sigma0 maps RAM page va one to one
      value = yield* env.mem.readU32(va + 8);
      const s0 = new Sigma0Client(env, PAGER);
      const again = yield* s0.frame(va, 12, 0x2000_0000);
      expect(again).toBe(-Errno.EBUSY);
      yield* env.mem.readU32(ram.base + 0x30_0000 + 8); // sigma0 gives this one too
    });
    expect(value).toBe(77);
    expect(result.dead).toEqual([]);
  });
});
