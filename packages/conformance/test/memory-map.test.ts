/**
 * Map, grant and unmap of memory between tasks, through Task.map/unmap and through IPC
 * map items, on every back end: what each task can then read, write and execute, the
 * derivation tree the mapping database keeps, and the status bits unmap reports.
 */
import {
  capIndex,
  FixedSlot,
  type Kernel,
  MemRights,
  memFpage,
  memMapControl,
  msgtag,
  PageStatus,
  type Task,
  TaskRef,
  type Thread,
  type ThreadEnv,
  type UserCode,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';
import {
  bootMemory,
  describeMapping,
  hex,
  outcomes,
  type Probe,
  probe,
  runChecked,
  spawn,
  taskCap,
  unresolved,
} from './memory-helpers';

const SELF = capIndex(FixedSlot.TASK);
const VA_A = 0x1000_0000;
const VA_B = 0x2000_0000;
const VA_C = 0x3000_0000;
const VA_D = 0x4000_0000;
const NO_PAGER = 'the thread has no pager';

/** Four tasks A–D, each with a capability to every other task and to sigma0 (slots 16–20). */
function fourTasks(k: Kernel, s0: Task) {
  const tasks = ['A', 'B', 'C', 'D'].map((n) => k.createTask(n));
  const all = [s0, ...tasks];
  const caps = new Map<Task, number>();
  all.forEach((t, i) => {
    caps.set(t, capIndex(16 + i));
    for (const holder of all) taskCap(k, holder, 16 + i, t);
  });
  const [A, B, C, D] = tasks as [Task, Task, Task, Task];
  return { A, B, C, D, cap: (t: Task) => caps.get(t)! };
}

/** A sigma0 thread that runs `ops` (Task.map calls) and records each result. */
function driver(k: Kernel, s0: Task, ops: (env: ThreadEnv) => UserCode<number[]>) {
  const results: number[] = [];
  spawn(k, s0, function* (env) {
    results.push(...(yield* ops(env)));
  });
  return results;
}

describe.each(BACKENDS)('memory map, grant and unmap on $name', (backend) => {
  it('Task.map chains four tasks deep, ANDing the rights at each step', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const { A, B, C, D, cap } = fourTasks(k, s0);
    const frame = sys.big(1) + 0x5000;
    const results = driver(k, s0, function* (env) {
      const on = (t: Task) => new TaskRef(env, cap(t));
      return [
        yield* on(A).map(SELF, memFpage(frame, 12, MemRights.RWX), VA_A),
        yield* on(B).map(cap(A), memFpage(VA_A, 12, MemRights.RW), VA_B),
        yield* on(C).map(cap(B), memFpage(VA_B, 12, MemRights.R), VA_C),
        // Asking for more than the source has gives what it has: read only.
        yield* on(D).map(cap(C), memFpage(VA_C, 12, MemRights.RWX), VA_D),
      ];
    });
    expect(runChecked(k).dead).toEqual([]);
    expect(results).toEqual([0, 0, 0, 0]);
    const node = (t: Task, va: number) => t.space!.mappingAt(va)!;
    expect([A, B, C, D].map((t, i) => describeMapping(node(t, [VA_A, VA_B, VA_C, VA_D][i]!)))).toEqual([
      `va ${hex(VA_A)} pa ${hex(frame)} 2^12 r7`,
      `va ${hex(VA_B)} pa ${hex(frame)} 2^12 r6`,
      `va ${hex(VA_C)} pa ${hex(frame)} 2^12 r4`,
      `va ${hex(VA_D)} pa ${hex(frame)} 2^12 r4`,
    ]);
    expect(node(D, VA_D).parent).toBe(node(C, VA_C));
    expect(node(C, VA_C).parent).toBe(node(B, VA_B));
    expect(node(B, VA_B).parent).toBe(node(A, VA_A));
    expect(node(A, VA_A).parent).toBe(s0.space!.mappingAt(frame));

    // Writes: A and B may, C and D fault on their read-only mapping.
    const writes: Probe[] = [
      probe(k, A, 'write', VA_A, { value: 0xa1 }),
      probe(k, B, 'write', VA_B + 4, { value: 0xb1 }),
      probe(k, C, 'write', VA_C + 8, { value: 0xc1 }),
      probe(k, D, 'write', VA_D + 12, { value: 0xd1 }),
    ];
    expect(outcomes(runChecked(k), writes)).toEqual({
      [writes[0]!.name]: 'written',
      [writes[1]!.name]: 'written',
      [writes[2]!.name]: unresolved('write', VA_C + 8, 'no right', NO_PAGER),
      [writes[3]!.name]: unresolved('write', VA_D + 12, 'no right', NO_PAGER),
    });
    // Reads see both writes everywhere; only A may execute from the page.
    const reads: Probe[] = [
      probe(k, D, 'read', VA_D),
      probe(k, C, 'read', VA_C + 4),
      probe(k, C, 'read', VA_C + 8),
      probe(k, A, 'fetch', VA_A + 4),
      probe(k, B, 'fetch', VA_B),
    ];
    expect(outcomes(runChecked(k), reads)).toEqual({
      [reads[0]!.name]: 0xa1,
      [reads[1]!.name]: 0xb1,
      [reads[2]!.name]: 0,
      [reads[3]!.name]: 0xb1,
      [reads[4]!.name]: unresolved('fetch', VA_B, 'no right', NO_PAGER),
    });
  });

  it('IPC map items chain four tasks deep; each receiver finds where the page landed', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const { A, B, C, D } = fourTasks(k, s0);
    const frame = sys.big(2);
    const got: Record<string, number[]> = {};
    // Each task waits for the page, then passes it on with fewer rights.
    const chain: [Task, number, Task | null, number, number][] = [
      [A, VA_A, B, VA_B + 0x800, MemRights.RW], // a hot spot inside the page: the page is sent
      [B, VA_B, C, VA_C, MemRights.R],
      [C, VA_C, D, VA_D, MemRights.RWX],
      [D, VA_D, null, 0, 0],
    ];
    const relays = new Map<Task, Thread>();
    for (const [task, va, next, hot, rights] of chain) {
      const relay = spawn(
        k,
        task,
        function* (env) {
          env.receiveMemoryAt(va, 12);
          const tag: number = yield env.wait();
          got[task.name] = [env.error(tag), env.utcb.mr(0), env.utcb.mr(1)];
          if (!next) return;
          env.utcb.setMr(0, memMapControl(hot));
          env.utcb.setMr(1, memFpage(va, 12, rights));
          const sent: number = yield env.send(capIndex(40), msgtag(0, 0, 1));
          got[`${task.name} sent`] = [env.error(sent)];
        },
        { name: `${task.name} relay`, priority: 5 },
      );
      relays.set(task, relay);
    }
    // Each relay sends through a gate (slot 40) to the next one; sigma0 starts the chain.
    for (const [task, , next] of chain) {
      if (next) k.mapCap(task, 40, k.createGate(relays.get(next)!, 0x40, `to ${next.name}`), 7);
    }
    k.mapCap(s0, 30, k.createGate(relays.get(A)!, 0x40, 'to A'), 7);
    spawn(k, s0, function* (env) {
      env.utcb.setMr(0, memMapControl(frame));
      env.utcb.setMr(1, memFpage(frame, 12, MemRights.RWX));
      const tag: number = yield env.send(capIndex(30), msgtag(0, 0, 1));
      got['sigma0 sent'] = [env.error(tag)];
    });
    expect(runChecked(k).dead).toEqual([]);
    expect(got).toEqual({
      'sigma0 sent': [0],
      A: [0, memMapControl(frame), memFpage(VA_A, 12, MemRights.RWX)],
      'A sent': [0],
      B: [0, memMapControl(VA_B + 0x800), memFpage(VA_B, 12, MemRights.RW)],
      'B sent': [0],
      C: [0, memMapControl(VA_C), memFpage(VA_C, 12, MemRights.R)],
      'C sent': [0],
      // The descriptor names the rights offered; the mapping has those the source had.
      D: [0, memMapControl(VA_D), memFpage(VA_D, 12, MemRights.RWX)],
    });
    expect([A, B, C, D].map((t, i) => t.space!.mappingAt([VA_A, VA_B, VA_C, VA_D][i]!)!.rights)).toEqual([
      7, 6, 4, 4,
    ]);
    const probes = [
      probe(k, B, 'write', VA_B, { value: 0xbeef }),
      probe(k, C, 'write', VA_C, { value: 1 }),
      probe(k, D, 'read', VA_D),
      probe(k, A, 'fetch', VA_A),
      probe(k, B, 'fetch', VA_B),
    ];
    // Equal priority: the probes run in creation order.
    expect(outcomes(runChecked(k), probes)).toEqual({
      [probes[0]!.name]: 'written',
      [probes[1]!.name]: unresolved('write', VA_C, 'no right', NO_PAGER),
      [probes[2]!.name]: 0xbeef,
      [probes[3]!.name]: 0xbeef,
      [probes[4]!.name]: unresolved('fetch', VA_B, 'no right', NO_PAGER),
    });
  });

  it('Task.map with grant moves a mapping: the source loses it, what was derived from it stays', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const { A, B, C, cap } = fourTasks(k, s0);
    const frame = sys.big(1) + 0x7000;
    const results = driver(k, s0, function* (env) {
      const on = (t: Task) => new TaskRef(env, cap(t));
      return [
        yield* on(A).map(SELF, memFpage(frame, 12, MemRights.RW), VA_A),
        yield* on(B).map(cap(A), memFpage(VA_A, 12, MemRights.RW), VA_B),
      ];
    });
    const seed = probe(k, A, 'write', VA_A + 16, { value: 0x5eed, priority: 0 });
    expect(outcomes(runChecked(k), [seed])).toEqual({ [seed.name]: 'written' });
    expect(results).toEqual([0, 0]);
    const aNode = A.space!.mappingAt(VA_A)!;
    const bNode = B.space!.mappingAt(VA_B)!;

    const granted = driver(k, s0, function* (env) {
      return [yield* new TaskRef(env, cap(C)).map(cap(A), memFpage(VA_A, 12, MemRights.RW), VA_C, true)];
    });
    runChecked(k);
    expect(granted).toEqual([0]);
    // The node itself moved: same object, now C's, still the parent of B's mapping.
    const cNode = C.space!.mappingAt(VA_C);
    expect(cNode).toBe(aNode);
    expect(describeMapping(cNode)).toBe(`va ${hex(VA_C)} pa ${hex(frame)} 2^12 r6`);
    expect(A.space!.mappingAt(VA_A)).toBeUndefined();
    expect(bNode.parent).toBe(cNode);
    expect(cNode!.parent).toBe(s0.space!.mappingAt(frame));

    const probes = [
      probe(k, A, 'read', VA_A + 16),
      probe(k, C, 'read', VA_C + 16),
      probe(k, B, 'write', VA_B + 16, { value: 0xb0b }),
      probe(k, C, 'read', VA_C + 16, { name: 'C reads again' }),
    ];
    expect(outcomes(runChecked(k), probes)).toEqual({
      [probes[0]!.name]: unresolved('read', VA_A + 16, 'not mapped', NO_PAGER),
      [probes[1]!.name]: 0x5eed,
      [probes[2]!.name]: 'written',
      'C reads again': 0xb0b,
    });
  });

  it('an IPC grant with fewer rights restricts the moved mapping and everything derived from it', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const { A, B, C, cap } = fourTasks(k, s0);
    const frame = sys.big(1) + 0x8000;
    const results = driver(k, s0, function* (env) {
      const on = (t: Task) => new TaskRef(env, cap(t));
      return [
        yield* on(A).map(SELF, memFpage(frame, 12, MemRights.RWX), VA_A),
        yield* on(B).map(cap(A), memFpage(VA_A, 12, MemRights.RWX), VA_B),
      ];
    });
    // A grants its page to C through IPC, offering read only.
    const received: number[] = [];
    const sent: number[] = [];
    spawn(
      k,
      C,
      function* (env) {
        env.receiveMemoryAt(VA_C, 12);
        const tag: number = yield env.wait();
        received.push(env.error(tag), env.utcb.mr(0), env.utcb.mr(1));
      },
      { name: 'C receiver', priority: 0 },
    );
    const cThread = [...C.threads][0]!;
    k.mapCap(A, 40, k.createGate(cThread, 0x10, 'to C'), 7);
    spawn(
      k,
      A,
      function* (env) {
        env.utcb.setMr(0, memMapControl(VA_A, true));
        env.utcb.setMr(1, memFpage(VA_A, 12, MemRights.R));
        const tag: number = yield env.send(capIndex(40), msgtag(0, 0, 1));
        sent.push(env.error(tag));
      },
      { name: 'A granter', priority: 0 },
    );
    expect(runChecked(k).dead).toEqual([]);
    expect(results).toEqual([0, 0]);
    expect(received).toEqual([0, memMapControl(VA_A, true), memFpage(VA_C, 12, MemRights.R)]);
    expect(sent).toEqual([0]);
    expect(A.space!.mappingAt(VA_A)).toBeUndefined();
    expect(describeMapping(C.space!.mappingAt(VA_C))).toBe(`va ${hex(VA_C)} pa ${hex(frame)} 2^12 r4`);
    expect(describeMapping(B.space!.mappingAt(VA_B))).toBe(`va ${hex(VA_B)} pa ${hex(frame)} 2^12 r4`);
    expect(B.space!.mappingAt(VA_B)!.parent).toBe(C.space!.mappingAt(VA_C));
    const probes = [probe(k, B, 'write', VA_B, { value: 1 }), probe(k, B, 'read', VA_B)];
    expect(outcomes(runChecked(k), probes)).toEqual({
      [probes[0]!.name]: unresolved('write', VA_B, 'no right', NO_PAGER),
      [probes[1]!.name]: 0,
    });
  });

  it('deleting a task revokes everything derived from its mappings; the source keeps its own', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const { A, B, C, cap } = fourTasks(k, s0);
    const frame = sys.big(3) + 0x2000;
    const results = driver(k, s0, function* (env) {
      const on = (t: Task) => new TaskRef(env, cap(t));
      return [
        yield* on(A).map(SELF, memFpage(frame, 13, MemRights.RW), VA_A),
        yield* on(B).map(cap(A), memFpage(VA_A, 13, MemRights.RW), VA_B),
        yield* on(C).map(cap(B), memFpage(VA_B + 0x1000, 12, MemRights.R), VA_C),
      ];
    });
    runChecked(k);
    expect(results).toEqual([0, 0, 0]);
    const root = s0.space!.mappingAt(frame)!;
    k.deleteObject(B);
    runChecked(k);
    expect(B.alive).toBe(false);
    expect(C.space!.size).toBe(0);
    expect(A.space!.size).toBe(2);
    expect(A.space!.mappingAt(VA_A)!.firstChild).toBeNull();
    expect(root.payload.order).toBe(21);
    const probes = [probe(k, C, 'read', VA_C), probe(k, A, 'write', VA_A + 0x1000, { value: 3 })];
    expect(outcomes(runChecked(k), probes)).toEqual({
      [probes[0]!.name]: unresolved('read', VA_C, 'not mapped', NO_PAGER),
      [probes[1]!.name]: 'written',
    });
  });

  describe('unmap', () => {
    /**
     * sigma0 → A (RWX) → B (RW) → C (RW), and A → D (RW), all of one frame; every task
     * has written its own word of the page (so every entry is accessed and dirty).
     */
    function tree() {
      const sys = bootMemory(backend);
      const { k, s0 } = sys;
      const ts = fourTasks(k, s0);
      const { A, B, C, D, cap } = ts;
      const frame = sys.big(0) + 0x3000;
      const results = driver(k, s0, function* (env) {
        const on = (t: Task) => new TaskRef(env, cap(t));
        return [
          yield* on(A).map(SELF, memFpage(frame, 12, MemRights.RWX), VA_A),
          yield* on(B).map(cap(A), memFpage(VA_A, 12, MemRights.RW), VA_B),
          yield* on(C).map(cap(B), memFpage(VA_B, 12, MemRights.RW), VA_C),
          yield* on(D).map(cap(A), memFpage(VA_A, 12, MemRights.RW), VA_D),
        ];
      });
      runChecked(k);
      expect(results).toEqual([0, 0, 0, 0]);
      const writes = [A, B, C, D].map((t, i) =>
        probe(k, t, 'write', [VA_A, VA_B, VA_C, VA_D][i]! + 4 * i, { value: 0x100 + i }),
      );
      expect(Object.values(outcomes(runChecked(k), writes))).toEqual([
        'written',
        'written',
        'written',
        'written',
      ]);
      return { ...sys, ...ts, frame };
    }

    /** Runs `fpages` through Task.unmap in `task` and returns the error and the reply MRs. */
    function unmapIn(k: Kernel, task: Task, fpages: number[], self: boolean): number[] {
      const out: number[] = [];
      spawn(k, task, function* (env) {
        out.push(yield* env.task.unmap(fpages, self));
        for (let i = 0; i < fpages.length; i++) out.push(env.utcb.mr(i));
      });
      runChecked(k);
      return out;
    }

    /** Each task reads its word 0 (A's write) and writes its word 5. */
    function access(k: Kernel, ts: { A: Task; B: Task; C: Task; D: Task }) {
      const probes = (['A', 'B', 'C', 'D'] as const).flatMap((n, i) => {
        const va = [VA_A, VA_B, VA_C, VA_D][i]!;
        return [probe(k, ts[n], 'read', va), probe(k, ts[n], 'write', va + 20, { value: 0x200 + i })];
      });
      return Object.values(outcomes(runChecked(k), probes));
    }

    it('in the middle of the tree revokes exactly the subtree; ancestors and siblings keep access', () => {
      const t = tree();
      const status = unmapIn(t.k, t.B, [memFpage(VA_B, 12, MemRights.RWX)], false);
      // C's entry went: it had been read and written.
      expect(status).toEqual([0, memFpage(VA_B, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY]);
      expect(t.C.space!.mappingAt(VA_C)).toBeUndefined();
      expect(t.B.space!.mappingAt(VA_B)!.firstChild).toBeNull();
      expect(access(t.k, t)).toEqual([
        0x100,
        'written',
        0x100,
        'written',
        unresolved('read', VA_C, 'not mapped', NO_PAGER),
        unresolved('write', VA_C + 20, 'not mapped', NO_PAGER),
        0x100,
        'written',
      ]);
    });

    it('with flush (self) takes the caller’s own mapping too, and nothing above or beside it', () => {
      const t = tree();
      const status = unmapIn(t.k, t.B, [memFpage(VA_B, 12, MemRights.RWX)], true);
      expect(status).toEqual([0, memFpage(VA_B, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY]);
      expect(t.B.space!.mappingAt(VA_B)).toBeUndefined();
      expect(t.C.space!.mappingAt(VA_C)).toBeUndefined();
      const a = t.A.space!.mappingAt(VA_A)!;
      expect(a.firstChild).toBe(t.D.space!.mappingAt(VA_D));
      expect(a.firstChild!.nextSibling).toBeNull();
      expect(access(t.k, t)).toEqual([
        0x100,
        'written',
        unresolved('read', VA_B, 'not mapped', NO_PAGER),
        unresolved('write', VA_B + 20, 'not mapped', NO_PAGER),
        unresolved('read', VA_C, 'not mapped', NO_PAGER),
        unresolved('write', VA_C + 20, 'not mapped', NO_PAGER),
        0x100,
        'written',
      ]);
    });

    it('revoking only W leaves every derived mapping readable and not writable', () => {
      const t = tree();
      const status = unmapIn(t.k, t.A, [memFpage(VA_A, 12, MemRights.W)], false);
      // Nothing was removed, so nothing is reported; the entries keep their status.
      expect(status).toEqual([0, memFpage(VA_A, 12, 0)]);
      expect(
        [t.A, t.B, t.C, t.D].map((x, i) => x.space!.mappingAt([VA_A, VA_B, VA_C, VA_D][i]!)!.rights),
      ).toEqual([7, 4, 4, 4]);
      expect(access(t.k, t)).toEqual([
        0x100,
        'written',
        0x100,
        unresolved('write', VA_B + 20, 'no right', NO_PAGER),
        0x100,
        unresolved('write', VA_C + 20, 'no right', NO_PAGER),
        0x100,
        unresolved('write', VA_D + 20, 'no right', NO_PAGER),
      ]);
      // Removing them now reports the dirty state they kept through the rights change.
      const all = unmapIn(t.k, t.A, [memFpage(VA_A, 12, MemRights.RWX)], false);
      expect(all).toEqual([0, memFpage(VA_A, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY]);
      expect(t.A.space!.mappingAt(VA_A)!.firstChild).toBeNull();
    });

    it('reports per flexpage whether the removed entries were referenced and written', () => {
      const sys = bootMemory(backend);
      const { k, s0 } = sys;
      const { A, B, cap } = fourTasks(k, s0);
      const frame = sys.big(0);
      const results = driver(k, s0, function* (env) {
        return [
          yield* new TaskRef(env, cap(A)).map(SELF, memFpage(frame, 14, MemRights.RW), VA_A),
          yield* new TaskRef(env, cap(B)).map(cap(A), memFpage(VA_A, 14, MemRights.RW), VA_B),
        ];
      });
      runChecked(k);
      expect(results).toEqual([0, 0]);
      // B leaves page 0 alone, reads page 1, writes page 2 and reads and writes page 3.
      const probes = [
        probe(k, B, 'read', VA_B + 0x1000),
        probe(k, B, 'write', VA_B + 0x2000, { value: 1 }),
        probe(k, B, 'read', VA_B + 0x3000),
        probe(k, B, 'write', VA_B + 0x3004, { value: 1 }),
      ];
      expect(Object.values(outcomes(runChecked(k), probes))).toEqual([0, 'written', 0, 'written']);
      const pages = [0, 1, 2, 3].map((i) => memFpage(VA_A + i * 0x1000, 12, MemRights.RWX));
      const status = unmapIn(k, A, pages, false);
      // A write sets the accessed bit too, as on the MMU.
      expect(status).toEqual([
        0,
        memFpage(VA_A, 12, 0),
        memFpage(VA_A + 0x1000, 12, 0) + PageStatus.ACCESSED,
        memFpage(VA_A + 0x2000, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY,
        memFpage(VA_A + 0x3000, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY,
      ]);
      expect(B.space!.size).toBe(0);
      expect(A.space!.size).toBe(4);
    });
  });
});
