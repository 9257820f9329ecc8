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
  createX86Platform,
  decodeX86Exception,
  X86_COSTS,
  X86ExceptionMr,
  X86Vector,
  x86VectorName,
} from '../src/index';

/** Runs `writeExceptionFrame` into a plain array. */
function frame(cause: ExceptionCause, state: ExceptionState): { n: number; words: number[] } {
  const words: number[] = [];
  const n = createX86Platform().writeExceptionFrame(cause, state, {
    setWord: (i, v) => {
      words[i] = v;
    },
  });
  return { n, words };
}

const STATE: ExceptionState = { ip: 0x40_1000, sp: 0x7fff_f000, flags: 0x202 };

describe('x86-64 platform: identity', () => {
  it('names the machine, the register file and Fiasco amd64 invoke ABI', () => {
    const p = createX86Platform();
    expect(p.name).toBe('x86_64-pc');
    expect(p.arch).toBe('x86_64');
    expect(p.wordBits).toBe(64);
    expect(p.cpuHz).toBe(2_000_000_000);
    expect(p.defaultTimeSlice).toBe(20_000_000); // 10 ms at 2 GHz
    expect(p.registers.names).toEqual([
      'RAX',
      'RBX',
      'RCX',
      'RDX',
      'RSI',
      'RDI',
      'RBP',
      'RSP',
      'R8',
      'R9',
      'R10',
      'R11',
      'R12',
      'R13',
      'R14',
      'R15',
      'RIP',
      'RFLAGS',
    ]);
    expect([p.registers.ip, p.registers.sp, p.registers.flags]).toEqual(['RIP', 'RSP', 'RFLAGS']);
    expect(p.registers.syscall).toEqual({ capAndFlags: 'RDX', tag: 'RAX', timeouts: 'R8', label: 'RSI' });
    expect(p.utcbLayout.mrCount).toBe(63);
  });

  it('takes cpuHz and timeSlice options; the default slice follows the clock', () => {
    expect(createX86Platform({ cpuHz: 3_000_000_000 }).defaultTimeSlice).toBe(30_000_000);
    expect(createX86Platform({ timeSlice: 1234 }).defaultTimeSlice).toBe(1234);
    expect(() => createX86Platform({ cpuHz: 0 })).toThrow(RangeError);
    expect(() => createX86Platform({ timeSlice: 1.5 })).toThrow(RangeError);
  });
});

describe('x86-64 platform: exception frames', () => {
  const cases: [string, ExceptionCause, number[]][] = [
    ['thrown → #UD', { kind: 'thrown', error: new Error('x') }, [6, 0, 0, 0x40_1000, 0x7fff_f000, 0x202]],
    ['bad-syscall → #UD', { kind: 'bad-syscall', value: 42 }, [6, 0, 0, 0x40_1000, 0x7fff_f000, 0x202]],
    ['triggered → #BP', { kind: 'triggered' }, [3, 0, 0, 0x40_1000, 0x7fff_f000, 0x202]],
    [
      'invalid-ip → #PF, fetch from a not-present user page',
      { kind: 'invalid-ip', ip: 0xdead_0000 },
      [14, 0x14, 0xdead_0000, 0x40_1000, 0x7fff_f000, 0x202],
    ],
  ];
  it.each(cases)('%s', (_name, cause, expected) => {
    const { n, words } = frame(cause, STATE);
    expect(n).toBe(6);
    expect(words).toEqual(expected);
  });

  it('reports the flags the state holds (the kernel starts threads at 0, not 0x202)', () => {
    expect(frame({ kind: 'thrown', error: 0 }, { ip: 1, sp: 2, flags: 0 }).words[X86ExceptionMr.RFLAGS]).toBe(
      0,
    );
  });

  it('decodeX86Exception round-trips every frame, from an array or a word source', () => {
    for (const [, cause] of cases) {
      const { words } = frame(cause, STATE);
      const d = decodeX86Exception(words);
      expect(decodeX86Exception({ word: (i) => words[i]! })).toEqual(d);
      expect([d.vector, d.errorCode, d.cr2, d.rip, d.rsp, d.rflags]).toEqual(words);
    }
    const pf = decodeX86Exception(frame({ kind: 'invalid-ip', ip: 0x1234 }, STATE).words);
    expect(pf).toEqual({
      vector: X86Vector.PF,
      name: '#PF',
      errorCode: 0x14,
      cr2: 0x1234,
      rip: 0x40_1000,
      rsp: 0x7fff_f000,
      rflags: 0x202,
    });
    expect(decodeX86Exception(frame({ kind: 'thrown', error: 1 }, STATE).words).name).toBe('#UD');
    expect(() => decodeX86Exception([6, 0, 0])).toThrow(RangeError);
  });

  it('names every vector', () => {
    expect(Object.values(X86Vector).map((v) => [v, x86VectorName(v)])).toEqual([
      [0, '#DE'],
      [1, '#DB'],
      [2, 'NMI'],
      [3, '#BP'],
      [4, '#OF'],
      [5, '#BR'],
      [6, '#UD'],
      [7, '#NM'],
      [8, '#DF'],
      [10, '#TS'],
      [11, '#NP'],
      [12, '#SS'],
      [13, '#GP'],
      [14, '#PF'],
      [16, '#MF'],
      [17, '#AC'],
      [18, '#MC'],
      [19, '#XM'],
    ]);
    expect(x86VectorName(32)).toBe('vector 32');
  });

  it('readExceptionReply writes RIP/RSP/RFLAGS back only from a full frame', () => {
    const p = createX86Platform();
    const reply = [6, 0, 0, 0x50_0000, 0x6000, 0x246];
    const src = { word: (i: number) => reply[i]! };
    for (let words = 0; words < 6; words++) {
      const s = { ...STATE };
      p.readExceptionReply(words, src, s);
      expect(s).toEqual(STATE);
    }
    const s = { ...STATE };
    p.readExceptionReply(6, src, s);
    expect(s).toEqual({ ip: 0x50_0000, sp: 0x6000, flags: 0x246 });
    const t = { ...STATE };
    p.readExceptionReply(63, src, t);
    expect(t).toEqual(s);
  });
});

describe('x86-64 platform: cost-model calibration', () => {
  // seL4 (sel4bench), x86-64 Skylake i7-6700: call 718 + reply 576 cycles.
  const SEL4_ROUND_TRIP = 718 + 576;
  const c = X86_COSTS;
  const calibrated = 2 * (c.kernelEntry + c.ipc + c.threadSwitch + c.spaceSwitch);

  it('the calibrated null round trip is 2 × (100 + 227 + 140 + 180) = 1294 cycles', () => {
    expect(calibrated).toBe(1294);
    expect(Math.abs(calibrated - SEL4_ROUND_TRIP) / SEL4_ROUND_TRIP).toBeLessThanOrEqual(0.1);
  });

  it('a two-task ping-pong costs exactly the calibrated figure per round trip', () => {
    const n = 200;
    const perRoundTrip = nullIpcRoundTripCycles(createX86Platform(), n);
    expect(perRoundTrip).toBe(calibrated);
    expect(perRoundTrip).toBeGreaterThanOrEqual(SEL4_ROUND_TRIP * 0.9);
    expect(perRoundTrip).toBeLessThanOrEqual(SEL4_ROUND_TRIP * 1.1);
  });
});

describe('x86-64 platform: exception IPC end to end', () => {
  it('a thrown error reaches the handler as #UD; a full reply restarts the thread at a new RIP', () => {
    const k = new Kernel({ platform: createX86Platform() });
    const t = k.createTask('t');
    const frames: ReturnType<typeof decodeX86Exception>[] = [];
    const log: string[] = [];
    let recoveryIp = 0;
    const recovery = program(function* recovery(env: ThreadEnv): UserCode {
      log.push(`recovered with rsp=${env.arg}`);
    });
    const handler = k.createThread(
      t,
      program(function* handler(env: ThreadEnv): UserCode {
        let tag: number = yield env.wait();
        for (;;) {
          expect(tagLabel(tag)).toBe(Proto.EXCEPTION);
          const f = decodeX86Exception(env.utcb);
          frames.push(f);
          env.utcb.setMr(X86ExceptionMr.RIP, recoveryIp);
          env.utcb.setMr(X86ExceptionMr.RSP, 4242);
          env.utcb.setMr(X86ExceptionMr.RFLAGS, 0x202);
          tag = yield env.replyAndWait(msgtag(0, X86ExceptionMr.WORDS));
        }
      }),
      { name: 'handler', priority: 10 },
    );
    const gate = k.createGate(handler, 0x50, 'exc');
    k.mapCap(t, 20, gate, CapRights.RW);
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
      { vector: 6, name: '#UD', errorCode: 0, cr2: 0, rip: entryIp, rsp: 77, rflags: 0 },
    ]);
    expect(log).toEqual(['recovered with rsp=4242']);
    expect(w.ip).toBe(recoveryIp);
    expect(w.flags).toBe(0x202);
    expect(w.deathReason).toBe('exited');
  });

  it('a restart at an address without code reaches the handler as #PF with CR2 = the address', () => {
    const k = new Kernel({ platform: createX86Platform() });
    const t = k.createTask('t');
    const frames: ReturnType<typeof decodeX86Exception>[] = [];
    const handler = k.createThread(
      t,
      program(function* handler(env: ThreadEnv): UserCode {
        yield env.wait();
        frames.push(decodeX86Exception(env.utcb));
        env.utcb.setMr(X86ExceptionMr.RIP, 0xdead0);
        yield env.replyAndWait(msgtag(0, X86ExceptionMr.WORDS));
        frames.push(decodeX86Exception(env.utcb));
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
    expect(frames.map((f) => f.name)).toEqual(['#UD', '#PF']);
    expect(frames[1]).toEqual({
      vector: 14,
      name: '#PF',
      errorCode: 0x14,
      cr2: 0xdead0,
      rip: 0xdead0,
      rsp: 5,
      rflags: 0,
    });
    expect(w.deathReason).toBe('exception');
  });
});
