import {
  type decodeKip,
  Kernel,
  KIP_MAGIC,
  KipMemType,
  KipWord,
  program,
  RESERVED_REGION_SIZE,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

describe.each(BACKENDS)('UTCBs and the KIP on $name', (backend) => {
  it("places each thread's UTCB in its task's UTCB area, readable as memory", () => {
    const k = new Kernel({ platform: backend.create() });
    const task = k.createTask('t');
    const seen: { addr: number; mr0: bigint; mr1: number }[] = [];
    const body = program(function* (env) {
      env.utcb.setMr(0, 0x1234_5678_9abc);
      env.utcb.setWord64(1, 0xfedc_ba98_7654_3210n);
      const mr0 = yield* env.mem.readU64(env.utcbAddress);
      const hi = yield* env.mem.readU32(env.utcbAddress + 12);
      seen.push({ addr: env.utcbAddress, mr0, mr1: hi });
    });
    const t1 = k.createThread(task, body);
    const t2 = k.createThread(task, body, { slot: 20 });
    const r = k.run();
    expect(r.dead).toEqual([]);
    const mem = k.memory!;
    expect(t1.utcbAddress).toBeGreaterThanOrEqual(mem.utcbArea);
    expect(t1.utcbAddress).toBeLessThan(mem.userTop);
    expect(t2.utcbAddress).toBe(t1.utcbAddress + k.platform.utcbLayout.sizeWords * 8);
    expect(seen).toEqual([
      { addr: t1.utcbAddress, mr0: 0x1234_5678_9abcn, mr1: 0xfedc_ba98 },
      { addr: t2.utcbAddress, mr0: 0x1234_5678_9abcn, mr1: 0xfedc_ba98 },
    ]);
  });

  it('the UTCB area and KIP cannot be mapped over or unmapped by user code', () => {
    const k = new Kernel({ platform: backend.create() });
    const task = k.createTask('t');
    const mem = k.memory!;
    expect(task.space!.mappable(mem.reserved.base, 4096)).toBe(false);
    expect(task.space!.mappable(mem.reserved.base - 4096, 4096)).toBe(true);
    expect(mem.reserved.size).toBe(RESERVED_REGION_SIZE);
  });

  it('reports the memory map in the KIP, mapped read-only into every task', () => {
    const k = new Kernel({ platform: backend.create() });
    const task = k.createTask('t');
    let kip: ReturnType<typeof decodeKip> | null = null;
    let writeDied = false;
    k.createThread(
      task,
      program(function* (env) {
        kip = yield* env.kernelInterface();
      }),
    );
    const writer = k.createThread(
      task,
      program(function* (env) {
        yield* env.mem.writeU32(env.kipAddress, 0);
      }),
      { slot: 21 },
    );
    k.run();
    writeDied = writer.deathReason === 'exception';
    expect(writeDied).toBe(true);
    expect(k.memory!.kipWord(KipWord.MAGIC)).toBe(KIP_MAGIC);
    const decoded = kip as ReturnType<typeof decodeKip> | null;
    expect(decoded).not.toBeNull();
    const regions = k.memory!.regions;
    expect(decoded!.memory).toEqual(
      regions.map((r) => ({
        base: r.base,
        size: r.size,
        type:
          r.kind === 'ram'
            ? KipMemType.CONVENTIONAL
            : r.kind === 'mmio'
              ? KipMemType.DEDICATED
              : KipMemType.RESERVED,
      })),
    );
    expect(decoded!.pageOrders).toEqual([...k.memory!.format.pageOrders].sort((a, b) => a - b));
    expect(decoded!.utcbArea).toBe(k.memory!.utcbArea);
    // The RAM the kernel keeps is reported as reserved, at the top of RAM.
    const kernelRam = regions.find((r) => r.name === 'kernel memory')!;
    expect(kernelRam.kind).toBe('reserved');
  });
});

describe('the devices in the KIP', () => {
  it("lists the PC's UART, RTC and timer, as the platform reports them", async () => {
    const { createX86Platform } = await import('@pecan/hw-x86');
    const k = new Kernel({ platform: createX86Platform({ ramSize: 16 * 1024 * 1024 }) });
    const t = k.createTask('t');
    let kip: ReturnType<typeof decodeKip> | null = null;
    k.createThread(
      t,
      program(function* (env) {
        kip = yield* env.kernelInterface();
      }),
    );
    k.run();
    const d = kip as ReturnType<typeof decodeKip> | null;
    expect(d!.devices).toEqual([
      { name: 'ns16550a', mmio: null, ports: { base: 0x3f8, count: 8 }, irq: 4, virtioId: 0 },
      { name: 'mc146818', mmio: null, ports: { base: 0x70, count: 2 }, irq: 8, virtioId: 0 },
    ]);
    expect([d!.timerHz, d!.timerIrq]).toEqual([1_000_000_000, 0xec]);
    expect(d!.ioPorts).toBe(65536);
  });

  it("lists virt's PL011, PL031 and generic timer", async () => {
    const { createArmPlatform } = await import('@pecan/hw-arm');
    const k = new Kernel({ platform: createArmPlatform({ ramSize: 16 * 1024 * 1024 }) });
    const t = k.createTask('t');
    let kip: ReturnType<typeof decodeKip> | null = null;
    k.createThread(
      t,
      program(function* (env) {
        kip = yield* env.kernelInterface();
      }),
    );
    k.run();
    const d = kip as ReturnType<typeof decodeKip> | null;
    expect(d!.devices).toEqual([
      { name: 'pl011', mmio: { base: 0x0900_0000, size: 0x1000 }, ports: null, irq: 33, virtioId: 0 },
      { name: 'pl031', mmio: { base: 0x0901_0000, size: 0x1000 }, ports: null, irq: 34, virtioId: 0 },
    ]);
    expect([d!.timerHz, d!.timerIrq]).toEqual([62_500_000, 30]);
    expect(d!.ioPorts).toBe(0);
  });
});
