import { CapRights, capIndex, Proto, type ThreadEnv, tagLabel, type UserCode } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { boot, spawn } from './helpers';

const IRQ = capIndex(20);
const LABEL = 0x1230;

describe('Irq (software-triggered)', () => {
  it('delivers each interrupt to the attached handler as IPC with its label; a reply unmasks the line', () => {
    const k = boot();
    const t = k.createTask('t');
    const irq = k.createIrq('line');
    k.mapCap(t, 20, irq, CapRights.ALL);
    const got: string[] = [];
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        expect(yield* env.irq(IRQ).attach(LABEL)).toBe(0);
        let tag: number = yield env.wait();
        for (let i = 0; i < 3; i++) {
          got.push(`${tagLabel(tag) === Proto.IRQ ? 'irq' : 'other'}:${env.label.toString(16)}`);
          tag = yield env.replyAndWait(0); // the reply unmasks
        }
      },
      { name: 'handler', priority: 9 },
    );
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        for (let i = 0; i < 3; i++) {
          expect(yield* env.irq(IRQ).trigger()).toBe(0);
          yield env.compute(100);
        }
      },
      { name: 'device', priority: 1 },
    );
    k.run();
    expect(got).toEqual(['irq:1230', 'irq:1230', 'irq:1230']);
    expect(irq.delivered).toBe(3);
  });

  it('an interrupt that arrives while the line is masked stays pending and is delivered after unmask; repeats coalesce', () => {
    // The device runs on a second CPU so that it triggers while the handler works.
    const k = boot({ cpus: 2 });
    const t = k.createTask('t');
    const irq = k.createIrq('line');
    k.mapCap(t, 20, irq, CapRights.ALL);
    const events: string[] = [];
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield* env.irq(IRQ).attach(LABEL);
        yield env.wait();
        events.push('first');
        // Do not reply: the line stays masked while the device triggers twice more.
        yield env.compute(10_000);
        events.push(`pending=${irq.pending} masked=${irq.masked} coalesced=${irq.coalesced}`);
        expect(yield* env.irq(IRQ).unmask()).toBe(0);
        yield env.wait();
        events.push('second');
        yield* env.irq(IRQ).unmask();
      },
      { name: 'handler', priority: 9 },
    );
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield* env.irq(IRQ).trigger();
        for (let i = 0; i < 2; i++) yield* env.irq(IRQ).trigger();
      },
      { name: 'device', priority: 1, cpu: 1 },
    );
    k.run();
    expect(events).toEqual(['first', 'pending=true masked=true coalesced=1', 'second']);
    expect(irq.delivered).toBe(2);
  });

  it('an interrupt raised before anyone attached is delivered on attach', () => {
    const k = boot();
    const t = k.createTask('t');
    const irq = k.createIrq('early');
    k.mapCap(t, 20, irq, CapRights.ALL);
    let label = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield* env.irq(IRQ).trigger();
      yield* env.irq(IRQ).attach(LABEL);
      yield env.wait();
      label = env.label;
    });
    k.run();
    expect(label).toBe(LABEL);
  });

  it('a closed receive on the Irq waits for that interrupt only', () => {
    const k = boot();
    const t = k.createTask('t');
    k.mapCap(t, 20, k.createIrq('a'), CapRights.ALL);
    k.mapCap(t, 21, k.createIrq('b'), CapRights.ALL);
    const order: number[] = [];
    spawn(
      k,
      t,
      function* (env: ThreadEnv): UserCode {
        yield* env.irq(capIndex(20)).attach(0x10);
        yield* env.irq(capIndex(21)).attach(0x20);
        yield env.receive(capIndex(21));
        order.push(env.label);
        yield env.receive(capIndex(20));
        order.push(env.label);
      },
      { priority: 9 },
    );
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield* env.irq(capIndex(20)).trigger();
      yield* env.irq(capIndex(21)).trigger();
    });
    k.run();
    expect(order).toEqual([0x20, 0x10]);
  });

  it('detach stops delivery; deleting the Irq removes it from the handler’s queue', () => {
    const k = boot();
    const t = k.createTask('t');
    const irq = k.createIrq('line');
    k.mapCap(t, 20, irq, CapRights.ALL);
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield* env.irq(IRQ).attach(LABEL);
      yield* env.irq(IRQ).detach();
      yield* env.irq(IRQ).trigger();
      yield* env.task.release(IRQ);
      yield* env.factory.createIrq(capIndex(22)); // reuses the memory
    });
    const r = k.run();
    expect(r.reason).toBe('exited');
    expect(irq.delivered).toBe(0);
  });
});
