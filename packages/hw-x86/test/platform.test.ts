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
  createX86Platform,
  decodeX86Exception,
  PC_DEFAULT_RAM_SIZE,
  PC_MAX_LOW_RAM,
  pcMemoryMap,
  X86_COSTS,
  X86ExceptionMr,
  X86PfError,
  X86Vector,
  x86ExceptionCode,
  x86VectorName,
} from '../src/index';
import { CountingAllocator, translation } from './helpers';

/** One platform for the frame tests (each platform allocates its RAM). */
const PLATFORM = createX86Platform();

/** Runs `writeExceptionFrame` into a plain array. */
function frame(cause: ExceptionCause, state: ExceptionState): { n: number; words: number[] } {
  const words: number[] = [];
  const n = PLATFORM.writeExceptionFrame(cause, state, {
    setWord: (i, v) => {
      words[i] = v;
    },
  });
  // The fixed words; the register file after them is tested on its own.
  return { n, words: words.slice(0, X86ExceptionMr.WORDS) };
}

const STATE: ExceptionState = { ip: 0x40_1000, sp: 0x7fff_f000, flags: 0x202, gprs: new Float64Array(18) };

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
    expect(n).toBe(X86ExceptionMr.FULL);
    expect(words).toEqual(expected);
  });

  it('reports the flags the state holds (the kernel starts threads at 0, not 0x202)', () => {
    expect(
      frame({ kind: 'thrown', error: 0 }, { ip: 1, sp: 2, flags: 0, gprs: new Float64Array(18) }).words[
        X86ExceptionMr.RFLAGS
      ],
    ).toBe(0);
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

  it('readExceptionReply writes RIP/RSP/RFLAGS back from 6 words, and the register file from a full frame', () => {
    const p = createX86Platform();
    const reply = [6, 0, 0, 0x50_0000, 0x6000, 0x246, ...Array.from({ length: 18 }, (_, i) => 100 + i)];
    const src = { word: (i: number) => reply[i]! };
    const fresh = () => ({ ...STATE, gprs: new Float64Array(18) });
    for (let words = 0; words < 6; words++) {
      const s = fresh();
      p.readExceptionReply(words, src, s);
      expect(s).toEqual(fresh());
    }
    const s = fresh();
    p.readExceptionReply(6, src, s);
    expect([s.ip, s.sp, s.flags]).toEqual([0x50_0000, 0x6000, 0x246]);
    expect(s.gprs).toEqual(new Float64Array(18));
    const t = fresh();
    p.readExceptionReply(X86ExceptionMr.FULL, src, t);
    // RAX is register 0, RFLAGS register 17; the dedicated RIP/RSP/RFLAGS words win.
    expect([...t.gprs]).toEqual(Array.from({ length: 18 }, (_, i) => 100 + i));
    expect([t.ip, t.sp, t.flags]).toEqual([0x50_0000, 0x6000, 0x246]);
  });
});

describe("x86-64 platform: 'memory' exceptions (SDM Vol. 3A §4.7 #PF error code, §6.15 #GP)", () => {
  const { READ, WRITE, EXEC } = MemAccess;
  const { P, W, U, I } = X86PfError;
  /** The first canonical upper-half address, 0xFFFF_8000_0000_0000 = 2^64 − 2^47. */
  const KERNEL = 2 ** 64 - 2 ** 47;
  const mem = (address: number, access: number, fault: number, level = 0): ExceptionCause => ({
    kind: 'memory',
    address,
    access,
    fault,
    level,
  });
  /** [vector, error code, CR2] of a frame written for `cause`. */
  const head = (cause: ExceptionCause) => frame(cause, STATE).words.slice(0, 3);

  it('NOT_MAPPED → #PF, P = 0, U = 1, W on a write, I on a fetch, CR2 = the address', () => {
    expect(head(mem(0x40_1234, READ, WalkFault.NOT_MAPPED, 3))).toEqual([14, 0x4, 0x40_1234]);
    expect(head(mem(0x40_1234, WRITE, WalkFault.NOT_MAPPED, 1))).toEqual([14, 0x6, 0x40_1234]);
    expect(head(mem(0x40_1234, EXEC, WalkFault.NOT_MAPPED, 0))).toEqual([14, 0x14, 0x40_1234]);
    expect(head(mem(0x7fff_ffff_fff8, WRITE, WalkFault.NOT_MAPPED))).toEqual([14, U | W, 0x7fff_ffff_fff8]);
    expect(head(mem(0x7fff_ffff_f000, EXEC, WalkFault.NOT_MAPPED))).toEqual([14, U | I, 0x7fff_ffff_f000]);
  });

  it('PROTECTION → #PF, P = 1, U = 1, W on a write, I on a fetch, CR2 = the address', () => {
    expect(head(mem(0x40_1234, READ, WalkFault.PROTECTION, 3))).toEqual([14, 0x5, 0x40_1234]);
    expect(head(mem(0x40_1234, WRITE, WalkFault.PROTECTION, 3))).toEqual([14, 0x7, 0x40_1234]);
    expect(head(mem(0x40_1234, EXEC, WalkFault.PROTECTION, 2))).toEqual([14, 0x15, 0x40_1234]);
    expect(head(mem(0, READ, WalkFault.PROTECTION))).toEqual([14, P | U, 0]);
  });

  it('BAD_ADDRESS in the canonical upper half → #PF, P = 1, U = 1 (a user access to a supervisor page)', () => {
    expect(head(mem(KERNEL, READ, WalkFault.BAD_ADDRESS))).toEqual([14, 0x5, KERNEL]);
    expect(head(mem(KERNEL, WRITE, WalkFault.BAD_ADDRESS))).toEqual([14, 0x7, KERNEL]);
    expect(head(mem(KERNEL + 0x1000, EXEC, WalkFault.BAD_ADDRESS))).toEqual([14, 0x15, KERNEL + 0x1000]);
    // 0xFFFF_FFFF_FFFF_F000 is 2^64 − 4096, which rounds to 2^64 as a double.
    expect(head(mem(2 ** 64, READ, WalkFault.BAD_ADDRESS))).toEqual([14, P | U, 2 ** 64]);
  });

  it('BAD_ADDRESS at a non-canonical address (bits 63:47 not all equal) → #GP(0), CR2 = 0', () => {
    for (const address of [
      2 ** 47, // 0x0000_8000_0000_0000, the first non-canonical address
      2 ** 48 - 0x1000, // the kernel half in 48-bit form is not canonical as a 64-bit value
      2 ** 48,
      2 ** 63,
      KERNEL - 0x1000, // 0xFFFF_7FFF_FFFF_F000, the last non-canonical page
    ]) {
      for (const access of [READ, WRITE, EXEC]) {
        expect(head(mem(address, access, WalkFault.BAD_ADDRESS))).toEqual([13, 0, 0]);
      }
    }
  });

  it('any fault at a non-canonical address is #GP(0), as the CPU checks canonicality before paging', () => {
    expect(head(mem(2 ** 47, WRITE, WalkFault.NOT_MAPPED))).toEqual([13, 0, 0]);
    expect(head(mem(2 ** 47, EXEC, WalkFault.PROTECTION))).toEqual([13, 0, 0]);
  });

  it('a negative, fractional, NaN, infinite or above-2^64 address does not throw: #GP(0)', () => {
    for (const address of [-1, -0x1000, 0.5, Number.NaN, Number.POSITIVE_INFINITY, -Infinity, 2 ** 65]) {
      expect(x86ExceptionCode(mem(address, READ, WalkFault.BAD_ADDRESS))).toEqual({
        vector: X86Vector.GP,
        errorCode: 0,
        cr2: 0,
      });
      expect(head(mem(address, WRITE, WalkFault.NOT_MAPPED))).toEqual([13, 0, 0]);
    }
  });

  it('the whole frame: RIP, RSP and RFLAGS follow, and decodeX86Exception names the vector', () => {
    const pf = frame(mem(0x40_2000, WRITE, WalkFault.PROTECTION, 3), STATE);
    expect(pf.n).toBe(X86ExceptionMr.FULL);
    expect(pf.words).toEqual([14, 0x7, 0x40_2000, 0x40_1000, 0x7fff_f000, 0x202]);
    expect(decodeX86Exception(pf.words)).toMatchObject({ name: '#PF', errorCode: P | W | U, cr2: 0x40_2000 });
    const gp = frame(mem(2 ** 47, READ, WalkFault.BAD_ADDRESS), STATE);
    expect(gp.words).toEqual([13, 0, 0, 0x40_1000, 0x7fff_f000, 0x202]);
    expect(decodeX86Exception(gp.words).name).toBe('#GP');
  });
});

describe('x86-64 platform: memory', () => {
  it('has 128 MiB of RAM at physical 0 by default, 4-level page tables over it and the PC memory map', () => {
    const m = createX86Platform().memory!;
    expect(Object.keys(m).sort()).toEqual(['pageTables', 'ram', 'regions']);
    expect(m.ram.base).toBe(0);
    expect(m.ram.size).toBe(128 * 1024 * 1024);
    expect(m.ram.size).toBe(PC_DEFAULT_RAM_SIZE);
    expect(m.ram.buffer.byteLength).toBe(m.ram.size);
    expect(m.pageTables.name).toBe('x86_64 4-level');
    expect(m.pageTables.pageOrders).toEqual([12, 21, 30]);
    expect(m.pageTables.vaBits).toBe(48);
    expect(m.regions).toEqual(pcMemoryMap());
    expect(m.regions.map((r) => [r.kind, r.name])).toEqual([
      ['ram', 'conventional memory'],
      ['reserved', 'legacy hole (VGA, ROMs)'],
      ['ram', 'extended memory'],
      ['mmio', 'virtio-mmio'],
      ['mmio', 'IOAPIC'],
      ['mmio', 'LAPIC'],
    ]);
  });

  it('takes a ramSize option; every ram region lies inside the RAM', () => {
    const m = createX86Platform({ ramSize: 32 * 1024 * 1024 }).memory!;
    expect(m.ram.size).toBe(32 * 1024 * 1024);
    expect(m.ram.buffer.byteLength).toBe(32 * 1024 * 1024);
    expect(m.regions).toEqual(pcMemoryMap(32 * 1024 * 1024));
    expect(m.regions[2]).toEqual({
      base: 0x10_0000,
      size: 31 * 1024 * 1024,
      kind: 'ram',
      name: 'extended memory',
    });
    for (const r of m.regions.filter((r) => r.kind === 'ram')) {
      expect(r.base).toBeGreaterThanOrEqual(m.ram.base);
      expect(r.base + r.size).toBeLessThanOrEqual(m.ram.base + m.ram.size);
    }
  });

  it('rejects a bad ramSize with a RangeError that says what is allowed', () => {
    for (const ramSize of [
      0,
      4096,
      0x10_0000,
      2 * 1024 * 1024 + 1,
      PC_MAX_LOW_RAM + 4096,
      Number.NaN,
      -4096,
    ]) {
      expect(() => createX86Platform({ ramSize })).toThrow(RangeError);
    }
    expect(() => createX86Platform({ ramSize: 1000 })).toThrow(
      'PC RAM size 1000: must be a multiple of 4 KiB, above 1 MiB and at most 3758096384 bytes',
    );
  });

  it('each platform has its own RAM, and its page tables work in it (a DEVICE page for the LAPIC)', () => {
    const a = createX86Platform({ ramSize: 2 * 1024 * 1024 }).memory!;
    const b = createX86Platform({ ramSize: 2 * 1024 * 1024 }).memory!;
    expect(a.ram.buffer).not.toBe(b.ram.buffer);
    const alloc = new CountingAllocator(a.ram);
    const root = a.pageTables.createRoot(alloc)!;
    expect(
      a.pageTables.map(
        root,
        0x40_0000,
        0xfee0_0000,
        12,
        MemAccess.READ | MemAccess.WRITE,
        alloc,
        MemType.DEVICE,
      ),
    ).toBe(true);
    expect(a.pageTables.walk(root, 0x40_0020, MemAccess.WRITE, translation())).toMatchObject({
      fault: 0,
      frame: 0xfee0_0000,
    });
    expect(a.pageTables.unmap(root, 0x40_0000, 12, alloc)).toBeGreaterThan(0);
    a.pageTables.destroy(root, alloc);
    expect(alloc.live.size).toBe(0);
    expect(new Uint8Array(b.ram.buffer).every((x) => x === 0)).toBe(true);
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

  it('each direction (647 cycles) is within 25 % of seL4 call 718 and reply 576', () => {
    const oneWay = calibrated / 2;
    expect(Math.abs(oneWay - 718) / 718).toBeLessThanOrEqual(0.25);
    expect(Math.abs(oneWay - 576) / 576).toBeLessThanOrEqual(0.25);
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
