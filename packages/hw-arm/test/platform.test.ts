import {
  CapRights,
  capIndex,
  type ExceptionCause,
  type ExceptionState,
  Kernel,
  MemAccess,
  MemType,
  msgtag,
  Proto,
  program,
  type ThreadEnv,
  tagLabel,
  type UserCode,
  WalkFault,
} from '@pecan/kernel';
import { nullIpcRoundTripCycles } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import {
  ARM_COSTS,
  ArmAbortIss,
  ArmEc,
  ArmExceptionMr,
  armEcName,
  armExceptionSyndrome,
  createArmPlatform,
  decodeArmException,
  encodeEsr,
  VIRT_RAM_BASE,
  virtMemoryMap,
} from '../src/index';
import { CountingAllocator, translation } from './helpers';

/** Runs `writeExceptionFrame` into a plain array. */
function frame(cause: ExceptionCause, state: ExceptionState): { n: number; words: number[] } {
  const words: number[] = [];
  const n = createArmPlatform().writeExceptionFrame(cause, state, {
    setWord: (i, v) => {
      words[i] = v;
    },
  });
  // The fixed words; the register file after them is tested on its own.
  return { n, words: words.slice(0, ArmExceptionMr.WORDS) };
}

const STATE: ExceptionState = {
  ip: 0x40_1000,
  sp: 0x7fff_f000,
  flags: 0x6000_0000,
  gprs: new Float64Array(34),
};

describe('AArch64 platform: identity', () => {
  it('names the machine, the register file and Fiasco arm64 invoke ABI', () => {
    const p = createArmPlatform();
    expect(p.name).toBe('aarch64-virt');
    expect(p.arch).toBe('aarch64');
    expect(p.wordBits).toBe(64);
    expect(p.cpuHz).toBe(1_000_000_000);
    expect(p.defaultTimeSlice).toBe(10_000_000); // 10 ms at 1 GHz
    const names = p.registers.names;
    expect(names).toHaveLength(34);
    expect(names.slice(0, 31)).toEqual(Array.from({ length: 31 }, (_, i) => `X${i}`));
    expect(names.slice(31)).toEqual(['SP', 'PC', 'PSTATE']);
    expect([p.registers.ip, p.registers.sp, p.registers.flags]).toEqual(['PC', 'SP', 'PSTATE']);
    expect(p.registers.syscall).toEqual({ capAndFlags: 'X2', tag: 'X0', timeouts: 'X3', label: 'X1' });
    expect(p.utcbLayout.mrCount).toBe(63);
  });

  it('takes cpuHz and timeSlice options; the default slice follows the clock', () => {
    expect(createArmPlatform({ cpuHz: 1_900_000_000 }).defaultTimeSlice).toBe(19_000_000);
    expect(createArmPlatform({ timeSlice: 999 }).defaultTimeSlice).toBe(999);
    expect(() => createArmPlatform({ cpuHz: -1 })).toThrow(RangeError);
    expect(() => createArmPlatform({ timeSlice: Number.NaN })).toThrow(RangeError);
  });
});

describe('AArch64 platform: exception frames', () => {
  const cases: [string, ExceptionCause, number[]][] = [
    [
      'thrown → EC 0x00 unknown',
      { kind: 'thrown', error: new Error('x') },
      [0x0200_0000, 0, 0x40_1000, 0x7fff_f000, 0x6000_0000],
    ],
    [
      'bad-syscall → EC 0x00 unknown',
      { kind: 'bad-syscall', value: 'nope' },
      [0x0200_0000, 0, 0x40_1000, 0x7fff_f000, 0x6000_0000],
    ],
    [
      'triggered → EC 0x3C BRK #0',
      { kind: 'triggered' },
      [0xf200_0000, 0, 0x40_1000, 0x7fff_f000, 0x6000_0000],
    ],
    [
      'invalid-ip → EC 0x20 instruction abort from EL0, translation fault level 3',
      { kind: 'invalid-ip', ip: 0xdead_0000 },
      [0x8200_0007, 0xdead_0000, 0x40_1000, 0x7fff_f000, 0x6000_0000],
    ],
  ];
  it.each(cases)('%s', (_name, cause, expected) => {
    const { n, words } = frame(cause, STATE);
    expect(n).toBe(ArmExceptionMr.FULL);
    expect(words).toEqual(expected);
  });

  it('builds ESR values from EC, IL and ISS as unsigned 32-bit numbers', () => {
    expect(encodeEsr(ArmEc.SVC64, 0)).toBe(0x5600_0000);
    expect(encodeEsr(ArmEc.BRK64, 0x3e8)).toBe(0xf200_03e8);
    expect(encodeEsr(ArmEc.DABT_LOW, 0x47, false)).toBe(0x9000_0047);
  });

  it('decodeArmException round-trips every frame, from an array or a word source', () => {
    for (const [, cause] of cases) {
      const { words } = frame(cause, STATE);
      const d = decodeArmException(words);
      expect(decodeArmException({ word: (i) => words[i]! })).toEqual(d);
      expect([d.esr, d.far, d.pc, d.sp, d.pstate]).toEqual(words);
      expect(encodeEsr(d.ec, d.iss, d.il)).toBe(d.esr);
    }
    expect(decodeArmException(frame({ kind: 'invalid-ip', ip: 0x1234 }, STATE).words)).toEqual({
      ec: ArmEc.IABT_LOW,
      ecName: 'IABT_LOW',
      il: true,
      iss: 0b000111,
      esr: 0x8200_0007,
      far: 0x1234,
      pc: 0x40_1000,
      sp: 0x7fff_f000,
      pstate: 0x6000_0000,
    });
    expect(decodeArmException(frame({ kind: 'triggered' }, STATE).words).ecName).toBe('BRK64');
    expect(() => decodeArmException([0, 0, 0, 0])).toThrow(RangeError);
  });

  it('uses the architectural exception-class numbers', () => {
    expect(ArmEc).toMatchObject({
      UNKNOWN: 0x00,
      SVC64: 0x15,
      IABT_LOW: 0x20,
      PC_ALIGN: 0x22,
      DABT_LOW: 0x24,
      SP_ALIGN: 0x26,
      BRK64: 0x3c,
    });
    expect(armEcName(0x15)).toBe('SVC64');
    expect(armEcName(0x3e)).toBe('EC 0x3e');
  });

  it('readExceptionReply writes PC/SP/PSTATE back from 5 words, and the register file from a full frame', () => {
    const p = createArmPlatform();
    const reply = [0, 0, 0x50_0000, 0x6000, 0x8000_0000, ...Array.from({ length: 34 }, (_, i) => 200 + i)];
    const src = { word: (i: number) => reply[i]! };
    const fresh = () => ({ ...STATE, gprs: new Float64Array(34) });
    for (let words = 0; words < 5; words++) {
      const s = fresh();
      p.readExceptionReply(words, src, s);
      expect(s).toEqual(fresh());
    }
    const s = fresh();
    p.readExceptionReply(5, src, s);
    expect([s.ip, s.sp, s.flags]).toEqual([0x50_0000, 0x6000, 0x8000_0000]);
    expect(s.gprs).toEqual(new Float64Array(34));
    const t = fresh();
    p.readExceptionReply(ArmExceptionMr.FULL, src, t);
    // X0 is register 0, PSTATE register 33; the dedicated PC/SP/PSTATE words win.
    expect([...t.gprs]).toEqual(Array.from({ length: 34 }, (_, i) => 200 + i));
    expect([t.ip, t.sp, t.flags]).toEqual([0x50_0000, 0x6000, 0x8000_0000]);
  });
});

describe('AArch64 platform: memory exceptions (ESR_EL1 ISS for instruction and data aborts)', () => {
  // DDI 0487, ESR_EL1: EC 31:26 (IABT_LOW 0x20 → 0x8000_0000, DABT_LOW 0x24 → 0x9000_0000),
  // IL bit 25 (0x0200_0000), ISS 24:0: WnR bit 6 (data aborts), IFSC/DFSC 5:0 = 0b0001LL
  // translation fault at level LL, 0b0011LL permission fault at level LL.
  const { READ, WRITE, EXEC } = MemAccess;
  const { NOT_MAPPED, PROTECTION, BAD_ADDRESS } = WalkFault;
  const KERNEL_VA = 2 ** 64 - 2 ** 12; // 0xFFFF_FFFF_FFFF_F000, TTBR1 range
  const cases: [string, number, number, number, number, number, number][] = [
    // name, address, access, fault, level, ESR, FAR
    [
      'NOT_MAPPED read, level 0: DABT, DFSC 0b000100',
      0x8000_0000_0000,
      READ,
      NOT_MAPPED,
      0,
      0x9200_0004,
      0x8000_0000_0000,
    ],
    ['NOT_MAPPED read, level 1: DFSC 0b000101', 0x4000_0000, READ, NOT_MAPPED, 1, 0x9200_0005, 0x4000_0000],
    [
      'NOT_MAPPED write, level 2: WnR, DFSC 0b000110',
      0x20_1008,
      WRITE,
      NOT_MAPPED,
      2,
      0x9200_0046,
      0x20_1008,
    ],
    ['NOT_MAPPED read, level 3: DFSC 0b000111', 0x1234, READ, NOT_MAPPED, 3, 0x9200_0007, 0x1234],
    [
      'NOT_MAPPED execute, level 3: IABT, IFSC 0b000111, no WnR',
      0x40_0000,
      EXEC,
      NOT_MAPPED,
      3,
      0x8200_0007,
      0x40_0000,
    ],
    ['PROTECTION write, level 3: WnR, DFSC 0b001111', 0x5008, WRITE, PROTECTION, 3, 0x9200_004f, 0x5008],
    ['PROTECTION read, level 2: DFSC 0b001110', 0x20_0000, READ, PROTECTION, 2, 0x9200_000e, 0x20_0000],
    [
      'PROTECTION execute, level 1: IABT, IFSC 0b001101',
      0x4000_0000,
      EXEC,
      PROTECTION,
      1,
      0x8200_000d,
      0x4000_0000,
    ],
    [
      'PROTECTION at level 0 is reported at level 1 (no level-0 permission fault)',
      0x1000,
      READ,
      PROTECTION,
      0,
      0x9200_000d,
      0x1000,
    ],
    [
      'BAD_ADDRESS kernel half, read, level 0 → permission fault level 1',
      KERNEL_VA,
      READ,
      BAD_ADDRESS,
      0,
      0x9200_000d,
      KERNEL_VA,
    ],
    [
      'BAD_ADDRESS kernel half, write, level 3 → WnR, permission fault level 3',
      KERNEL_VA,
      WRITE,
      BAD_ADDRESS,
      3,
      0x9200_004f,
      KERNEL_VA,
    ],
    [
      'BAD_ADDRESS kernel half, execute → IABT, permission fault level 1',
      2 ** 64 - 2 ** 48,
      EXEC,
      BAD_ADDRESS,
      0,
      0x8200_000d,
      2 ** 64 - 2 ** 48,
    ],
    [
      'BAD_ADDRESS non-canonical 2^48, write → WnR, translation fault level 0',
      2 ** 48,
      WRITE,
      BAD_ADDRESS,
      2,
      0x9200_0044,
      2 ** 48,
    ],
    [
      'BAD_ADDRESS just below the kernel half → translation fault level 0',
      2 ** 64 - 2 ** 49,
      READ,
      BAD_ADDRESS,
      3,
      0x9200_0004,
      2 ** 64 - 2 ** 49,
    ],
    ['BAD_ADDRESS negative → translation fault level 0, FAR 0', -4096, READ, BAD_ADDRESS, 0, 0x9200_0004, 0],
    [
      'BAD_ADDRESS NaN, execute → IABT, translation fault level 0, FAR 0',
      Number.NaN,
      EXEC,
      BAD_ADDRESS,
      0,
      0x8200_0004,
      0,
    ],
    [
      'BAD_ADDRESS 2^64 (not a 64-bit address) → translation fault level 0, FAR 0',
      2 ** 64,
      READ,
      BAD_ADDRESS,
      0,
      0x9200_0004,
      0,
    ],
  ];
  it.each(cases)('%s', (_name, address, access, fault, level, esr, far) => {
    const cause: ExceptionCause = { kind: 'memory', address, access, fault, level };
    const { n, words } = frame(cause, STATE);
    expect(n).toBe(ArmExceptionMr.FULL);
    expect(words).toEqual([esr, far, 0x40_1000, 0x7fff_f000, 0x6000_0000]);
    expect(armExceptionSyndrome(cause)).toEqual({ esr, far });
    const d = decodeArmException(words);
    expect(d.ecName).toBe(access === EXEC ? 'IABT_LOW' : 'DABT_LOW');
    expect(d.il).toBe(true);
    expect((d.iss & ArmAbortIss.WNR) !== 0).toBe(access === WRITE);
  });

  it('the ISS field constants: WnR is bit 6, the FSC bits 5:0', () => {
    expect(ArmAbortIss).toEqual({ FSC_MASK: 0x3f, WNR: 0x40 });
  });
});

describe('AArch64 platform: memory', () => {
  const MiB = 1024 * 1024;
  const DEVICES = [
    { base: 0x0800_0000, size: 0x1_0000, kind: 'mmio', name: 'GICv2 distributor' },
    { base: 0x0801_0000, size: 0x1_0000, kind: 'mmio', name: 'GICv2 CPU interface' },
    { base: 0x0900_0000, size: 0x1000, kind: 'mmio', name: 'PL011 UART' },
    { base: 0x0901_0000, size: 0x1000, kind: 'mmio', name: 'PL031 RTC' },
    { base: 0x0a00_0000, size: 32 * 0x200, kind: 'mmio', name: 'virtio-mmio (32 transports)' },
  ];

  it('has 128 MiB of RAM at 0x4000_0000 by default, the AArch64 tables and the virt memory map', () => {
    const m = createArmPlatform().memory!;
    expect(m.ram.base).toBe(0x4000_0000);
    expect(m.ram.size).toBe(128 * MiB);
    expect(m.ram.buffer.byteLength).toBe(128 * MiB);
    expect(m.pageTables.name).toBe('aarch64 stage-1 4K');
    expect(m.regions).toEqual([...DEVICES, { base: 0x4000_0000, size: 128 * MiB, kind: 'ram', name: 'RAM' }]);
    expect(m.regions).toEqual(virtMemoryMap());
  });

  it('takes a ramSize option', () => {
    const m = createArmPlatform({ ramSize: 16 * MiB }).memory!;
    expect(m.ram).toMatchObject({ base: VIRT_RAM_BASE, size: 16 * MiB });
    expect(m.ram.buffer.byteLength).toBe(16 * MiB);
    expect(m.regions.at(-1)).toEqual({ base: 0x4000_0000, size: 16 * MiB, kind: 'ram', name: 'RAM' });
    expect(createArmPlatform({ ramSize: 4096 }).memory!.ram.size).toBe(4096);
  });

  it('refuses a bad RAM size with a RangeError that says why', () => {
    for (const bad of [0, -4096, 4097, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 256 * 2 ** 30]) {
      expect(() => createArmPlatform({ ramSize: bad })).toThrow(RangeError);
    }
    expect(() => createArmPlatform({ ramSize: 4097 })).toThrow(
      /RAM size 4097: must be a positive multiple of 4 KiB/,
    );
    expect(() => createArmPlatform({ ramSize: 256 * 2 ** 30 })).toThrow(/at most 255 GiB/);
  });

  it('lists regions in address order, without overlaps, RAM inside the RAM buffer', () => {
    const m = createArmPlatform({ ramSize: 8 * MiB }).memory!;
    for (let i = 1; i < m.regions.length; i++) {
      const prev = m.regions[i - 1]!;
      expect(m.regions[i]!.base).toBeGreaterThanOrEqual(prev.base + prev.size);
    }
    for (const r of m.regions.filter((r) => r.kind === 'ram')) {
      expect(r.base).toBeGreaterThanOrEqual(m.ram.base);
      expect(r.base + r.size).toBeLessThanOrEqual(m.ram.base + m.ram.size);
    }
    expect(m.regions.map((r) => r.kind)).toEqual(['mmio', 'mmio', 'mmio', 'mmio', 'mmio', 'ram']);
  });

  it('its page tables live in its RAM and map device memory; each platform has its own RAM', () => {
    const p = createArmPlatform({ ramSize: 4 * MiB });
    const { ram, pageTables } = p.memory!;
    const alloc = new CountingAllocator(ram);
    const root = pageTables.createRoot(alloc)!;
    expect(root).toBe(VIRT_RAM_BASE);
    const uart = 0x0900_0000;
    expect(
      pageTables.map(root, 0x1000_0000, uart, 12, MemAccess.READ | MemAccess.WRITE, alloc, MemType.DEVICE),
    ).toBe(true);
    expect(pageTables.walk(root, 0x1000_0004, MemAccess.WRITE, translation())).toMatchObject({
      fault: 0,
      frame: uart,
    });
    expect(createArmPlatform({ ramSize: 4 * MiB }).memory!.ram.buffer).not.toBe(ram.buffer);
  });
});

describe('AArch64 platform: cost-model calibration', () => {
  // seL4 (sel4bench), AArch64 Cortex-A57: call 413 + reply 426 cycles.
  const SEL4_ROUND_TRIP = 413 + 426;
  const c = ARM_COSTS;
  const calibrated = 2 * (c.kernelEntry + c.ipc + c.threadSwitch + c.spaceSwitch);

  it('the calibrated null round trip is 2 × (60 + 180 + 90 + 90) = 840 cycles', () => {
    expect(calibrated).toBe(840);
    expect(Math.abs(calibrated - SEL4_ROUND_TRIP) / SEL4_ROUND_TRIP).toBeLessThanOrEqual(0.1);
  });

  it('each direction (420 cycles) is within 25 % of seL4 call 413 and reply 426', () => {
    const oneWay = calibrated / 2;
    expect(Math.abs(oneWay - 413) / 413).toBeLessThanOrEqual(0.25);
    expect(Math.abs(oneWay - 426) / 426).toBeLessThanOrEqual(0.25);
  });

  it('a two-task ping-pong costs exactly the calibrated figure per round trip', () => {
    const n = 200;
    const perRoundTrip = nullIpcRoundTripCycles(createArmPlatform(), n);
    expect(perRoundTrip).toBe(calibrated);
    expect(perRoundTrip).toBeGreaterThanOrEqual(SEL4_ROUND_TRIP * 0.9);
    expect(perRoundTrip).toBeLessThanOrEqual(SEL4_ROUND_TRIP * 1.1);
  });
});

describe('AArch64 platform: exception IPC end to end', () => {
  it('a thrown error reaches the handler as EC 0; a full reply restarts the thread at a new PC', () => {
    const k = new Kernel({ platform: createArmPlatform() });
    const t = k.createTask('t');
    const frames: ReturnType<typeof decodeArmException>[] = [];
    const log: string[] = [];
    let recoveryIp = 0;
    const recovery = program(function* recovery(env: ThreadEnv): UserCode {
      log.push(`recovered with sp=${env.arg}`);
    });
    const handler = k.createThread(
      t,
      program(function* handler(env: ThreadEnv): UserCode {
        let tag: number = yield env.wait();
        for (;;) {
          expect(tagLabel(tag)).toBe(Proto.EXCEPTION);
          frames.push(decodeArmException(env.utcb));
          env.utcb.setMr(ArmExceptionMr.PC, recoveryIp);
          env.utcb.setMr(ArmExceptionMr.SP, 4242);
          env.utcb.setMr(ArmExceptionMr.PSTATE, 0x3c0); // EL0t with D, A, I, F masked
          tag = yield env.replyAndWait(msgtag(0, ArmExceptionMr.WORDS));
        }
      }),
      { name: 'handler', priority: 10 },
    );
    k.mapCap(t, 20, k.createGate(handler, 0x50, 'exc'), CapRights.RW);
    const w = k.createThread(
      t,
      program(function* worker(env: ThreadEnv): UserCode {
        recoveryIp = env.addressOf(recovery);
        yield env.compute(10);
        throw new Error('boom');
      }),
      { name: 'worker', exceptionHandler: capIndex(20), arg: 77 },
    );
    const entryIp = w.ip;
    const r = k.run();
    expect(r.reason).toBe('idle');
    expect(frames).toEqual([
      {
        ec: 0,
        ecName: 'UNKNOWN',
        il: true,
        iss: 0,
        esr: 0x0200_0000,
        far: 0,
        pc: entryIp,
        sp: 77,
        pstate: 0,
      },
    ]);
    expect(log).toEqual(['recovered with sp=4242']);
    expect(w.ip).toBe(recoveryIp);
    expect(w.flags).toBe(0x3c0);
    expect(w.deathReason).toBe('exited');
  });

  it('a restart at an address without code reaches the handler as an instruction abort with FAR', () => {
    const k = new Kernel({ platform: createArmPlatform() });
    const t = k.createTask('t');
    const frames: ReturnType<typeof decodeArmException>[] = [];
    const handler = k.createThread(
      t,
      program(function* handler(env: ThreadEnv): UserCode {
        yield env.wait();
        frames.push(decodeArmException(env.utcb));
        env.utcb.setMr(ArmExceptionMr.PC, 0xdead0);
        yield env.replyAndWait(msgtag(0, ArmExceptionMr.WORDS));
        frames.push(decodeArmException(env.utcb));
        yield env.replyAndWait(msgtag(1, 0)); // give up: the worker stays dead
      }),
      { name: 'handler', priority: 10 },
    );
    k.mapCap(t, 20, k.createGate(handler, 0x50, 'exc'), CapRights.RW);
    const w = k.createThread(
      t,
      program(function* worker(): UserCode {
        throw new Error('first');
      }),
      { name: 'worker', exceptionHandler: capIndex(20), arg: 5 },
    );
    k.run();
    expect(frames.map((f) => f.ecName)).toEqual(['UNKNOWN', 'IABT_LOW']);
    expect(frames[1]).toMatchObject({
      ec: 0x20,
      iss: 0x07,
      esr: 0x8200_0007,
      far: 0xdead0,
      pc: 0xdead0,
      sp: 5,
    });
    expect(w.deathReason).toBe('exception');
  });
});
