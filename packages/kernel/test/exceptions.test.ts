import {
  CapRights,
  capIndex,
  ExRegs,
  type Kernel,
  msgtag,
  Proto,
  program,
  type ThreadEnv,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { TestExceptionMr, TestTrap } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { boot, spawn } from './helpers';

const HANDLER = capIndex(20);

/**
 * A task whose worker thread has an exception handler in another thread; the
 * handler decides each exception with `verdict`.
 */
function withHandler(
  k: Kernel,
  worker: (env: ThreadEnv) => UserCode,
  verdict: (env: ThreadEnv, n: number) => number,
) {
  const t = k.createTask('t');
  const frames: number[][] = [];
  const handler = spawn(
    k,
    t,
    function* (env: ThreadEnv): UserCode {
      let tag: number = yield env.wait();
      for (let n = 0; ; n++) {
        expect(tagLabel(tag)).toBe(Proto.EXCEPTION);
        frames.push([0, 1, 2, 3, 4].map((i) => env.utcb.mr(i)));
        tag = yield env.replyAndWait(verdict(env, n));
      }
    },
    { name: 'handler', priority: 10, slot: 21 },
  );
  const gate = k.createGate(handler, 0x50, 'exc');
  k.mapCap(t, 20, gate, CapRights.RW);
  const w = spawn(k, t, worker, { name: 'worker', exceptionHandler: HANDLER, arg: 77 });
  return { t, w, frames };
}

describe('exceptions', () => {
  it('a thrown error becomes exception IPC; a label-0 reply with a new IP restarts the thread there', () => {
    const k = boot();
    const log: string[] = [];
    let runs = 0;
    let recoveryIp = 0;
    const recovery = program(function* recovery(env: ThreadEnv): UserCode {
      log.push(`recovered with sp=${env.arg}`);
    });
    const { w, frames } = withHandler(
      k,
      function* (env: ThreadEnv): UserCode {
        runs++;
        recoveryIp = env.addressOf(recovery);
        yield env.compute(10);
        throw new Error('boom');
      },
      (env) => {
        env.utcb.setMr(TestExceptionMr.IP, recoveryIp);
        env.utcb.setMr(TestExceptionMr.SP, 4242);
        return msgtag(0, TestExceptionMr.WORDS);
      },
    );
    const entryIp = w.ip;
    const r = k.run();
    expect(r.reason).toBe('idle');
    expect(runs).toBe(1);
    expect(log).toEqual(['recovered with sp=4242']);
    expect(frames[0]![TestExceptionMr.TRAP]).toBe(TestTrap.THROWN);
    expect(frames[0]![TestExceptionMr.SP]).toBe(77);
    expect(frames[0]![TestExceptionMr.IP]).toBe(entryIp);
    expect(w.ip).toBe(recoveryIp);
    expect(w.deathReason).toBe('exited');
  });

  it('a reply of length 0 and label 0 restarts the thread at its entry', () => {
    const k = boot();
    let runs = 0;
    withHandler(
      k,
      function* (env: ThreadEnv): UserCode {
        runs++;
        yield env.compute(10);
        if (runs < 3) throw new Error('again');
      },
      () => 0,
    );
    k.run();
    expect(runs).toBe(3);
  });

  it('a non-zero reply label leaves the thread dead, reported with its exception', () => {
    const k = boot();
    const { w } = withHandler(
      k,
      function* (): UserCode {
        throw new TypeError('bad input');
      },
      () => msgtag(1, 0),
    );
    const r = k.run();
    expect(w.deathReason).toBe('exception');
    expect(r.dead).toEqual([
      { thread: 'worker', reason: 'exception', exception: 'threw TypeError: bad input' },
    ]);
  });

  it('without a handler the thread is stopped and reported; the kernel does not throw', () => {
    const k = boot();
    const t = k.createTask('t');
    spawn(
      k,
      t,
      function* (): UserCode {
        throw new RangeError('no handler here');
      },
      { name: 'lonely' },
    );
    const r = k.run();
    expect(r.reason).toBe('exited');
    expect(r.dead).toEqual([
      { thread: 'lonely', reason: 'exception', exception: 'threw RangeError: no handler here' },
    ]);
    expect(r.message).toContain('stopped by exceptions: "lonely" (threw RangeError: no handler here)');
  });

  it('yielding anything but a kernel-entry token is an invalid kernel entry', () => {
    const k = boot();
    const { frames } = withHandler(
      k,
      function* (): UserCode {
        yield 'not a syscall' as never;
      },
      () => msgtag(1, 0),
    );
    k.run();
    expect(frames[0]![TestExceptionMr.TRAP]).toBe(TestTrap.BAD_SYSCALL);
  });

  it('compute() with a bad cycle count is an invalid kernel entry, too', () => {
    const k = boot();
    const { frames } = withHandler(
      k,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(Number.NaN);
      },
      () => msgtag(1, 0),
    );
    k.run();
    expect(frames[0]![TestExceptionMr.TRAP]).toBe(TestTrap.BAD_SYSCALL);
  });

  it('a restart at an IP where no code is registered raises an invalid-IP exception', () => {
    const k = boot();
    const { frames } = withHandler(
      k,
      function* (): UserCode {
        throw new Error('first');
      },
      (env, n) => {
        if (n > 0) return msgtag(1, 0);
        env.utcb.setMr(TestExceptionMr.IP, 0xdead0);
        return msgtag(0, TestExceptionMr.WORDS);
      },
    );
    k.run();
    expect(frames.map((f) => f[TestExceptionMr.TRAP])).toEqual([TestTrap.THROWN, TestTrap.INVALID_IP]);
    expect(frames[1]![TestExceptionMr.IP]).toBe(0xdead0);
  });

  it('ex_regs with the trigger flag raises an exception in a blocked thread, cancelling its IPC', () => {
    const k = boot();
    let afterWait = false;
    const { t, frames } = withHandler(
      k,
      function* (env: ThreadEnv): UserCode {
        yield env.wait();
        afterWait = true;
      },
      () => msgtag(1, 0),
    );
    const worker = [...t.threads].find((x) => x.name === 'worker')!;
    k.mapCap(t, 30, worker, CapRights.ALL);
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(1000);
        expect(yield* env.thread(capIndex(30)).exRegs(-1, -1, ExRegs.TRIGGER_EXCEPTION)).toBe(0);
      },
      { priority: 0 },
    );
    k.run();
    expect(afterWait).toBe(false);
    expect(frames.map((f) => f[TestExceptionMr.TRAP])).toEqual([TestTrap.TRIGGERED]);
  });

  it('a handler that dies mid-exception leaves the faulting thread dead, not hung', () => {
    const k = boot();
    const t = k.createTask('t');
    const handler = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.wait();
        throw new Error('handler crashed');
      },
      { name: 'handler', slot: 21 },
    );
    k.mapCap(t, 20, k.createGate(handler, 0x50, 'exc'), CapRights.RW);
    const w = spawn(
      k,
      t,
      function* (): UserCode {
        throw new Error('first');
      },
      { name: 'worker', exceptionHandler: HANDLER },
    );
    const r = k.run();
    expect(r.reason).toBe('exited');
    expect(w.deathReason).toBe('exception');
    expect(handler.deathReason).toBe('exception');
  });
});
