/**
 * Page sizes on every back end: sigma0's one-to-one roots use the largest pages their
 * alignment allows; a map uses pages as large as the flexpage, the source page and the
 * format allow; unmapping or revoking part of a large page splits it and keeps the rest.
 */
import {
  capIndex,
  FixedSlot,
  type Kernel,
  MemRights,
  MemType,
  mapMemory,
  memFpage,
  PageStatus,
  type Task,
  TaskRef,
  type UserCode,
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
  unresolved,
} from './memory-helpers';

const SELF = capIndex(FixedSlot.TASK);
const VA_A = 0x4000_0000;
const VA_B = 0x5000_0000;
const VA_C = 0x6000_0000;
const VA_D = 0x7000_0000;
const NO_PAGER = 'the thread has no pager';

/** Runs Task.map/unmap calls from a sigma0 thread that has a capability to each of `tasks`. */
function fromSigma0(
  k: Kernel,
  s0: Task,
  tasks: Task[],
  body: (on: (t: Task) => TaskRef, cap: (t: Task) => number) => UserCode<number[]>,
): number[] {
  const caps = new Map<Task, number>();
  tasks.forEach((t, i) => {
    caps.set(t, taskCap(k, s0, 40 + i, t));
  });
  const out: number[] = [];
  spawn(k, s0, function* (env) {
    out.push(
      ...(yield* body(
        (t) => new TaskRef(env, caps.get(t)!),
        (t) => caps.get(t)!,
      )),
    );
  });
  runChecked(k);
  return out;
}

describe.each(BACKENDS)('large pages on $name', (backend) => {
  it("sigma0's roots map all memory one to one, in the largest pages alignment allows", () => {
    const { k, s0 } = bootMemory(backend);
    const regions = k.memory!.regions.filter((r) => r.kind !== 'reserved');
    const nodes = [...s0.space!.mappings()];
    const orders = [...s0.space!.format.pageOrders].sort((a, b) => b - a);
    for (const m of nodes) {
      const p = m.payload;
      const size = 2 ** p.order;
      const r = regions.find((x) => x.base <= p.pa && p.pa + size <= x.base + x.size);
      expect(r, `${describeMapping(m)} lies in a region`).toBeDefined();
      expect(m.index).toBe(p.pa);
      expect(m.parent).toBeNull();
      expect([m.rights, p.memType]).toEqual(r!.kind === 'ram' ? [7, MemType.NORMAL] : [6, MemType.DEVICE]);
      // No larger page of the format would have fit here.
      const larger = orders.filter((o) => o > p.order);
      for (const o of larger) {
        const base = p.pa - (p.pa % 2 ** o);
        expect(
          base >= r!.base && base + 2 ** o <= r!.base + r!.size,
          `${describeMapping(m)} could be 2^${o}`,
        ).toBe(false);
      }
    }
    // Every byte of every RAM and MMIO region is mapped exactly once.
    for (const r of regions) {
      const inside = nodes.filter((m) => m.payload.pa >= r.base && m.payload.pa < r.base + r.size);
      expect(
        inside.reduce((s, m) => s + 2 ** m.payload.order, 0),
        r.name,
      ).toBe(r.size);
    }
    const ram = (o: number) =>
      nodes.filter((m) => m.payload.order === o && m.payload.memType === MemType.NORMAL).length;
    // 32 MiB of RAM: x86 has 640 KiB + 1 MiB of low memory in 4 KiB pages, then 26 MiB
    // in 2 MiB pages; the virt board's RAM is 2 MiB-aligned.
    expect({ small: ram(12), large: ram(21) }).toEqual(
      backend.name === 'x86_64' ? { small: 160 + 256, large: 13 } : { small: 0, large: 14 },
    );
  });

  it('a 2 MiB flexpage of a 2 MiB page maps one 2 MiB page', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const A = k.createTask('A');
    const frame = sys.big(3);
    expect(
      fromSigma0(k, s0, [A], function* (on) {
        return [yield* on(A).map(SELF, memFpage(frame, 21, MemRights.RW), VA_A)];
      }),
    ).toEqual([0]);
    expect(A.space!.size).toBe(1);
    const m = A.space!.mappingAt(VA_A + 0x12_3456)!;
    expect(m.payload.order).toBe(21);
    expect(describeMapping(m)).toBe(`va ${hex(VA_A)} pa ${hex(frame)} 2^21 r6`);
    const tr = A.space!.walk(VA_A + 0x18_0000, 0, { fault: 0, frame: 0, order: 0, rights: 0, levels: 0 });
    expect([tr.fault, tr.order, tr.frame]).toEqual([0, 21, frame]);
    const probes = [
      probe(k, A, 'write', VA_A + 0x18_0004, { value: 0x2222 }),
      probe(k, s0, 'read', frame + 0x18_0004),
    ];
    expect(Object.values(outcomes(runChecked(k), probes))).toEqual(['written', 0x2222]);
  });

  it('a 2 MiB flexpage backed by 4 KiB pages maps 512 4 KiB pages, each to its own frame', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const B = k.createTask('B');
    const C = k.createTask('C');
    const frame = sys.big(4);
    // B's 2 MiB at VA_B holds sigma0's frames in reverse order: no large page can cover it.
    for (let i = 0; i < 512; i++) {
      expect(
        mapMemory(s0.space!, frame + (511 - i) * 4096, 12, B.space!, VA_B + i * 4096, MemRights.RWX),
      ).toBe(0);
    }
    expect(
      fromSigma0(k, s0, [B, C], function* (on, cap) {
        return [yield* on(C).map(cap(B), memFpage(VA_B, 21, MemRights.RW), VA_C)];
      }),
    ).toEqual([0]);
    const nodes = [...C.space!.mappings()].sort((a, b) => a.index - b.index);
    expect(nodes.length).toBe(512);
    nodes.forEach((m, i) => {
      expect(describeMapping(m)).toBe(
        `va ${hex(VA_C + i * 4096)} pa ${hex(frame + (511 - i) * 4096)} 2^12 r6`,
      );
      expect(m.parent).toBe(B.space!.mappingAt(VA_B + i * 4096));
    });
    const probes = [
      probe(k, s0, 'write', frame + 511 * 4096 + 8, { value: 0x1111 }),
      probe(k, s0, 'write', frame + 8, { value: 0x5555 }),
      probe(k, C, 'read', VA_C + 8),
      probe(k, C, 'read', VA_C + 511 * 4096 + 8),
    ];
    expect(Object.values(outcomes(runChecked(k), probes))).toEqual(['written', 'written', 0x1111, 0x5555]);
  });

  it('a 4 KiB or 64 KiB flexpage out of a 2 MiB page maps 4 KiB pieces of it', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const A = k.createTask('A');
    const D = k.createTask('D');
    const frame = sys.big(2);
    expect(
      fromSigma0(k, s0, [A, D], function* (on, cap) {
        return [
          yield* on(A).map(SELF, memFpage(frame, 21, MemRights.RWX), VA_A),
          yield* on(D).map(cap(A), memFpage(VA_A + 0x7000, 12, MemRights.R), VA_D),
          yield* on(D).map(cap(A), memFpage(VA_A + 0x1_0000, 16, MemRights.RW), VA_D + 0x1_0000),
        ];
      }),
    ).toEqual([0, 0, 0]);
    const big = A.space!.mappingAt(VA_A)!;
    expect(A.space!.size).toBe(1);
    expect(big.payload.order).toBe(21);
    expect(D.space!.size).toBe(1 + 16);
    expect(describeMapping(D.space!.mappingAt(VA_D))).toBe(
      `va ${hex(VA_D)} pa ${hex(frame + 0x7000)} 2^12 r4`,
    );
    for (let i = 0; i < 16; i++) {
      const m = D.space!.mappingAt(VA_D + 0x1_0000 + i * 4096)!;
      expect(describeMapping(m)).toBe(
        `va ${hex(VA_D + 0x1_0000 + i * 4096)} pa ${hex(frame + 0x1_0000 + i * 4096)} 2^12 r6`,
      );
      expect(m.parent).toBe(big);
    }
    expect(D.space!.mappingAt(VA_D)!.parent).toBe(big);
  });

  describe('a partial unmap of a large page splits it', () => {
    /** A has sigma0's 2 MiB page at VA_A; D a 4 KiB piece of it; A has written words across it. */
    function setup() {
      const sys = bootMemory(backend);
      const { k, s0 } = sys;
      const A = k.createTask('A');
      const D = k.createTask('D');
      const frame = sys.big(5);
      expect(
        fromSigma0(k, s0, [A, D], function* (on, cap) {
          return [
            yield* on(A).map(SELF, memFpage(frame, 21, MemRights.RW), VA_A),
            yield* on(D).map(cap(A), memFpage(VA_A + 0x7000, 12, MemRights.RW), VA_D),
          ];
        }),
      ).toEqual([0, 0]);
      const offsets = [0, 0x7000, 0x10_0000, 0x1f_f000];
      const writes = offsets.map((o) => probe(k, A, 'write', VA_A + o + 4, { value: 0xa000 + o }));
      expect(Object.values(outcomes(runChecked(k), writes))).toEqual(offsets.map(() => 'written'));
      return { ...sys, A, D, frame, offsets };
    }

    function readAll(k: Kernel, A: Task, offsets: number[]) {
      const reads = offsets.map((o) => probe(k, A, 'read', VA_A + o + 4));
      return Object.values(outcomes(runChecked(k), reads));
    }

    it('unmapping one 4 KiB page of it (flush) leaves 511 pages; the rest stays accessible', () => {
      const { k, A, D, frame, offsets } = setup();
      const status: number[] = [];
      spawn(k, A, function* (env) {
        status.push(
          yield* env.task.unmap([memFpage(VA_A + 0x10_0000, 12, MemRights.RWX)], true),
          env.utcb.mr(0),
        );
      });
      runChecked(k);
      // The piece inherits the large page's status: one accessed and dirty bit for all 2 MiB.
      expect(status).toEqual([0, memFpage(VA_A + 0x10_0000, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY]);
      expect(A.space!.size).toBe(511);
      expect(A.space!.mappingAt(VA_A + 0x10_0000)).toBeUndefined();
      expect(describeMapping(A.space!.mappingAt(VA_A + 0x1f_f000))).toBe(
        `va ${hex(VA_A + 0x1f_f000)} pa ${hex(frame + 0x1f_f000)} 2^12 r6`,
      );
      // D's piece now derives from the 4 KiB piece of A that holds its frame.
      expect(D.space!.mappingAt(VA_D)!.parent).toBe(A.space!.mappingAt(VA_A + 0x7000));
      expect(readAll(k, A, offsets)).toEqual([
        0xa000,
        0xa000 + 0x7000,
        unresolved('read', VA_A + 0x10_0004, 'not mapped', NO_PAGER),
        0xa000 + 0x1f_f000,
      ]);
    });

    it('sigma0 unmapping a 4 KiB piece of its page splits the derived 2 MiB page, not its own', () => {
      const { k, s0, A, D, frame, offsets } = setup();
      const status: number[] = [];
      spawn(k, s0, function* (env) {
        status.push(yield* env.task.unmap([memFpage(frame + 0x1f_f000, 12, MemRights.RWX)]), env.utcb.mr(0));
      });
      runChecked(k);
      expect(status).toEqual([
        0,
        memFpage(frame + 0x1f_f000, 12, 0) + PageStatus.ACCESSED + PageStatus.DIRTY,
      ]);
      expect(s0.space!.mappingAt(frame)!.payload.order).toBe(21);
      expect(A.space!.size).toBe(511);
      expect(D.space!.size).toBe(1);
      expect(readAll(k, A, offsets)).toEqual([
        0xa000,
        0xa000 + 0x7000,
        0xa000 + 0x10_0000,
        unresolved('read', VA_A + 0x1f_f004, 'not mapped', NO_PAGER),
      ]);
    });

    it('revoking W from one 4 KiB piece leaves that piece read-only and the rest writable', () => {
      const { k, s0, A, frame } = setup();
      spawn(k, s0, function* (env) {
        yield* env.task.unmap([memFpage(frame + 0x10_0000, 12, MemRights.W)]);
      });
      runChecked(k);
      expect(A.space!.size).toBe(512);
      expect(A.space!.mappingAt(VA_A + 0x10_0000)!.rights).toBe(MemRights.R);
      expect(A.space!.mappingAt(VA_A + 0x0f_f000)!.rights).toBe(MemRights.RW);
      const probes = [
        probe(k, A, 'write', VA_A + 0x10_0008, { value: 1 }),
        probe(k, A, 'read', VA_A + 0x10_0004),
        probe(k, A, 'write', VA_A + 0x0f_f008, { value: 2 }),
      ];
      expect(Object.values(outcomes(runChecked(k), probes))).toEqual([
        unresolved('write', VA_A + 0x10_0008, 'no right', NO_PAGER),
        0xa000 + 0x10_0000,
        'written',
      ]);
    });
  });

  it('splitting a large page splits the large pages derived from it, so revocation stays exact', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const A = k.createTask('A');
    const B = k.createTask('B');
    const C = k.createTask('C');
    const frame = sys.big(7);
    expect(
      fromSigma0(k, s0, [A, B, C], function* (on, cap) {
        return [
          yield* on(A).map(SELF, memFpage(frame, 21, MemRights.RW), VA_A),
          yield* on(B).map(cap(A), memFpage(VA_A, 21, MemRights.RW), VA_B),
          yield* on(C).map(cap(B), memFpage(VA_B, 21, MemRights.R), VA_C),
        ];
      }),
    ).toEqual([0, 0, 0]);
    expect([A, B, C].map((t) => t.space!.size)).toEqual([1, 1, 1]);
    const status: number[] = [];
    spawn(k, A, function* (env) {
      status.push(yield* env.task.unmap([memFpage(VA_A + 0x3000, 12, MemRights.RWX)], true));
    });
    runChecked(k);
    expect(status).toEqual([0]);
    // A's flush took the 4 KiB piece from A and from everything derived from it.
    expect([A, B, C].map((t) => t.space!.size)).toEqual([511, 511, 511]);
    for (const [t, va] of [
      [A, VA_A],
      [B, VA_B],
      [C, VA_C],
    ] as const) {
      expect(t.space!.mappingAt(va + 0x3000)).toBeUndefined();
      expect(describeMapping(t.space!.mappingAt(va + 0x4000))).toBe(
        `va ${hex(va + 0x4000)} pa ${hex(frame + 0x4000)} 2^12 r${t === C ? 4 : 6}`,
      );
    }
    expect(C.space!.mappingAt(VA_C + 0x4000)!.parent).toBe(B.space!.mappingAt(VA_B + 0x4000));
    expect(B.space!.mappingAt(VA_B + 0x4000)!.parent).toBe(A.space!.mappingAt(VA_A + 0x4000));
    const probes = [probe(k, C, 'read', VA_C + 0x3000), probe(k, B, 'read', VA_B + 0x2000)];
    expect(outcomes(runChecked(k), probes)).toEqual({
      [probes[0]!.name]: unresolved('read', VA_C + 0x3000, 'not mapped', NO_PAGER),
      [probes[1]!.name]: 0,
    });
  });

  it('granting part of a large page splits it; the rest stays with the granter', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const A = k.createTask('A');
    const B = k.createTask('B');
    const frame = sys.big(6);
    expect(
      fromSigma0(k, s0, [A, B], function* (on, cap) {
        return [
          yield* on(A).map(SELF, memFpage(frame, 21, MemRights.RW), VA_A),
          yield* on(B).map(cap(A), memFpage(VA_A + 0x4_0000, 16, MemRights.RW), VA_B, true),
        ];
      }),
    ).toEqual([0, 0]);
    expect(A.space!.size).toBe(512 - 16);
    expect(B.space!.size).toBe(16);
    expect(A.space!.mappingAt(VA_A + 0x4_0000)).toBeUndefined();
    expect(describeMapping(B.space!.mappingAt(VA_B + 0xf000))).toBe(
      `va ${hex(VA_B + 0xf000)} pa ${hex(frame + 0x4_f000)} 2^12 r6`,
    );
    expect(B.space!.mappingAt(VA_B)!.parent).toBe(s0.space!.mappingAt(frame));
  });
});
