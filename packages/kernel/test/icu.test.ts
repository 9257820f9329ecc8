import {
  CapRights,
  capIndex,
  Errno,
  FixedSlot,
  IcuRef,
  Kernel,
  type Platform,
  type ThreadEnv,
  TriggerMode,
  type UserCode,
} from '@pecan/kernel';
import { checkInvariants, createTestInterruptController, createTestPlatform } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { spawn } from './helpers';

const ICU = capIndex(FixedSlot.ICU);
const IRQ = capIndex(20);
const LINE = 4;

function machine(): { k: Kernel; platform: Platform } {
  const platform: Platform = {
    ...createTestPlatform(),
    interrupts: createTestInterruptController([1, 2, 3, LINE]),
  };
  return { k: new Kernel({ platform }), platform };
}

/**
 * A driver task: binds LINE to its Irq, attaches itself, and handles `n` interrupts,
 * replying to each (which unmasks the line). Records the label of each.
 */
function driver(k: Kernel, n: number, mode: number, got: number[]): void {
  const t = k.createTask('driver', { icu: true });
  k.mapCap(t, 20, k.createIrq('line4'), CapRights.ALL);
  spawn(
    k,
    t,
    function* (env: ThreadEnv): UserCode {
      const icu = new IcuRef(env, ICU);
      expect(yield* icu.setMode(LINE, mode)).toBe(0);
      expect(yield* env.irq(IRQ).attach(0x40)).toBe(0);
      expect(yield* icu.bind(LINE, IRQ)).toBe(0);
      yield env.wait();
      for (let i = 0; i < n; i++) {
        got.push(env.label);
        yield i + 1 < n ? env.replyAndWait(0) : env.reply(0);
      }
    },
    { name: 'driver', priority: 9 },
  );
}

describe('Icu: hardware interrupt lines', () => {
  it('delivers an edge on a bound line as IRQ IPC; the line stays masked until the reply, and an edge meanwhile is kept', () => {
    const { k, platform } = machine();
    const got: number[] = [];
    driver(k, 2, TriggerMode.EDGE, got);
    k.run();
    const ic = platform.interrupts!;
    ic.setLine(LINE, true);
    ic.setLine(LINE, false);
    // Before the driver has run again (so before it replied), a second edge arrives.
    ic.setLine(LINE, true);
    ic.setLine(LINE, false);
    k.run();
    expect(got).toEqual([0x40, 0x40]);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('re-delivers a level line that is still asserted after the reply, and not after it drops', () => {
    const { k, platform } = machine();
    const ic = platform.interrupts!;
    const t = k.createTask('driver', { icu: true });
    k.mapCap(t, 20, k.createIrq('line4'), CapRights.ALL);
    let deliveries = 0;
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        const icu = new IcuRef(env, ICU);
        yield* icu.setMode(LINE, TriggerMode.LEVEL);
        yield* env.irq(IRQ).attach(0x40);
        yield* icu.bind(LINE, IRQ);
        yield env.wait();
        for (;;) {
          deliveries++;
          // Servicing the device on the second interrupt drops its line (as reading a
          // UART's receive register would); the reply then finds it low.
          if (deliveries === 2) ic.setLine(LINE, false);
          yield env.replyAndWait(0);
        }
      },
      { name: 'driver', priority: 9 },
    );
    k.run();
    ic.setLine(LINE, true);
    expect(k.run().reason).toBe('idle');
    expect(deliveries).toBe(2);
  });

  it('answers info, and every operation checks its arguments and rights', () => {
    const { k } = machine();
    const t = k.createTask('t', { icu: true });
    k.mapCap(t, 20, k.createIrq('a'), CapRights.ALL);
    k.mapCap(t, 21, k.createIrq('b'), CapRights.RW);
    k.mapCap(t, 22, k.icu!, CapRights.R);
    const out: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      const icu = new IcuRef(env, ICU);
      const readOnly = new IcuRef(env, capIndex(22));
      out.push(yield* icu.info());
      out.push(yield* readOnly.info());
      out.push(yield* readOnly.bind(LINE, IRQ)); // EPERM: no W on the Icu
      out.push(yield* icu.bind(99, IRQ)); // EINVAL: no such line
      out.push(yield* icu.bind(LINE, capIndex(21))); // EPERM: no S on the Irq
      out.push(yield* icu.bind(LINE, capIndex(2))); // EINVAL: not an Irq
      out.push(yield* icu.bind(LINE, IRQ));
      out.push(yield* icu.bind(LINE, IRQ)); // EBUSY
      out.push(yield* icu.setMode(LINE, 7)); // EINVAL
      out.push(yield* icu.unbind(3)); // ENOENT
      out.push(yield* icu.unbind(LINE));
      out.push(yield* icu.mask(LINE)); // ENOENT: unbound now
    });
    k.run();
    expect(out).toEqual([
      4,
      4,
      -Errno.EPERM,
      -Errno.EINVAL,
      -Errno.EPERM,
      -Errno.EINVAL,
      0,
      -Errno.EBUSY,
      -Errno.EINVAL,
      -Errno.ENOENT,
      0,
      -Errno.ENOENT,
    ]);
  });

  it('deleting a bound Irq releases its line', () => {
    const { k, platform } = machine();
    const t = k.createTask('t', { icu: true });
    const irq = k.createIrq('gone');
    k.mapCap(t, 20, irq, CapRights.ALL);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield* new IcuRef(env, ICU).bind(LINE, IRQ);
    });
    k.run();
    expect(k.icu!.bound.get(LINE)).toBe(irq);
    k.deleteObject(irq);
    expect(k.icu!.bound.size).toBe(0);
    platform.interrupts!.setLine(LINE, true); // masked: nothing happens, nothing throws
    expect(k.run().reason).toBe('exited');
  });

  it('is absent on a platform without interrupts: slot 6 stays empty', () => {
    const k = new Kernel({ platform: createTestPlatform() });
    const t = k.createTask('t', { icu: true });
    expect(k.icu).toBeNull();
    expect(t.caps.lookup(FixedSlot.ICU)).toBeUndefined();
  });
});
