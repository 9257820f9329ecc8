import {
  CapRights,
  capIndex,
  DebuggerOp,
  Errno,
  FixedSlot,
  msgtag,
  nameObject,
  OBJECT_NAME_MAX,
  Proto,
  type ThreadEnv,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, cap, connect, spawn } from './helpers';

describe('the debugger protocol (label −23)', () => {
  it('names a thread, a task, an Irq and a gate (with S) for traces and reports', () => {
    const k = boot();
    const t = k.createTask('t');
    const server = spawn(k, k.createTask('s'), function* (env: ThreadEnv): UserCode {
      yield env.wait();
    });
    const gate = connect(k, t, server, 0x10, 0, CapRights.RWS);
    const irq = k.createIrq('line');
    k.mapCap(t, 17, irq, CapRights.ALL);
    const results: number[] = [];
    const self = spawn(k, t, function* (env: ThreadEnv): UserCode {
      results.push(yield* nameObject(env, capIndex(FixedSlot.THREAD), 'client'));
      results.push(yield* nameObject(env, capIndex(FixedSlot.TASK), 'client task'));
      results.push(yield* nameObject(env, cap(1), 'uart irq'));
      results.push(yield* nameObject(env, CAP0, 'greeter → server'));
    });
    k.run();
    expect(results).toEqual([0, 0, 0, 0]);
    expect(self.name).toBe('client');
    expect(t.name).toBe('client task');
    expect(irq.name).toBe('uart irq');
    expect(gate.name).toBe('greeter → server');
  });

  it('on a gate without S the label is the server’s: the message goes to the server', () => {
    const k = boot();
    const t = k.createTask('t');
    const labels: number[] = [];
    const server = spawn(k, k.createTask('s'), function* (env: ThreadEnv): UserCode {
      const tag: number = yield env.wait();
      labels.push(tagLabel(tag));
      yield env.reply(msgtag(0, 0));
    });
    const gate = connect(k, t, server, 0x10, 0, CapRights.RW);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      expect(yield* nameObject(env, CAP0, 'renamed')).toBe(0);
    });
    k.run();
    expect(labels).toEqual([Proto.DEBUGGER]);
    expect(gate.name).toBe('gate16');
  });

  it('refuses an empty name, one over OBJECT_NAME_MAX bytes, invalid UTF-8 and unknown operations', () => {
    const k = boot();
    const t = k.createTask('t');
    const results: number[] = [];
    const self = spawn(k, t, function* (env: ThreadEnv): UserCode {
      const me = capIndex(FixedSlot.THREAD);
      results.push(yield* nameObject(env, me, ''));
      results.push(yield* nameObject(env, me, 'x'.repeat(OBJECT_NAME_MAX + 1)));
      results.push(yield* nameObject(env, me, 'x'.repeat(OBJECT_NAME_MAX)));
      env.utcb.setMr(0, DebuggerOp.NAME_SET);
      env.utcb.setMr(1, 0xff);
      results.push(yield* env.kernelCall(me, Proto.DEBUGGER, 2));
      env.utcb.setMr(0, 99);
      results.push(yield* env.kernelCall(me, Proto.DEBUGGER, 1));
      results.push(yield* env.kernelCall(me, Proto.DEBUGGER, 0));
    });
    k.run();
    expect(results).toEqual([
      -Errno.EINVAL,
      -Errno.EINVAL,
      0,
      -Errno.EINVAL,
      -Errno.ENOSYS,
      -Errno.EMSGTOOSHORT,
    ]);
    expect(self.name).toBe('x'.repeat(OBJECT_NAME_MAX));
  });

  it('GLOBAL_ID returns the object’s id in MR0', () => {
    const k = boot();
    const t = k.createTask('t');
    let id = -1;
    const self = spawn(k, t, function* (env: ThreadEnv): UserCode {
      env.utcb.setMr(0, DebuggerOp.GLOBAL_ID);
      expect(yield* env.kernelCall(capIndex(FixedSlot.THREAD), Proto.DEBUGGER, 1)).toBe(0);
      id = env.utcb.mr(0);
    });
    k.run();
    expect(id).toBe(self.id);
  });
});
