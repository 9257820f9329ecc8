/**
 * A user-level virtio-blk driver (`openVirtioBlk` from @pecan/servers) on both machines,
 * end to end: the driver finds the disk in the KIP, gets its registers and DMA frames
 * from sigma0, runs real split virtqueues in simulated RAM, and sleeps on the
 * transport's interrupt, bound through the Icu, while the device's host work (a promise)
 * completes; `Kernel.runAsync` idles the machine until then.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BlockBackend, FileBlockBackend, MemoryBlockBackend } from '@pecan/devices';
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import {
  CapRights,
  capIndex,
  Errno,
  FixedSlot,
  Kernel,
  type KipDevice,
  type Platform,
  program,
  type ThreadEnv,
  type UserCode,
} from '@pecan/kernel';
import { attachSigma0, bootSigma0, openVirtioBlk, Sigma0Client, type VirtioBlkDriver } from '@pecan/servers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

const MiB = 1024 * 1024;
const SECTOR = 512;
const PAGER = capIndex(FixedSlot.PAGER);
/** Where the driver task holds its Irq capability. */
const IRQ_SLOT = 20;
/** Where the driver maps registers, queue and data frame. */
const WINDOW = 0x30_0000_0000;

/** What each back end's machine needs for disks, and where it puts the first one. */
interface DiskMachine {
  readonly create: (disks: readonly BlockBackend[]) => Platform;
  /** Physical base and interrupt line of transport 0; transport i is 0x200·i and i lines on. */
  readonly base: number;
  readonly irq: number;
}

// backends.ts makes machines without disks; the same two machines, with disks.
const MACHINES: Readonly<Record<string, DiskMachine>> = {
  x86_64: { create: (disks) => createX86Platform({ ramSize: 32 * MiB, disks }), base: 0xfeb0_0000, irq: 16 },
  aarch64: { create: (disks) => createArmPlatform({ ramSize: 32 * MiB, disks }), base: 0x0a00_0000, irq: 48 },
};

/** `n` bytes of a recognisable pattern. */
function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed + (i >> 9)) & 0xff);
}

/** A machine with sigma0 and one driver task (Icu, an Irq, sigma0 as pager) running `main`. */
function boot(
  machine: DiskMachine,
  disks: readonly BlockBackend[],
  main: (env: ThreadEnv, disk: VirtioBlkDriver) => UserCode<void>,
  options: { interrupts?: boolean } = {},
) {
  const platform = machine.create(disks);
  const k = new Kernel({ platform });
  const s0 = bootSigma0(k);
  const task = k.createTask('blk-driver', { icu: true });
  attachSigma0(k, s0, task);
  k.mapCap(task, IRQ_SLOT, k.createIrq('virtio-blk'), CapRights.ALL);
  const opened: { disk: VirtioBlkDriver | string | null } = { disk: null };
  k.createThread(
    task,
    program(function* driverMain(env: ThreadEnv): UserCode {
      const kip = yield* env.kernelInterface();
      const disk = yield* openVirtioBlk(env, kip, new Sigma0Client(env, PAGER), {
        window: WINDOW,
        ...(options.interrupts === false ? {} : { irqCap: capIndex(IRQ_SLOT) }),
      });
      opened.disk = disk;
      if (typeof disk !== 'string') yield* main(env, disk);
    }),
    { name: 'blk', pager: PAGER, priority: 10 },
  );
  // What the kernel did, in order: interrupt IPCs and the moments the CPU went idle.
  const trace: string[] = [];
  k.events.on('ipc', (e) => {
    if (e.kind === 'irq') trace.push(`irq→${e.to.name}`);
  });
  k.events.on('schedule', (e) => {
    if (e.to === null) trace.push('idle');
  });
  return { k, platform, opened, trace };
}

/** The driver `boot` opened, failing the test with the driver's reason if it did not. */
function driverOf(opened: { disk: VirtioBlkDriver | string | null }): VirtioBlkDriver {
  const d = opened.disk;
  if (d === null || typeof d === 'string') throw new Error(`driver not opened: ${d}`);
  return d;
}

describe.each(BACKENDS)('a user-level virtio-blk driver on $name', (backend) => {
  const machine = MACHINES[backend.name];
  if (!machine) throw new Error(`no disk-capable machine for back end ${backend.name}`);

  it('writes sectors through the virtqueue and reads them back, sleeping on the interrupt', async () => {
    const disk = new MemoryBlockBackend(64);
    const data = pattern(12 * SECTOR, 7); // 12 sectors: two requests of 8 and 4
    const results: (number | Uint8Array)[] = [];
    const { k, opened, trace } = boot(machine, [disk], function* (_env, d) {
      results.push(yield* d.write(5, data));
      results.push(yield* d.read(5, 12));
      results.push(yield* d.read(0, 1));
    });
    const r = await k.runAsync();
    const d = driverOf(opened);
    expect(r.dead).toEqual([]);
    expect(r.reason).toBe('idle'); // only sigma0 is left, waiting for clients
    expect(d.capacity).toBe(64);
    expect(d.mode).toBe('interrupt');
    expect(d.features).toBe(1n << 32n);
    expect(results[0]).toBe(0);
    expect(results[1]).toEqual(data);
    expect(results[2]).toEqual(new Uint8Array(SECTOR));
    // The host's disk holds the bytes the driver wrote, and nothing around them.
    expect(disk.data.subarray(5 * SECTOR, 17 * SECTOR)).toEqual(data);
    expect(disk.data.subarray(0, 5 * SECTOR).every((b) => b === 0)).toBe(true);
    expect(disk.data.subarray(17 * SECTOR).every((b) => b === 0)).toBe(true);
    // Five requests, each completed by an interrupt that found the CPU idle.
    expect(d.completed).toBe(5);
    const irqs = trace.filter((e) => e.startsWith('irq'));
    expect(irqs).toEqual(Array(5).fill('irq→blk'));
    expect(d.interrupts).toBe(5);
    trace.forEach((e, i) => {
      if (e.startsWith('irq')) expect(trace[i - 1]).toBe('idle');
    });
  });

  it('returns −EIO when the device fails a request past the capacity, and goes on working', async () => {
    const disk = new MemoryBlockBackend(16);
    disk.data.set(pattern(SECTOR, 3), 15 * SECTOR);
    const results: (number | Uint8Array)[] = [];
    const { k, opened } = boot(machine, [disk], function* (_env, d) {
      results.push(yield* d.read(d.capacity, 1)); // wholly past the end
      results.push(yield* d.read(d.capacity - 1, 2)); // straddles the end
      results.push(yield* d.write(d.capacity, new Uint8Array(SECTOR)));
      results.push(yield* d.read(d.capacity - 1, 1)); // the last sector is fine
      results.push(yield* d.read(0, 0)); // the driver's own check
      results.push(yield* d.write(0, new Uint8Array(100)));
    });
    const r = await k.runAsync();
    expect(r.dead).toEqual([]);
    expect(results).toEqual([
      -Errno.EIO,
      -Errno.EIO,
      -Errno.EIO,
      pattern(SECTOR, 3),
      -Errno.EINVAL,
      -Errno.EINVAL,
    ]);
    expect(driverOf(opened).completed).toBe(4);
  });

  it("finds the disks in the KIP at the machine's transport addresses and lines", async () => {
    let devices: readonly KipDevice[] = [];
    const { k, opened } = boot(
      machine,
      [new MemoryBlockBackend(8), new MemoryBlockBackend(16)],
      function* (env) {
        devices = (yield* env.kernelInterface()).devices;
      },
    );
    await k.runAsync();
    expect(devices.filter((dev) => dev.name === 'virtio-mmio')).toEqual([
      {
        name: 'virtio-mmio',
        mmio: { base: machine.base, size: 0x200 },
        ports: null,
        irq: machine.irq,
        virtioId: 2,
      },
      {
        name: 'virtio-mmio',
        mmio: { base: machine.base + 0x200, size: 0x200 },
        ports: null,
        irq: machine.irq + 1,
        virtioId: 2,
      },
    ]);
    // The driver takes the first.
    const d = driverOf(opened);
    expect([d.base, d.irq, d.capacity]).toEqual([machine.base, machine.irq, 8]);
    expect(d.name).toBe(`virtio-blk at 0x${machine.base.toString(16)}, irq ${machine.irq}`);
  });

  it('reports a machine without a disk instead of failing', async () => {
    const { k, opened } = boot(machine, [], function* () {});
    const r = await k.runAsync();
    expect(r.dead).toEqual([]);
    expect(opened.disk).toBe('the KIP lists no virtio block device');
  });

  it('polls the used ring when it has no Irq, while the host runs the kernel in slices', async () => {
    const disk = new MemoryBlockBackend(8);
    const data = pattern(2 * SECTOR, 99);
    const results: (number | Uint8Array)[] = [];
    const { k, platform, opened, trace } = boot(
      machine,
      [disk],
      function* (_env, d) {
        results.push(yield* d.write(2, data));
        results.push(yield* d.read(2, 2));
      },
      { interrupts: false },
    );
    // A polling thread never blocks, so runAsync would never wait: let the host work
    // progress between slices of virtual time.
    for (let slice = 0; slice < 1000; slice++) {
      const r = k.run({ maxTime: k.now() + 200_000 });
      if (r.reason !== 'time-limit') break;
      await platform.hostEvents?.settled();
    }
    expect(results).toEqual([0, data]);
    expect(disk.data.subarray(2 * SECTOR, 4 * SECTOR)).toEqual(data);
    const d = driverOf(opened);
    expect([d.mode, d.interrupts, d.completed]).toEqual(['poll', 0, 2]);
    expect(trace.filter((e) => e.startsWith('irq'))).toEqual([]);
  });

  describe('on a disk image file', () => {
    let dir = '';
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'pecan-virtio-blk-driver-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('keeps what one kernel wrote for the next', async () => {
      const path = join(dir, 'disk.img');
      const data = pattern(3 * SECTOR, 42);

      const first = await FileBlockBackend.open(path, { size: 32 * SECTOR });
      const wrote: number[] = [];
      const one = boot(machine, [first], function* (_env, d) {
        wrote.push(yield* d.write(20, data));
      });
      expect((await one.k.runAsync()).dead).toEqual([]);
      await first.close();
      expect(wrote).toEqual([0]);

      const second = await FileBlockBackend.open(path);
      const read: (number | Uint8Array)[] = [];
      const two = boot(machine, [second], function* (_env, d) {
        read.push(yield* d.read(20, 3));
        read.push(yield* d.read(19, 1));
      });
      try {
        expect((await two.k.runAsync()).dead).toEqual([]);
      } finally {
        await second.close();
      }
      expect(read).toEqual([data, new Uint8Array(SECTOR)]);
      expect(driverOf(two.opened).interrupts).toBe(2);
    });
  });
});
