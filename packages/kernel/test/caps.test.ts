import {
  CapAllocator,
  CapRights,
  capIndex,
  Errno,
  type Factory,
  FactoryRef,
  FIRST_FREE_SLOT,
  KernelMemoryCost,
  type KObject,
  LOADER_SLOTS,
  mapItemControl,
  msgtag,
  objFpage,
  Proto,
  SchedulerRef,
  type Task,
  TaskRef,
  type Thread,
  type ThreadEnv,
  type UserCode,
} from '@pecan/kernel';
import { checkInvariants } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { boot, CAP0, cap, connect, spawn } from './helpers';

const SLOT = 40;
const C = capIndex(SLOT);

/** What an operation on the capability at {@link C} needs, and how to perform it. */
interface RightsCase {
  name: string;
  needs: number;
  object: (k: ReturnType<typeof boot>, t: Task, self: () => Thread) => KObject;
  op: (env: ThreadEnv) => UserCode<number>;
}

const cases: RightsCase[] = [
  { name: 'Log write', needs: CapRights.W, object: (_k, t) => t.caps.lookup(5)!.payload, op: logTo },
  {
    name: 'Thread stats',
    needs: CapRights.R,
    object: (_k, _t, self) => self(),
    op: (env) => env.thread(C).cycles(),
  },
  {
    name: 'Thread ex_regs',
    needs: CapRights.W,
    object: (_k, _t, self) => self(),
    op: (env) => env.thread(C).exRegs(-1, -1),
  },
  {
    name: 'Thread control',
    needs: CapRights.W,
    object: (_k, _t, self) => self(),
    op: (env) => env.thread(C).control({}),
  },
  {
    name: 'Task cap info',
    needs: CapRights.R,
    object: (_k, t) => t,
    op: (env) => taskRef(env).capValid(capIndex(1)),
  },
  {
    name: 'Task unmap',
    needs: CapRights.W,
    object: (_k, t) => t,
    op: (env) => taskRef(env).unmap([objFpage(100, 0, 0xf)]),
  },
  {
    name: 'Factory create',
    needs: CapRights.W,
    object: (_k, t) => t.caps.lookup(2)!.payload,
    op: (env) => factoryRef(env).createIrq(env.caps.alloc()),
  },
  {
    name: 'Scheduler info',
    needs: CapRights.R,
    object: (k) => k.rootScheduler,
    op: (env) => schedRef(env).info(),
  },
  {
    name: 'Scheduler run_thread',
    needs: CapRights.W,
    object: (k) => k.rootScheduler,
    op: (env) => schedRef(env).runThread(capIndex(3), 1, 0),
  },
  {
    name: 'Irq trigger',
    needs: CapRights.W,
    object: (k) => k.createIrq('irq'),
    op: (env) => env.irq(C).trigger(),
  },
  {
    name: 'Irq unmask',
    needs: CapRights.S,
    object: (k) => k.createIrq('irq'),
    op: (env) => env.irq(C).unmask(),
  },
  {
    name: 'Irq attach',
    needs: CapRights.S,
    object: (k) => k.createIrq('irq'),
    op: (env) => env.irq(C).attach(0),
  },
];

function* logTo(env: ThreadEnv): UserCode<number> {
  env.utcb.setMr(0, 0);
  env.utcb.setMr(1, 0);
  return yield* env.kernelCall(C, Proto.LOG, 2);
}
const taskRef = (env: ThreadEnv) => new TaskRef(env, C);
const factoryRef = (env: ThreadEnv) => new FactoryRef(env, C);
const schedRef = (env: ThreadEnv) => new SchedulerRef(env, C);

describe('rights (R, W, S, D): every combination for every operation', () => {
  for (const c of cases) {
    it(`${c.name} needs ${c.needs === CapRights.R ? 'R' : c.needs === CapRights.W ? 'W' : 'S'}`, () => {
      for (let rights = 1; rights < 16; rights++) {
        const k = boot();
        const t = k.createTask('t');
        let thread: Thread | null = null;
        let result = 1;
        thread = spawn(k, t, function* (env: ThreadEnv): UserCode {
          result = yield* c.op(env);
        });
        k.mapCap(
          t,
          SLOT,
          c.object(k, t, () => thread!),
          rights,
        );
        k.run();
        if ((rights & c.needs) === c.needs) expect(result, `rights ${rights}`).toBeGreaterThanOrEqual(0);
        else expect(result, `rights ${rights}`).toBe(-Errno.EPERM);
      }
    });
  }

  it('a gate passes the sender’s W and S rights in the two low label bits, for every combination', () => {
    for (let rights = 1; rights < 16; rights++) {
      const k = boot();
      const t = k.createTask('t');
      let label = -1;
      const server = spawn(k, t, function* (env: ThreadEnv): UserCode {
        yield env.wait();
        label = env.label;
        yield env.reply(0);
      });
      connect(k, t, server, 0x100, 0, rights);
      spawn(k, t, function* (env: ThreadEnv): UserCode {
        yield env.call(CAP0, 0);
      });
      k.run();
      expect(label).toBe(0x100 | (rights & 3));
    }
  });
});

/** Boots tasks a, b, c, d in a chain, each with a thread that passes on what it receives. */
function chain(rightsAt: readonly number[], grant = false) {
  const k = boot();
  const names = ['a', 'b', 'c', 'd'];
  const tasks = names.map((n) => k.createTask(n));
  const irq = k.createIrq('shared');
  k.mapCap(tasks[0]!, SLOT, irq, CapRights.ALL);
  const threads: Thread[] = [];
  for (let i = 0; i < 4; i++) {
    threads.push(
      spawn(
        k,
        tasks[i]!,
        function* (env: ThreadEnv): UserCode {
          if (i > 0) {
            env.utcb.setBr(0, objFpage(SLOT, 0, 0));
            env.utcb.setBr(1, 0);
            yield env.wait();
            expect(env.utcb.error).toBe(0);
            yield env.reply(0);
          }
          if (i < 3) {
            env.utcb.setMr(0, mapItemControl(0, grant));
            env.utcb.setMr(1, objFpage(SLOT, 0, rightsAt[i]!));
            const tag: number = yield env.call(cap(1), msgtag(0, 0, 1));
            expect(env.error(tag)).toBe(0);
          }
        },
        { name: names[i]! },
      ),
    );
  }
  for (let i = 0; i < 3; i++)
    k.mapCap(tasks[i]!, 17, k.createGate(threads[i + 1]!, 0x10, `to-${names[i + 1]}`), CapRights.RW);
  const r = k.run();
  expect(r.reason).toBe('exited');
  return { k, tasks, irq };
}

describe('object flexpages and the mapping database', () => {
  it('maps a capability four tasks deep, reducing rights at each step', () => {
    const { k, tasks } = chain([CapRights.RWS, CapRights.RW, CapRights.R]);
    expect(tasks.map((t) => t.caps.lookup(SLOT)?.rights)).toEqual([
      CapRights.ALL,
      CapRights.RWS,
      CapRights.RW,
      CapRights.R,
    ]);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('unmap in the first task revokes the copies three levels deep, in every task, and keeps its own', () => {
    const { k, tasks, irq } = chain([CapRights.ALL, CapRights.ALL, CapRights.ALL]);
    const a = tasks[0]!;
    spawn(k, a, function* (env: ThreadEnv): UserCode {
      expect(yield* env.task.unmap([objFpage(SLOT, 0, CapRights.ALL)])).toBe(0);
    });
    k.run();
    expect(tasks.map((t) => t.caps.lookup(SLOT) !== undefined)).toEqual([true, false, false, false]);
    expect(irq.alive).toBe(true);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('unmap of one right removes it from the subtree and keeps the rest', () => {
    const { k, tasks } = chain([CapRights.ALL, CapRights.RW, CapRights.W]);
    spawn(k, tasks[1]!, function* (env: ThreadEnv): UserCode {
      expect(yield* env.task.unmap([objFpage(SLOT, 0, CapRights.W)])).toBe(0);
    });
    k.run();
    // b keeps its own rights; c loses W (keeps R); d had only W and loses the capability.
    expect(tasks.map((t) => t.caps.lookup(SLOT)?.rights)).toEqual([
      CapRights.ALL,
      CapRights.ALL,
      CapRights.R,
      undefined,
    ]);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('unmap in the middle revokes exactly the subtree below it', () => {
    const { k, tasks } = chain([CapRights.ALL, CapRights.ALL, CapRights.ALL]);
    spawn(k, tasks[1]!, function* (env: ThreadEnv): UserCode {
      yield* env.task.unmap([objFpage(SLOT, 0, CapRights.ALL)], true);
    });
    k.run();
    expect(tasks.map((t) => t.caps.lookup(SLOT) !== undefined)).toEqual([true, false, false, false]);
  });

  it('grant moves the capability: the sender’s slot is empty afterwards and revocation from the root still reaches it', () => {
    const { k, tasks, irq } = chain([CapRights.ALL, CapRights.ALL, CapRights.RW], true);
    expect(tasks.map((t) => t.caps.lookup(SLOT)?.rights)).toEqual([
      undefined,
      undefined,
      undefined,
      CapRights.RW,
    ]);
    expect(irq.capCount).toBe(2); // the boot root and d's
    k.deleteObject(irq);
    expect(tasks[3]!.caps.lookup(SLOT)).toBeUndefined();
    expect(irq.alive).toBe(false);
  });

  it('Task.map copies capabilities between tasks without IPC, and reports an occupied target', () => {
    const k = boot();
    const a = k.createTask('a');
    const b = k.createTask('b');
    k.mapCap(a, 20, b, CapRights.ALL);
    let results: number[] = [];
    spawn(k, a, function* (env: ThreadEnv): UserCode {
      const bRef = new TaskRef(env, capIndex(20));
      results = [
        yield* bRef.map(capIndex(1), objFpage(5, 0, CapRights.R), capIndex(30)),
        yield* bRef.map(capIndex(1), objFpage(5, 0, CapRights.R), capIndex(30)),
        yield* bRef.map(capIndex(1), objFpage(5, 0, CapRights.R), capIndex(5)),
      ];
    });
    k.run();
    expect(results).toEqual([0, -Errno.EEXIST, -Errno.EEXIST]);
    expect(b.caps.lookup(30)?.payload.name).toBe('log:a');
    expect(b.caps.lookup(30)?.rights).toBe(CapRights.R);
  });

  it('Task cap info: valid, equal and rights', () => {
    const k = boot();
    const t = k.createTask('t');
    let out: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      out = [
        yield* env.task.capValid(capIndex(5)),
        yield* env.task.capValid(capIndex(99)),
        yield* env.task.capEqual(capIndex(1), capIndex(1)),
        yield* env.task.capEqual(capIndex(1), capIndex(2)),
        yield* env.task.capRights(capIndex(5)),
        yield* env.task.capRights(capIndex(99)),
        yield* env.task.capValid(123),
      ];
    });
    k.run();
    expect(out).toEqual([1, 0, 1, 0, CapRights.RW, -Errno.ENOENT, -Errno.EINVAL]);
  });

  it('deleting an object needs D on its capability and revokes it everywhere', () => {
    const k = boot();
    const t = k.createTask('t');
    const other = k.createTask('other');
    const irq = k.createIrq('victim');
    k.mapCap(t, 20, irq, CapRights.RWS);
    k.mapCap(t, 21, irq, CapRights.ALL);
    k.mapCap(other, 20, irq, CapRights.R);
    const out: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      out.push(yield* env.task.deleteObject(capIndex(20)));
      out.push(yield* env.task.deleteObject(capIndex(21)));
      out.push(yield* env.task.capValid(capIndex(20)));
    });
    k.run();
    expect(out).toEqual([-Errno.EPERM, 0, 0]);
    expect(irq.alive).toBe(false);
    expect(other.caps.lookup(20)).toBeUndefined();
  });
});

describe('factory quota', () => {
  it('fails with ENOMEM once the quota is spent, and recovers when objects are destroyed', () => {
    const k = boot();
    const t = k.createTask('t', { kernelMemory: 3 * KernelMemoryCost.thread + 100 });
    const factory = t.caps.lookup(2)!.payload as Factory;
    const results: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      // The task's first thread already took one thread's worth.
      for (let i = 0; i < 3; i++) results.push(yield* env.factory.createThread(capIndex(60 + i)));
      results.push(yield* env.task.release(capIndex(60)));
      results.push(yield* env.factory.createThread(capIndex(63)));
      results.push(yield* env.factory.createThread(capIndex(64)));
    });
    k.run();
    expect(results).toEqual([0, 0, -Errno.ENOMEM, 0, 0, -Errno.ENOMEM]);
    expect(factory.used).toBe(3 * KernelMemoryCost.thread);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('a sub-factory’s limit is charged to its parent and bounds what it can create', () => {
    const k = boot();
    const t = k.createTask('t', { kernelMemory: 64 * 1024 });
    const parent = t.caps.lookup(2)!.payload as Factory;
    const results: number[] = [];
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      const sub = capIndex(50);
      results.push(yield* env.factory.createFactory(sub, 2 * KernelMemoryCost['ipc-gate']));
      const subRef = new FactoryRef(env, sub);
      results.push(yield* subRef.createGate(capIndex(51), 0, 0x10));
      results.push(yield* subRef.createGate(capIndex(52), 0, 0x10));
      results.push(yield* subRef.createGate(capIndex(53), 0, 0x10));
      results.push(yield* env.factory.createFactory(capIndex(54), 10 ** 9));
      // Deleting the sub-factory keeps its charge while its gates live…
      results.push(yield* env.task.release(sub));
    });
    k.run();
    expect(results).toEqual([0, 0, 0, -Errno.ENOMEM, -Errno.ENOMEM, 0]);
    const charge = KernelMemoryCost.thread + KernelMemoryCost.factory + 2 * KernelMemoryCost['ipc-gate'];
    expect(parent.used).toBe(charge);
    // …and returns it when the last of them goes.
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      yield* env.task.release(capIndex(51));
      yield* env.task.release(capIndex(52));
    });
    k.run();
    expect(parent.used).toBe(2 * KernelMemoryCost.thread);
    expect(checkInvariants(k)).toEqual([]);
  });

  it('an object loses its last capability: destroyed and its memory returned', () => {
    const k = boot();
    const t = k.createTask('t');
    const factory = t.caps.lookup(2)!.payload as Factory;
    let before = 0;
    spawn(k, t, function* (env: ThreadEnv): UserCode {
      before = factory.used;
      yield* env.factory.createGate(capIndex(70), 0, 0x10);
      expect(factory.used).toBe(before + KernelMemoryCost['ipc-gate']);
      yield* env.task.release(capIndex(70));
    });
    k.run();
    expect(factory.used).toBe(before);
  });
});

describe('the capability allocator', () => {
  it('hands out slots from FIRST_FREE_SLOT, skips the loader slots, and reuses freed ones', () => {
    const a = new CapAllocator();
    const slots: number[] = [];
    for (let i = FIRST_FREE_SLOT; i < LOADER_SLOTS.first + 2; i++) slots.push(a.alloc() / 4096);
    expect(slots[0]).toBe(FIRST_FREE_SLOT);
    expect(slots.at(-3)).toBe(LOADER_SLOTS.first - 1);
    expect(slots.at(-2)).toBe(LOADER_SLOTS.first + LOADER_SLOTS.count);
    expect(slots.some((s) => s >= LOADER_SLOTS.first && s < LOADER_SLOTS.first + LOADER_SLOTS.count)).toBe(
      false,
    );
    a.free(capIndex(20));
    expect(a.alloc()).toBe(capIndex(20));
  });
});
