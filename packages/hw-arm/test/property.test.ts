/**
 * Property test: random map / unmap / walk sequences in a small VA window (GiB slots 0
 * and 511 under L0 entry 0 and slot 512 under L0 entry 1; first and last entries of
 * each table; 4 KiB, 2 MiB and 1 GiB pages; random rights; normal and device memory; an
 * allocator that sometimes runs dry, passed to map and unmap) against a reference model.
 *
 * The model keeps, for a fixed set of sample pages, the leaf that maps each one (shared
 * by the samples of the same leaf) with its accessed/dirty state, and applies the
 * format's documented policies: a map or unmap inside a larger block splits it
 * (children inherit AF and dirty state; an unmap whose split cannot get frames removes
 * the whole block instead); a map replaces every leaf in its range, keeping AF and the
 * dirty state when it maps the same frame at the same size again; rights 0 unmaps; a
 * device leaf is never executable, and the children of a split keep the memory type.
 * The parts of a split block that hold no sample page are kept as "ghosts" that only
 * contribute their state to a later unmap covering them.
 *
 * After every step: every sample page probes (access 0) as the model says, its leaf
 * descriptor has the model's memory type (AttrIndx 0 and SH 0b11, or AttrIndx 1 and SH
 * 0b10), and the
 * allocator's live frames are exactly the table frames reachable from the root (no
 * leak, no use after free), and no reachable table but the root is empty.
 * Unmap statuses and walk results are compared as they happen. At the end, destroy
 * gives every frame back.
 */
import { MemAccess, MemType, PageStatus, WalkFault } from '@pecan/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createArmPageTables, createVirtRam } from '../src/index';
import { CountingAllocator, desc, indexOf, tableAt, tableCensus, translation } from './helpers';

const SCALE = Number(process.env.PECAN_FUZZ_RUNS ?? 1);
const FC = { seed: Number(process.env.PECAN_FUZZ_SEED ?? 42) };
const runs = (n: number) => ({ ...FC, numRuns: Math.max(1, Math.round(n * SCALE)) });

const GIB_SLOTS = [0, 511, 512] as const; // L0 index 0 (L1 indices 0 and 511), L0 index 1
const OP_REGIONS = [0, 1, 511] as const; // 2 MiB regions the ops touch (511: last entry)
const OP_PAGES = [0, 1, 511] as const; // 4 KiB pages the ops touch
const SAMPLE_REGIONS = [...OP_REGIONS, 200]; // 200: only covered by 1 GiB blocks
const SAMPLE_PAGES = [...OP_PAGES, 400]; // 400: only covered by 2 MiB and 1 GiB blocks

/** Half the maps use pa = va + this, so that remapping the same frame (or a block's own page) is common. */
const IDENTITY_OFFSET = 2 ** 32;
const vaOf = (g: number, r: number, p: number) => g * 2 ** 30 + r * 2 ** 21 + p * 2 ** 12;
const SAMPLES: number[] = [];
for (const g of GIB_SLOTS)
  for (const r of SAMPLE_REGIONS) for (const p of SAMPLE_PAGES) SAMPLES.push(vaOf(g, r, p));

interface Leaf {
  va: number;
  pa: number;
  order: number;
  rights: number;
  memType: MemType;
  accessed: boolean;
  dirty: boolean;
}

/** Units of a split block that hold no sample: their state only shows in a later unmap. */
interface Ghost {
  va: number; // base of the split block
  order: number; // its order
  status: number;
}

type Op =
  | {
      kind: 'map';
      g: number;
      r: number;
      p: number;
      pick: number | null;
      order: number;
      k: number | null;
      rights: number;
      memType: MemType;
    }
  | { kind: 'unmap'; g: number; r: number; p: number; pick: number | null; order: number }
  | { kind: 'walk'; g: number; r: number; p: number; pick: number | null; offset: number; access: number }
  | { kind: 'limit'; more: number | null };

/** Mostly the first GiB, so that operations meet each other often. */
const gArb = fc.constantFrom(0, 0, 0, 511, 512);
/** Most unmaps and walks pick a mapped sample page (an index into the model), the rest use g/r/p. */
const pickArb = fc.option(fc.nat(), { nil: null, freq: 4 });
const orderArb = fc.constantFrom(12, 12, 12, 21, 21, 30);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('map' as const),
      g: gArb,
      r: fc.constantFrom(...OP_REGIONS),
      p: fc.constantFrom(...OP_PAGES),
      pick: fc.option(fc.nat(), { nil: null, freq: 2 }), // half of the maps remap a mapped page
      order: orderArb,
      k: fc.option(fc.nat({ max: 2 ** 18 - 1 }), { nil: null, freq: 2 }),
      rights: fc.nat({ max: 7 }),
      memType: fc.constantFrom<MemType>(MemType.NORMAL, MemType.NORMAL, MemType.DEVICE),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('unmap' as const),
      g: gArb,
      r: fc.constantFrom(...OP_REGIONS),
      p: fc.constantFrom(...OP_PAGES),
      pick: pickArb,
      order: orderArb,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('walk' as const),
      g: gArb,
      r: fc.constantFrom(...OP_REGIONS, ...OP_REGIONS, 200),
      p: fc.constantFrom(...OP_PAGES, ...OP_PAGES, 400),
      pick: pickArb,
      offset: fc.nat({ max: 4095 }),
      access: fc.nat({ max: 7 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('limit' as const),
      more: fc.option(fc.nat({ max: 2 }), { nil: null, freq: 2 }),
    }),
  },
);

const statusOf = (leaf: { accessed: boolean; dirty: boolean }) =>
  (leaf.accessed ? PageStatus.ACCESSED : 0) | (leaf.dirty ? PageStatus.DIRTY : 0);
/** Rights a walk reports for a leaf: always READ; never EXEC on device memory. */
const effective = (leaf: { rights: number; memType: MemType }) =>
  MemAccess.READ |
  (leaf.rights & (leaf.memType === MemType.DEVICE ? MemAccess.WRITE : MemAccess.WRITE | MemAccess.EXEC));
const overlaps = (aVa: number, aOrder: number, bVa: number, bOrder: number) =>
  aVa < bVa + 2 ** bOrder && bVa < aVa + 2 ** aOrder;
const alignDown = (va: number, order: number) => Math.floor(va / 2 ** order) * 2 ** order;

function runCase(ops: Op[]): void {
  const mem = createVirtRam(1024 * 1024);
  const alloc = new CountingAllocator(mem);
  const pt = createArmPageTables(mem);
  const root = pt.createRoot(alloc)!;
  const model = new Map<number, Leaf>();
  let ghosts: Ghost[] = [];
  const out = translation();

  const removeLeaves = (pred: (leaf: Leaf) => boolean): number => {
    let status = 0;
    const gone = new Set<Leaf>();
    for (const [va, leaf] of model) {
      if (pred(leaf)) {
        gone.add(leaf);
        model.delete(va);
      }
    }
    for (const leaf of gone) status |= statusOf(leaf);
    return status;
  };
  const removeGhosts = (va: number, order: number): number => {
    let status = 0;
    ghosts = ghosts.filter((g) => {
      if (g.va >= va && g.va + 2 ** g.order <= va + 2 ** order) {
        status |= g.status;
        return false;
      }
      return true;
    });
    return status;
  };

  /**
   * Splits `covering` (a leaf larger than 2^`order`) down to the unit of size
   * 2^`order` at `va`, as the format does: every sample gets the child leaf it falls
   * in (copies of `covering`, AF and dirty state included), and the sample-free
   * siblings at each level become a ghost.
   */
  const splitModel = (covering: Leaf, va: number, order: number): void => {
    const status = statusOf(covering);
    const children = new Map<string, Leaf>();
    for (let c = covering.order - 9; c >= order; c -= 9)
      ghosts.push({ va: alignDown(va, c + 9), order: c + 9, status });
    for (const [s, leaf] of [...model]) {
      if (leaf !== covering) continue;
      let c = covering.order - 9;
      while (c > order && Math.floor(s / 2 ** c) === Math.floor(va / 2 ** c)) c -= 9;
      const base = alignDown(s, c);
      const key = `${c}:${base}`;
      let child = children.get(key);
      if (child === undefined) {
        child = { ...covering, va: base, pa: covering.pa + (base - covering.va), order: c };
        children.set(key, child);
      }
      model.set(s, child);
    }
  };

  /** The model of `unmap(va, order)`; `split` says whether a split could get its frames. */
  const unmapModel = (va: number, order: number, split: boolean): number => {
    const covering = model.get(va);
    if (covering !== undefined && covering.order > order) {
      if (!split) return removeLeaves((leaf) => leaf === covering);
      splitModel(covering, va, order);
    }
    return removeLeaves((leaf) => overlaps(leaf.va, leaf.order, va, order)) | removeGhosts(va, order);
  };

  /** The page an operation is about: a mapped sample if it picks one, else g/r/p. */
  const target = (op: { g: number; r: number; p: number; pick: number | null }): number => {
    if (op.pick !== null && model.size > 0) {
      const mapped = [...model.keys()].sort((a, b) => a - b);
      return mapped[op.pick % mapped.length]!;
    }
    return vaOf(op.g, op.r, op.p);
  };

  for (const [step, op] of ops.entries()) {
    const where = () => `step ${step}: ${JSON.stringify(op)}`;
    if (op.kind === 'limit') {
      if (op.more === null) alloc.limit = Number.POSITIVE_INFINITY;
      else alloc.allowMore(op.more);
    } else if (op.kind === 'map') {
      const va = alignDown(target(op), op.order);
      const pa = op.k === null ? va + IDENTITY_OFFSET : op.k * 2 ** op.order;
      const failures = alloc.failures;
      const ok = pt.map(root, va, pa, op.order, op.rights, alloc, op.memType);
      const allocated = alloc.failures === failures;
      if (op.rights === 0) {
        // "No mapping": the format unmaps the range, and that always succeeds.
        expect(ok, where()).toBe(true);
        unmapModel(va, op.order, allocated);
      } else {
        expect(ok, where()).toBe(allocated);
        if (ok) {
          const covering = model.get(va);
          if (covering !== undefined && covering.order > op.order) splitModel(covering, va, op.order);
          const old = model.get(va);
          const same = old !== undefined && old.va === va && old.order === op.order && old.pa === pa;
          removeLeaves((leaf) => overlaps(leaf.va, leaf.order, va, op.order));
          removeGhosts(va, op.order);
          const leaf: Leaf = {
            va,
            pa,
            order: op.order,
            rights: op.rights,
            memType: op.memType,
            accessed: same && old.accessed,
            dirty: same && old.dirty,
          };
          for (const s of SAMPLES) if (s >= va && s < va + 2 ** op.order) model.set(s, leaf);
        }
      }
    } else if (op.kind === 'unmap') {
      const va = alignDown(target(op), op.order);
      const failures = alloc.failures;
      const status = pt.unmap(root, va, op.order, alloc);
      expect(status, where()).toBe(unmapModel(va, op.order, alloc.failures === failures));
    } else {
      const page = target(op);
      const va = page + op.offset;
      const leaf = model.get(page);
      pt.walk(root, va, op.access, out);
      if (leaf === undefined) {
        expect(out.fault, where()).toBe(WalkFault.NOT_MAPPED);
      } else {
        const rights = effective(leaf);
        const fault = (op.access & ~rights) !== 0 ? WalkFault.PROTECTION : 0;
        expect(out, where()).toMatchObject({ fault, frame: leaf.pa, order: leaf.order, rights });
        if (fault === 0 && op.access !== 0) {
          leaf.accessed = true;
          if ((op.access & MemAccess.WRITE) !== 0) leaf.dirty = true;
        }
      }
    }

    // Invariants after every step.
    for (const s of SAMPLES) {
      const leaf = model.get(s);
      pt.walk(root, s + 0xabc, 0, out);
      if (leaf === undefined) {
        if (out.fault !== WalkFault.NOT_MAPPED)
          throw new Error(`${where()}: 0x${s.toString(16)} should be unmapped`);
      } else if (
        out.fault !== 0 ||
        out.frame !== leaf.pa ||
        out.order !== leaf.order ||
        out.rights !== effective(leaf) ||
        out.levels !== 4 - (leaf.order - 12) / 9
      ) {
        throw new Error(
          `${where()}: 0x${s.toString(16)} walks to ${JSON.stringify(out)}, model ${JSON.stringify(leaf)}`,
        );
      } else {
        // AttrIndx (bits 4:2) and SH (bits 9:8) of the leaf: 0 and 0b11, or 1 and 0b10.
        const level = out.levels - 1;
        const d = desc(mem, tableAt(mem, root, s, level), indexOf(s, level));
        const attrs = Number(d & 0x31cn);
        const expected = leaf.memType === MemType.DEVICE ? 0x204 : 0x300;
        if (attrs !== expected) {
          throw new Error(
            `${where()}: 0x${s.toString(16)} has attributes 0x${attrs.toString(16)}, model ${JSON.stringify(leaf)}`,
          );
        }
      }
    }
    const census = tableCensus(mem, root);
    expect(alloc.live.size, `${where()}: live frames vs reachable tables`).toBe(census.tables);
    expect(census.empty, `${where()}: empty tables left behind`).toBe(0);
  }

  pt.destroy(root, alloc);
  expect(alloc.live.size).toBe(0);
}

describe('AArch64 page tables against a reference model', () => {
  it('random map/unmap/walk sequences agree with the model and leak no frame', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60, size: 'max' }), (ops) => runCase(ops)),
      runs(200),
    );
  });
});
