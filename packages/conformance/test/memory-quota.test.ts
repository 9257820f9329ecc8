/**
 * Page tables are kernel memory: they are charged to the factory that created the task
 * (kernel.newTask), so a task made from a small factory runs out of them. Task.map then
 * reports ENOMEM, a page fault whose mapping cannot be paid for stops the faulting
 * thread, and the kernel itself carries on; every frame comes back with the task.
 */
import {
  capIndex,
  EIPC_LO,
  Errno,
  type Factory,
  FactoryRef,
  FixedSlot,
  IpcError,
  KernelMemoryCost,
  MemRights,
  mapMemory,
  memFpage,
  memMapControl,
  msgtag,
  type Task,
  TaskRef,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';
import {
  bootMemory,
  describeMapping,
  hex,
  outcomes,
  probe,
  runChecked,
  spawn,
  taskCap,
} from './memory-helpers';

const FRAME = 4096;
/**
 * What a task with an address space costs its factory: the task object, the root
 * table and the three tables down to the KIP page (on both back ends: 4 levels).
 */
const TASK_COST = KernelMemoryCost.task + 4 * FRAME;

describe.each(BACKENDS)('page-table quota on $name', (backend) => {
  it('Task.map gets ENOMEM when the task’s factory cannot pay for a page table', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const P = k.createTask('P');
    const S0 = taskCap(k, P, 20, s0);
    const frame = sys.big(1);
    const big = sys.big(2);
    let poolBefore = -1;
    const results: Record<string, number> = {};
    let factory: Factory | null = null;
    let child: Task | null = null;
    const mapsAtEnd: string[] = [];
    spawn(k, P, function* (env) {
      const F = env.caps.alloc();
      const T = env.caps.alloc();
      poolBefore = k.memory!.pool.inUse;
      results.factory = yield* env.factory.createFactory(F, TASK_COST + 3 * FRAME);
      results.task = yield* new FactoryRef(env, F).createTask(T);
      factory = P.caps.lookup(F / 4096)!.payload as Factory;
      child = P.caps.lookup(T / 4096)!.payload as Task;
      results.afterCreate = factory.used;
      const t = new TaskRef(env, T);
      // Three tables down to the first page, and then nothing left.
      results.first = yield* t.map(S0, memFpage(frame, 12, MemRights.RW), 0x1000_0000);
      results.sameTable = yield* t.map(S0, memFpage(frame + FRAME, 12, MemRights.RW), 0x1000_1000);
      results.nextTable = yield* t.map(S0, memFpage(frame + 2 * FRAME, 12, MemRights.RW), 0x1020_0000);
      // A 2 MiB page sits in the table above: no new table needed.
      results.largePage = yield* t.map(S0, memFpage(big, 21, MemRights.RW), 0x1040_0000);
      results.sixteenPages = yield* t.map(S0, memFpage(frame + 0x1_0000, 16, MemRights.RW), 0x1060_0000);
      results.usedAtEnd = factory.used;
      for (const m of child.space!.mappings()) mapsAtEnd.push(describeMapping(m));
      results.release = yield* env.task.release(T);
      results.usedAfterRelease = factory.used;
    });
    const r = runChecked(k);
    expect(r.dead).toEqual([]);
    expect(results).toEqual({
      factory: 0,
      task: 0,
      afterCreate: TASK_COST,
      first: 0,
      sameTable: 0,
      nextTable: -Errno.ENOMEM,
      largePage: 0,
      sixteenPages: -Errno.ENOMEM,
      usedAtEnd: TASK_COST + 3 * FRAME,
      release: 0,
      usedAfterRelease: 0,
    });
    // The task was paid for by its creator's factory, and so were its page tables.
    expect(child!.factory).toBe(factory);
    expect(mapsAtEnd.sort()).toEqual([
      `va ${hex(0x1000_0000)} pa ${hex(frame)} 2^12 r6`,
      `va ${hex(0x1000_1000)} pa ${hex(frame + FRAME)} 2^12 r6`,
      `va ${hex(0x1040_0000)} pa ${hex(big)} 2^21 r6`,
    ]);
    expect(child!.alive).toBe(false);
    // Every table frame went back to the kernel's pool with the task.
    expect(k.memory!.pool.inUse).toBe(poolBefore);
  });

  it('a grant the receiver cannot pay for fails with ENOMEM and moves nothing', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const P = k.createTask('P');
    const B = k.createTask('B');
    const frame = sys.big(1) + 0x6000;
    const VA_P = 0x3000_0000;
    // P holds a page that B derives from.
    expect(mapMemory(s0.space!, frame, 12, P.space!, VA_P, MemRights.RW)).toBe(0);
    expect(mapMemory(P.space!, VA_P, 12, B.space!, 0x4000_0000, MemRights.R)).toBe(0);
    const pNode = P.space!.mappingAt(VA_P)!;
    const bNode = B.space!.mappingAt(0x4000_0000)!;
    const results: number[] = [];
    let child: Task | null = null;
    spawn(k, P, function* (env) {
      const F = env.caps.alloc();
      const T = env.caps.alloc();
      results.push(yield* env.factory.createFactory(F, TASK_COST));
      results.push(yield* new FactoryRef(env, F).createTask(T));
      child = P.caps.lookup(T / 4096)!.payload as Task;
      results.push(
        yield* new TaskRef(env, T).map(
          capIndex(FixedSlot.TASK),
          memFpage(VA_P, 12, MemRights.RW),
          0x1000_0000,
          true,
        ),
      );
      yield* env.mem.writeU32(VA_P, 0x600d);
    });
    const r = runChecked(k);
    expect(r.dead).toEqual([]);
    expect(results).toEqual([0, 0, -Errno.ENOMEM]);
    expect((child as unknown as Task).space!.size).toBe(0);
    expect(P.space!.mappingAt(VA_P)).toBe(pNode);
    expect(B.space!.mappingAt(0x4000_0000)).toBe(bNode);
    expect(bNode.parent).toBe(pNode);
    const p = probe(k, B, 'read', 0x4000_0000);
    expect(outcomes(runChecked(k), [p])).toEqual({ [p.name]: 0x600d });
  });

  it('a page fault whose mapping cannot be paid for stops the thread; the pager sees the map fail', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const P = k.createTask('P');
    const frame = sys.big(1) + 0x3000;
    let child: Task | null = null;
    let factory: Factory | null = null;
    spawn(k, P, function* (env) {
      const F = env.caps.alloc();
      const T = env.caps.alloc();
      // Enough for the task and one UTCB page, not for a page table.
      expect(yield* env.factory.createFactory(F, TASK_COST + FRAME)).toBe(0);
      expect(yield* new FactoryRef(env, F).createTask(T)).toBe(0);
      factory = P.caps.lookup(F / 4096)!.payload as Factory;
      child = P.caps.lookup(T / 4096)!.payload as Task;
    });
    const pagerLog: number[] = [];
    const pager = spawn(
      k,
      s0,
      function* (env) {
        yield env.wait();
        pagerLog.push(env.utcb.mr(0));
        env.utcb.setMr(0, memMapControl(env.utcb.mr(0)));
        env.utcb.setMr(1, memFpage(frame, 12, MemRights.RW));
        const tag: number = yield env.reply(msgtag(0, 0, 1));
        pagerLog.push(env.error(tag));
      },
      { name: 'pager', priority: 5 },
    );
    expect(runChecked(k).dead).toEqual([]);
    const T = child as unknown as Task;
    k.mapCap(T, FixedSlot.PAGER, k.createGate(pager, 0x40, 'pager'), 7);
    const p = probe(k, T, 'read', 0x1000_0000, { pager: capIndex(FixedSlot.PAGER) });
    expect((factory as unknown as Factory).used).toBe(TASK_COST + FRAME);
    expect(outcomes(runChecked(k), [p])).toEqual({
      [p.name]: `died: read at 0x10000000: page not mapped — the page-fault IPC to the pager failed (IPC error 0x${IpcError.REMAPFAILED.toString(16)})`,
    });
    expect(pagerLog).toEqual([0x1000_0000 + 4, -(EIPC_LO + IpcError.SEMAPFAILED)]);
    expect(T.space!.size).toBe(0);
    expect((factory as unknown as Factory).used).toBe(TASK_COST + FRAME);
  });
});
