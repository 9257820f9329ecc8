import {
  CapRights,
  capIndex,
  type ExceptionCause,
  type ExceptionState,
  Kernel,
  msgtag,
  Proto,
  program,
  type ThreadEnv,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { nullIpcRoundTripCycles } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import {
  ARM_COSTS,
  ArmEc,
  ArmExceptionMr,
  armEcName,
  createArmPlatform,
  decodeArmException,
  encodeEsr,
} from '../src/index';

/** Runs `writeExceptionFrame` into a plain array. */
function frame(cause: ExceptionCause, state: ExceptionState): { n: number; words: number[] } {
  const words: number[] = [];
  const n = createArmPlatform().writeExceptionFrame(cause, state, {
    setWord: (i, v) => {
      words[i] = v;
    },
  });
  return { n, words };
}

const STATE: ExceptionState = { ip: 0x40_1000, sp: 0x7fff_f000, flags: 0x6000_0000 };

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
    expect(n).toBe(5);
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

  it('readExceptionReply writes PC/SP/PSTATE back only from a full frame', () => {
    const p = createArmPlatform();
    const reply = [0, 0, 0x50_0000, 0x6000, 0x8000_0000];
    const src = { word: (i: number) => reply[i]! };
    for (let words = 0; words < 5; words++) {
      const s = { ...STATE };
      p.readExceptionReply(words, src, s);
      expect(s).toEqual(STATE);
    }
    const s = { ...STATE };
    p.readExceptionReply(5, src, s);
    expect(s).toEqual({ ip: 0x50_0000, sp: 0x6000, flags: 0x8000_0000 });
    const t = { ...STATE };
    p.readExceptionReply(63, src, t);
    expect(t).toEqual(s);
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
