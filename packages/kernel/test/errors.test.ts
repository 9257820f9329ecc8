import {
  CapRights,
  Errno,
  IpcError,
  type IpcErrorEvent,
  type Kernel,
  mapItemControl,
  msgtag,
  objFpage,
  Proto,
  type ThreadEnv,
  TIMEOUT_NEVER,
  TIMEOUT_ZERO,
  timeouts,
  timeoutUs,
  type UserCode,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, cap, connect, spawn } from './helpers';

/** Collects IPC errors. */
function errorLog(k: Kernel): IpcErrorEvent[] {
  const log: IpcErrorEvent[] = [];
  k.events.on('ipc-error', (e) => log.push(e));
  return log;
}

/** Times at which `cpu` went idle. */
function idleTimes(k: Kernel, cpu: number): number[] {
  const out: number[] = [];
  k.events.on('schedule', (e) => {
    if (e.cpu === cpu && e.to === null) out.push(e.time);
  });
  return out;
}

/** A thread body that computes for a long time and never receives. */
function* busy(env: ThreadEnv): UserCode {
  yield env.compute(10_000_000);
}

describe('IPC timeouts', () => {
  it('zero send timeout: SETIMEOUT (0x02) when the receiver is not waiting', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    connect(k, t, spawn(k, t, busy, { cpu: 1 }), 0x10);
    let err = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      const tag: number = yield env.send(CAP0, 0, timeouts(TIMEOUT_ZERO, TIMEOUT_NEVER));
      err = env.error(tag);
    });
    k.run();
    expect(err).toBe(-(2000 + IpcError.SETIMEOUT));
  });

  it('zero receive timeout: RETIMEOUT (0x03) when no sender is queued', () => {
    const k = boot();
    const t = k.createTask('t');
    let code = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.wait(timeouts(TIMEOUT_NEVER, TIMEOUT_ZERO));
      code = env.utcb.error;
    });
    expect(k.run().reason).toBe('exited');
    expect(code).toBe(IpcError.RETIMEOUT);
  });

  it('a relative receive timeout fires exactly m·2^e µs after the thread blocked', () => {
    const k = boot();
    const t = k.createTask('t');
    const log = errorLog(k);
    const idle = idleTimes(k, 0);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.wait(timeouts(TIMEOUT_NEVER, timeoutUs(100)));
    });
    expect(k.run().reason).toBe('exited');
    expect(log).toHaveLength(1);
    expect(log[0]!.code).toBe(IpcError.RETIMEOUT);
    // 100 µs at the test platform's 1 GHz is 100,000 cycles.
    expect(log[0]!.time - idle[0]!).toBe(100_000);
  });

  it('a relative send timeout fires exactly on time and leaves the receiver untouched', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const log = errorLog(k);
    const idle = idleTimes(k, 0);
    connect(k, t, spawn(k, t, busy, { name: 'busy', cpu: 1 }), 0x10);
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.send(CAP0, 0, timeouts(timeoutUs(3 * 2 ** 4), TIMEOUT_NEVER));
      },
      { name: 'tx' },
    );
    expect(k.run().reason).toBe('exited');
    expect(log.map((e) => [e.thread.name, e.code])).toEqual([['tx', IpcError.SETIMEOUT]]);
    expect(log[0]!.time - idle[0]!).toBe(48_000);
  });

  it('a call whose reply does not come in time fails with RETIMEOUT, and the late reply finds no reply capability', () => {
    const k = boot();
    const t = k.createTask('t');
    let serverErr = 0;
    const server = spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.wait();
      yield env.compute(500_000); // slower than the client's 200 µs patience
      yield env.reply(0);
      serverErr = env.utcb.error;
    });
    connect(k, t, server, 0x10);
    let clientErr = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      const tag: number = yield env.call(CAP0, 0, timeouts(TIMEOUT_NEVER, timeoutUs(200)));
      clientErr = env.error(tag);
    });
    k.run();
    expect(clientErr).toBe(-(2000 + IpcError.RETIMEOUT));
    expect(serverErr).toBe(IpcError.ENOREPLY);
  });
});

describe('partner gone', () => {
  it('a caller waiting for a reply gets RENOT_EXISTENT (0x05) when the server is deleted mid-IPC', () => {
    const k = boot();
    const st = k.createTask('server');
    const ct = k.createTask('client');
    const server = spawn(k, st, function* (env: ThreadEnv): UserCode {
      yield env.wait();
      yield env.compute(1_000_000);
    });
    connect(k, ct, server, 0x10);
    let err = 0;
    spawn(k, ct, function* (env: ThreadEnv): UserCode {
      const tag: number = yield env.call(CAP0, 0);
      err = env.error(tag);
    });
    k.run({ maxTime: 100_000 });
    k.deleteObject(server);
    expect(k.run().reason).toBe('exited');
    expect(err).toBe(-(2000 + IpcError.RENOT_EXISTENT));
    expect(server.alive).toBe(false);
  });

  it('a queued sender gets ENOT_EXISTENT (0x04) when its receiver dies, and later sends fail at once', () => {
    const k = boot({ cpus: 2 });
    const rt = k.createTask('receiver');
    const st = k.createTask('sender');
    const rx = spawn(k, rt, busy, { name: 'rx', cpu: 1 });
    connect(k, st, rx, 0x10);
    const errs: number[] = [];
    spawn(k, st, function* (env: ThreadEnv): UserCode {
      for (let i = 0; i < 2; i++) {
        yield env.send(CAP0, 0);
        errs.push(env.utcb.error);
      }
    });
    k.run({ maxTime: 50_000 });
    // Deleting the receiver's task kills its threads; their queued senders are released.
    k.deleteObject(rt);
    expect(k.run().reason).toBe('exited');
    expect(errs).toEqual([IpcError.ENOT_EXISTENT, IpcError.ENOT_EXISTENT]);
    expect(rx.deathReason).toBe('deleted');
  });
});

describe('cancel, abort, cut, map failed, reply, capability and rights errors', () => {
  it('ex_regs with the cancel flag: RECANCELED (0x07) in a receive, SECANCELED (0x06) in a send', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    connect(k, t, spawn(k, t, busy, { cpu: 1 }), 0x10);
    const codes: Record<string, number> = {};
    const waiter = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.wait();
        codes.receive = env.utcb.error;
      },
      { name: 'waiter' },
    );
    const sender = spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.send(CAP0, 0);
        codes.send = env.utcb.error;
      },
      { name: 'sender' },
    );
    k.mapCap(t, 30, waiter, CapRights.ALL);
    k.mapCap(t, 31, sender, CapRights.ALL);
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield env.compute(1000);
        expect(yield* env.thread(30 * 4096).cancel()).toBe(0);
        expect(yield* env.thread(31 * 4096).cancel()).toBe(0);
      },
      { name: 'canceller', priority: 0 },
    );
    k.run();
    expect(codes).toEqual({ receive: IpcError.RECANCELED, send: IpcError.SECANCELED });
  });

  it('deleting a gate aborts senders queued through it: SEABORTED (0x0e)', () => {
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const g = connect(k, t, spawn(k, t, busy, { cpu: 1 }), 0x10);
    let code = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.call(CAP0, 0);
      code = env.utcb.error;
    });
    k.run({ maxTime: 10_000 });
    k.deleteObject(g);
    k.run();
    expect(code).toBe(IpcError.SEABORTED);
  });

  it('a typed item without a receive window cuts the message: SEMSGCUT (0x08) / REMSGCUT (0x09)', () => {
    const k = boot();
    const a = k.createTask('a');
    const b = k.createTask('b');
    let rxCode = 0;
    const rx = spawn(k, b, function* (env: ThreadEnv): UserCode {
      env.utcb.setBr(0, 0); // no receive window
      yield env.wait();
      rxCode = env.utcb.error;
    });
    connect(k, a, rx, 0x10);
    let txCode = 0;
    spawn(k, a, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, mapItemControl());
      env.utcb.setMr(1, objFpage(5, 0, CapRights.RW)); // send our Log capability
      yield env.send(CAP0, msgtag(0, 0, 1));
      txCode = env.utcb.error;
    });
    k.run();
    expect([txCode, rxCode]).toEqual([IpcError.SEMSGCUT, IpcError.REMSGCUT]);
  });

  it('mapping onto an occupied slot fails instead of overwriting: SEMAPFAILED (0x10) / REMAPFAILED (0x11)', () => {
    const k = boot();
    const a = k.createTask('a');
    const b = k.createTask('b');
    let rxCode = 0;
    const rx = spawn(k, b, function* (env: ThreadEnv): UserCode {
      env.utcb.setBr(0, objFpage(5, 0, 0)); // slot 5 holds b's own Log
      env.utcb.setBr(1, 0);
      yield env.wait();
      rxCode = env.utcb.error;
    });
    connect(k, a, rx, 0x10);
    let txCode = 0;
    spawn(k, a, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, mapItemControl());
      env.utcb.setMr(1, objFpage(5, 0, CapRights.RW));
      yield env.send(CAP0, msgtag(0, 0, 1));
      txCode = env.utcb.error;
    });
    k.run();
    expect([txCode, rxCode]).toEqual([IpcError.SEMAPFAILED, IpcError.REMAPFAILED]);
    expect(b.caps.lookup(5)!.payload.name).toBe('log:b');
  });

  it('a reply without a reply capability: ENOREPLY (0x13)', () => {
    const k = boot();
    const t = k.createTask('t');
    let err = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      const tag: number = yield env.reply(0);
      err = env.error(tag);
    });
    k.run();
    expect(err).toBe(-(2000 + IpcError.ENOREPLY));
  });

  it('the reply capability is one-shot: a second reply fails with ENOREPLY', () => {
    const k = boot();
    const t = k.createTask('t');
    const errs: number[] = [];
    const server = spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.wait();
      errs.push(env.error(yield env.reply(0)));
      errs.push(env.error(yield env.reply(0)));
    });
    connect(k, t, server, 0x10);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.call(CAP0, 0);
    });
    k.run();
    expect(errs).toEqual([0, -(2000 + IpcError.ENOREPLY)]);
  });

  it('invoking an empty slot: EINVALCAP (0x14); receiving from one: REINVALCAP (0x15)', () => {
    const k = boot();
    const t = k.createTask('t');
    const codes: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.call(cap(40), 0);
      codes.push(env.utcb.error);
      yield env.receive(cap(40));
      codes.push(env.utcb.error);
      // Garbage in the capability register is an invalid capability too, never a crash.
      yield env.invoke(Number.NaN, 0);
      codes.push(env.utcb.error);
      yield env.invoke(2 ** 40, 0);
      codes.push(env.utcb.error);
    });
    k.run();
    expect(codes).toEqual([IpcError.EINVALCAP, IpcError.REINVALCAP, IpcError.EINVALCAP, IpcError.EINVALCAP]);
  });

  it('a gate that is bound to nobody: ENOT_EXISTENT (0x04)', () => {
    const k = boot();
    const t = k.createTask('t');
    const g = k.createGate(null, 0x10, 'unbound');
    k.mapCap(t, 16, g, CapRights.RW);
    let code = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield env.call(CAP0, 0);
      code = env.utcb.error;
    });
    k.run();
    expect(code).toBe(IpcError.ENOT_EXISTENT);
  });

  it('an operation without the right it needs: EPERM in the reply label', () => {
    const k = boot();
    const t = k.createTask('t');
    const log = t.caps.lookup(5)!.payload;
    k.mapCap(t, 20, log, CapRights.R);
    let err = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, 0);
      env.utcb.setMr(1, 0);
      err = yield* env.kernelCall(cap(4), Proto.LOG, 2);
    });
    k.run();
    expect(err).toBe(-Errno.EPERM);
  });

  it('a message for another protocol: EBADPROTO', () => {
    const k = boot();
    const t = k.createTask('t');
    let err = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, 0);
      err = yield* env.kernelCall(2 * 4096, Proto.TASK, 1); // the factory, spoken to as a task
    });
    k.run();
    expect(err).toBe(-Errno.EBADPROTO);
  });
});
