/**
 * Devices as capabilities in a system image, on both machines: the console's input
 * routed to the holder of its input gate, the RTC and a virtio disk handed to the
 * programs that name them, and the names the root task gives programs' objects.
 */
import { MemoryBlockBackend } from '@pecan/devices';
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import { Errno, Kernel, type Platform, program, type ThreadEnv, type UserCode } from '@pecan/kernel';
import {
  bootSystem,
  ConsoleInput,
  consoleWrite,
  type DeviceAccess,
  defineSystem,
  NotInput,
  namedCap,
  openRtc,
  openVirtioBlkDevice,
  PECAN_MACHINES,
  programEnvironment,
  systemConsole,
  validateSystem,
} from '@pecan/servers';
import { describe, expect, it } from 'vitest';

const MiB = 1024 * 1024;
/** 2026-11-30 12:34:56 UTC. */
const EPOCH_MS = Date.UTC(2026, 10, 30, 12, 34, 56);

type Machine = Platform & { readonly uart: { receive(bytes: string): void; takeOutput(): string } };

const MACHINES = [
  {
    arch: 'x86_64' as const,
    create: (disks: readonly MemoryBlockBackend[] = []): Machine =>
      createX86Platform({ ramSize: 32 * MiB, rtcEpochMs: EPOCH_MS, disks }),
  },
  {
    arch: 'aarch64' as const,
    create: (disks: readonly MemoryBlockBackend[] = []): Machine =>
      createArmPlatform({ ramSize: 32 * MiB, rtcEpochMs: EPOCH_MS, disks }),
  },
];

const consoleProgram = {
  module: './console.ts',
  serves: ['out', 'in'],
  caps: { uart: { device: 'uart' } },
  priority: 20,
} as const;

describe.each(MACHINES)('system devices on $arch', ({ arch, create }) => {
  it('routes console input to the holder of the input gate, a line at a time', () => {
    const platform = create();
    const k = new Kernel({ platform });
    const system = defineSystem({
      machine: { arch },
      programs: {
        console: consoleProgram,
        reader: {
          module: './reader.ts',
          caps: { input: { gate: 'console/in' }, console: { gate: 'console/out' } },
        },
      },
    });
    const reader = program(function* (env: ThreadEnv): UserCode<void> {
      const out = yield* namedCap(env, 'console');
      const input = yield* ConsoleInput.open(env, yield* namedCap(env, 'input'));
      if (typeof input === 'number') throw new Error(`no input: ${input}`);
      yield* consoleWrite(env, out, 'ready\n');
      for (;;) {
        const line = yield* input.readLine();
        if (line === 'quit') return;
        yield* consoleWrite(env, out, `${line.toUpperCase()}\n`);
      }
    });
    const booted = bootSystem(k, system, { console: systemConsole, reader });
    expect(k.run().reason).toBe('idle');
    expect(platform.uart.takeOutput()).toBe('[reader] ready\n');
    // Typed while the system waits, as a terminal sends it: the reader sleeps on its
    // Irq in between, and the console wakes it when the UART's interrupt brings input.
    // A terminal's \r\n may arrive in two pieces: still one line ending.
    platform.uart.receive('hello\r');
    expect(k.run().reason).toBe('idle');
    platform.uart.receive('\nwor');
    expect(k.run().reason).toBe('idle');
    platform.uart.receive('ld\nquit\n');
    expect(k.run().reason).toBe('idle');
    expect(platform.uart.takeOutput()).toBe('[reader] HELLO\n[reader] WORLD\n');
    expect(booted.state.programs.get('reader')).toMatchObject({ status: 'exited', crashes: 0 });
  });

  it('refuses input through a gate other than the input gate with NotInput', () => {
    const k = new Kernel({ platform: create() });
    const system = defineSystem({
      machine: { arch },
      programs: {
        console: consoleProgram,
        writer: { module: './writer.ts', caps: { console: { gate: 'console/out' } } },
      },
    });
    let thrown: unknown = null;
    const writer = program(function* (env: ThreadEnv): UserCode<void> {
      try {
        yield* ConsoleInput.open(env, yield* namedCap(env, 'console'));
      } catch (e) {
        thrown = e;
      }
    });
    bootSystem(k, system, { console: systemConsole, writer });
    k.run();
    expect(thrown).toBeInstanceOf(NotInput);
  });

  it('hands the RTC to the program that names it: registers mapped, Irq bound to its line', () => {
    const k = new Kernel({ platform: create() });
    const system = defineSystem({
      machine: { arch },
      programs: { clock: { module: './clock.ts', caps: { rtc: { device: 'rtc' } } } },
    });
    let access: DeviceAccess | undefined;
    let time = '';
    let irqCap = -1;
    const clock = program(function* (env: ThreadEnv): UserCode<void> {
      const me = yield* programEnvironment(env);
      access = me.devices?.rtc;
      irqCap = me.caps.rtc ?? -1;
      if (access?.ports) {
        // MC146818: index at the first port, data at the second; BCD by default.
        const read = function* (reg: number): UserCode<string> {
          yield* env.io.out8(access!.ports!.base, reg);
          return (yield* env.io.in8(access!.ports!.base + 1)).toString(16).padStart(2, '0');
        };
        time = `${yield* read(4)}:${yield* read(2)}:${yield* read(0)}`;
      } else if (access?.mmio) {
        // PL031: RTCDR holds seconds since the epoch.
        const seconds = yield* env.mem.readU32(access.mmio.address);
        time = new Date(seconds * 1000).toISOString().slice(11, 19);
      }
      // The Irq is the program's: it attaches itself.
      expect(yield* env.irq(irqCap).attach(0x40)).toBe(0);
    });
    bootSystem(k, system, { clock });
    expect(k.run().dead).toEqual([]);
    expect(time).toBe('12:34:56');
    expect(access?.device).toBe(arch === 'x86_64' ? 'mc146818' : 'pl031');
    expect(access?.irq).toEqual({ cap: irqCap, line: arch === 'x86_64' ? 8 : 34 });
    expect(irqCap).toBe(512 * 4096);
  });

  it('reads the date through the RTC driver (openRtc), in BCD and binary, 24- and 12-hour modes', () => {
    const k = new Kernel({ platform: create() });
    const system = defineSystem({
      machine: { arch },
      programs: { clock: { module: './clock.ts', caps: { rtc: { device: 'rtc' } } } },
    });
    const dates: string[] = [];
    let name = '';
    const clock = program(function* (env: ThreadEnv): UserCode<void> {
      const access = (yield* programEnvironment(env)).devices!.rtc!;
      const rtc = openRtc(env, access);
      if (typeof rtc === 'string') throw new Error(rtc);
      name = rtc.name;
      dates.push(new Date(yield* rtc.now()).toISOString());
      if (access.ports) {
        // Register B: binary data, then 12-hour mode (the clock converts what it holds).
        for (const mode of [0x06, 0x04]) {
          yield* env.io.out8(access.ports.base, 0x0b);
          yield* env.io.out8(access.ports.base + 1, mode);
          dates.push(new Date(yield* rtc.now()).toISOString());
        }
      }
    });
    bootSystem(k, system, { clock });
    expect(k.run().dead).toEqual([]);
    const at = new Date(EPOCH_MS).toISOString();
    expect(dates).toEqual(arch === 'x86_64' ? [at, at, at] : [at]);
    expect(name).toBe(arch === 'x86_64' ? 'MC146818 at port 0x70' : 'PL031 at 0x9010000');
  });

  it('gives a device’s Irq with the rights the description names: without s it cannot attach', () => {
    const k = new Kernel({ platform: create() });
    const system = defineSystem({
      machine: { arch },
      programs: { clock: { module: './clock.ts', caps: { rtc: { device: 'rtc', rights: 'rw' } } } },
    });
    let attached = 0;
    const clock = program(function* (env: ThreadEnv): UserCode<void> {
      attached = yield* env.irq(yield* namedCap(env, 'rtc')).attach(0x40);
    });
    bootSystem(k, system, { clock });
    expect(k.run().dead).toEqual([]);
    expect(attached).toBe(-Errno.EPERM);
  });

  it('hands a disk to its driver program with DMA memory; requests complete by interrupt', async () => {
    const disk = new MemoryBlockBackend(128);
    const k = new Kernel({ platform: create([disk]) });
    const system = defineSystem({
      machine: { arch, disks: [{ size: '64K' }] },
      programs: { store: { module: './store.ts', caps: { disk: { device: 'disk0' } } } },
    });
    const log: string[] = [];
    const store = program(function* (env: ThreadEnv): UserCode<void> {
      const me = yield* programEnvironment(env);
      const driver = yield* openVirtioBlkDevice(env, me.devices!.disk!);
      if (typeof driver === 'string') throw new Error(driver);
      const sector = new Uint8Array(512).fill(0x5a);
      log.push(`write ${yield* driver.write(3, sector)}`);
      const back = yield* driver.read(3, 1);
      log.push(`read ${typeof back === 'number' ? back : back.every((b) => b === 0x5a)}`);
      log.push(`${driver.mode} ${driver.capacity} sectors, ${driver.interrupts} interrupts`);
    });
    bootSystem(k, system, { store });
    expect((await k.runAsync()).dead).toEqual([]);
    expect(log).toEqual(['write 0', 'read true', 'interrupt 128 sectors, 2 interrupts']);
  });

  it('refuses writes to a read-only disk with −EIO, and reads it', async () => {
    const image = new Uint8Array(128 * 512).fill(7);
    const k = new Kernel({ platform: create([new MemoryBlockBackend(image, { readOnly: true })]) });
    const system = defineSystem({
      machine: { arch, disks: [{ size: '64K', readOnly: true }] },
      programs: { store: { module: './store.ts', caps: { disk: { device: 'disk0' } } } },
    });
    const log: unknown[] = [];
    const store = program(function* (env: ThreadEnv): UserCode<void> {
      const driver = yield* openVirtioBlkDevice(env, (yield* programEnvironment(env)).devices!.disk!);
      if (typeof driver === 'string') throw new Error(driver);
      log.push(yield* driver.write(0, new Uint8Array(512)));
      const back = yield* driver.read(0, 1);
      log.push(typeof back === 'number' ? back : back[0]);
    });
    bootSystem(k, system, { store });
    expect((await k.runAsync()).dead).toEqual([]);
    expect(log).toEqual([-Errno.EIO, 7]);
    expect(image[0]).toBe(7);
  });

  it('names each program’s task and thread after the program, for traces and reports', () => {
    const k = new Kernel({ platform: create() });
    const system = defineSystem({
      machine: { arch },
      programs: { alpha: { module: './a.ts' }, beta: { module: './b.ts' } },
    });
    const idle = program(function* (env: ThreadEnv): UserCode<void> {
      yield env.wait();
    });
    bootSystem(k, system, { alpha: idle, beta: idle });
    k.run();
    const names = [...k.threads].map((t) => `${t.task?.name}/${t.name}`).sort();
    expect(names).toEqual(['alpha/alpha', 'beta/beta', 'root/root', 'root/root.pager', 'sigma0/sigma0']);
  });
});

describe('kernel-memory quotas', () => {
  it.each(MACHINES)('boot on $arch at exactly what validation allows', ({ arch, create }) => {
    const limit = PECAN_MACHINES.kernelMemory(2);
    const system = {
      machine: { arch },
      programs: {
        a: { module: './a.ts', kernelMemory: limit - MiB },
        b: { module: './b.ts', kernelMemory: MiB },
      },
    };
    expect(validateSystem(system)).toEqual([]);
    const k = new Kernel({ platform: create() });
    const idle = program(function* (env: ThreadEnv): UserCode<void> {
      yield env.wait();
    });
    bootSystem(k, system, { a: idle, b: idle });
    const r = k.run();
    expect(r.reason).toBe('idle');
    expect(r.dead).toEqual([]);
  });
});

describe('device capabilities in descriptions', () => {
  it('give a device to one program only', () => {
    const issues = validateSystem({
      machine: { arch: 'x86_64' },
      programs: {
        a: { module: './a.ts', caps: { uart: { device: 'uart' } } },
        b: { module: './b.ts', caps: { serial: { device: 'uart' } } },
      },
    });
    expect(issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      'programs.b.caps.serial.device: device "uart" is already given to programs.a: a device has one driver; give the others a gate to it',
    ]);
  });
});
