/**
 * Property test of the memory model on every back end: random sequences of map, grant,
 * unmap (with and without flush, with partial rights) and memory accesses between
 * sigma0 and four tasks, driven host-side through the kernel's `mapMemory`,
 * `grantMemory` and `unmapMemory` on the tasks' address spaces. After every step:
 * - {@link checkMemoryInvariants} holds (page table ↔ mapping database, derivation tree,
 *   software TLB);
 * - the kernel agrees exactly with a model kept here: every 4 KiB page of every task
 *   with its frame, its rights, the page it derives from, the size of the mapping it
 *   belongs to, and its accessed/dirty status; every result code and unmap status;
 * - no page the model revoked in the step is still reachable, through the page table or
 *   the TLB.
 *
 * The model tracks the derivation tree page by page (what reaches which frame is a
 * property of pages); it also tracks which mapping (extent) each page belongs to,
 * because the kernel's choices of page size decide what "the mapping in the way" is.
 *
 * fast-check's seed is fixed, so CI is deterministic. To search further locally:
 * `PECAN_FUZZ_RUNS=20 PECAN_FUZZ_SEED=7 vitest run packages/conformance/test/memory-property.test.ts`.
 */
import {
  type AddressSpace,
  Errno,
  grantMemory,
  type Kernel,
  MemAccess,
  mapMemory,
  PageStatus,
  type Task,
  type Translation,
  unmapMemory,
  WalkFault,
} from '@pecan/kernel';
import { checkMemoryInvariants } from '@pecan/kernel/testing';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { BACKENDS } from './backends';
import { bootMemory, MiB } from './memory-helpers';

const PAGE = 4096;
const WINDOW = 8 * MiB;
const TASK_WINDOW = 0x1000_0000;
const TASKS = 5; // sigma0 and four others

// =======================================================================================
// The model.

/** A mapping (the kernel's node): a run of pages mapped together, one size, one rights. */
interface Ext {
  task: number;
  va: number;
  order: number;
  pa: number;
  rights: number;
  /** PageStatus bits of its page-table entry. */
  status: number;
  dead: boolean;
  /** Its 4 KiB pages, in address order. */
  pages: MPage[];
}

/** One 4 KiB page of a task: the frame it reaches and the page it derives from. */
interface MPage {
  pa: number;
  parent: MPage | null;
  readonly children: Set<MPage>;
  ext: Ext;
}

class Model {
  /** Pages of each task by virtual address. */
  readonly spaces: Map<number, MPage>[] = Array.from({ length: TASKS }, () => new Map());
  /** PageStatus bits of entries removed since the last unmap began. */
  status = 0;
  /** Pages removed during the current step: (task, va, pa). */
  removed: [number, number, number][] = [];

  constructor(readonly pageOrders: readonly number[]) {}

  pageOrderAtMost(order: number): number {
    let best = -1;
    for (const o of this.pageOrders) if (o <= order && o > best) best = o;
    return best;
  }

  newExt(task: number, va: number, order: number, pa: number, rights: number): Ext {
    return { task, va, order, pa, rights, status: 0, dead: false, pages: [] };
  }

  /** Adds a root mapping (sigma0's boot mappings). */
  addRoot(task: number, va: number, order: number, pa: number, rights: number): void {
    const e = this.newExt(task, va, order, pa, rights);
    for (let i = 0; i < 2 ** order / PAGE; i++) {
      const p: MPage = { pa: pa + i * PAGE, parent: null, children: new Set(), ext: e };
      e.pages.push(p);
      this.spaces[task]!.set(va + i * PAGE, p);
    }
  }

  extAt(task: number, va: number): Ext | undefined {
    return this.spaces[task]!.get(va - (va % PAGE))?.ext;
  }

  holds(task: number, e: Ext): boolean {
    return !e.dead && e.task === task && this.extAt(task, e.va) === e;
  }

  /** The mappings overlapping `[base, base + size)`, in address order. */
  extsIn(task: number, base: number, size: number): Ext[] {
    const out: Ext[] = [];
    const s = this.spaces[task]!;
    for (let va = base - (base % PAGE); va < base + size; va += PAGE) {
      const e = s.get(va)?.ext;
      if (e && out[out.length - 1] !== e) out.push(e);
    }
    return out;
  }

  parentExt(e: Ext): Ext | null {
    return e.pages[0]!.parent?.ext ?? null;
  }

  /** The mappings derived directly from `e`. */
  childExts(e: Ext): Ext[] {
    const out = new Set<Ext>();
    for (const p of e.pages) for (const c of p.children) out.add(c.ext);
    return [...out];
  }

  isAncestorOrSelf(a: Ext, n: Ext): boolean {
    for (let x: Ext | null = n; x; x = this.parentExt(x)) if (x === a) return true;
    return false;
  }

  /** Removes `e` and everything derived from it; collects the status of their entries. */
  removeSubtree(e: Ext): void {
    if (e.dead) return;
    for (const c of this.childExts(e)) this.removeSubtree(c);
    e.dead = true;
    this.status |= e.status;
    const s = this.spaces[e.task]!;
    e.pages.forEach((p, i) => {
      const va = e.va + i * PAGE;
      if (s.get(va) === p) s.delete(va);
      this.removed.push([e.task, va, p.pa]);
      p.parent?.children.delete(p);
      p.parent = null;
    });
  }

  /** mapdb.revoke at mapping granularity. */
  revoke(e: Ext, rights: number, self: boolean): void {
    const keep = ~rights & 0xff;
    if (self) {
      e.rights &= keep;
      if (e.rights === 0) {
        this.removeSubtree(e);
        return;
      }
    }
    for (const c of this.childExts(e)) {
      c.rights &= keep;
      if (c.rights === 0) this.removeSubtree(c);
      else this.revoke(c, rights, false);
    }
  }

  /** Splits `e` and its same-size descendants into pages of the next smaller size. */
  split(e: Ext): boolean {
    const smaller = this.pageOrderAtMost(e.order - 1);
    if (smaller < 0) return false;
    const large: Ext[] = [];
    const stack = [e];
    for (let x = stack.pop(); x; x = stack.pop()) {
      large.push(x);
      for (const c of this.childExts(x)) if (c.order === e.order) stack.push(c);
    }
    const per = 2 ** smaller / PAGE;
    for (const x of large) {
      x.dead = true;
      for (let i = 0; i < 2 ** (x.order - smaller); i++) {
        const piece = this.newExt(
          x.task,
          x.va + i * 2 ** smaller,
          smaller,
          x.pa + i * 2 ** smaller,
          x.rights,
        );
        piece.status = x.status;
        piece.pages = x.pages.slice(i * per, (i + 1) * per);
        for (const p of piece.pages) p.ext = piece;
      }
    }
    return true;
  }

  /** Makes room for a `size`-byte page at `dva`; false when an ancestor of `n` is in the way. */
  clear(dst: number, dva: number, size: number, n: Ext): boolean {
    const overlap = this.extsIn(dst, dva, size);
    if (overlap.some((m) => this.isAncestorOrSelf(m, n))) return false;
    for (const m of overlap) if (!m.dead) this.removeSubtree(m);
    return true;
  }

  map(src: number, sBase: number, order: number, dst: number, dBase: number, rights: number): number {
    const size = 2 ** order;
    for (const n of this.extsIn(src, sBase, size)) {
      if (!this.holds(src, n)) continue;
      const r = n.rights & rights;
      if (r === 0) continue;
      const smaller = this.pageOrderAtMost(Math.min(order, n.order));
      const step = 2 ** smaller;
      const lo = Math.max(n.va, sBase);
      const hi = Math.min(n.va + 2 ** n.order, sBase + size);
      for (let va = lo; va < hi; va += step) {
        const dva = dBase + (va - sBase);
        const pa = n.pa + (va - n.va);
        const there = this.extAt(dst, dva);
        if (there && there.va === dva && there.order === smaller && there.pa === pa) {
          if (there === n) continue;
          if (this.parentExt(there) === n) {
            there.rights |= r;
            continue;
          }
        }
        if (!this.clear(dst, dva, step, n)) return Errno.EINVAL;
        const c = this.newExt(dst, dva, smaller, pa, r);
        const first = (pa - n.pa) / PAGE;
        for (let i = 0; i < step / PAGE; i++) {
          const parent = n.pages[first + i]!;
          const p: MPage = { pa: pa + i * PAGE, parent, children: new Set(), ext: c };
          parent.children.add(p);
          c.pages.push(p);
          this.spaces[dst]!.set(dva + i * PAGE, p);
        }
      }
    }
    return 0;
  }

  grant(src: number, sBase: number, order: number, dst: number, dBase: number, rights: number): number {
    const size = 2 ** order;
    for (let list = this.extsIn(src, sBase, size); list.length > 0; ) {
      const n = list.shift()!;
      if (!this.holds(src, n)) continue;
      if (n.va < sBase || n.va + 2 ** n.order > sBase + size) {
        if (!this.split(n)) throw new Error('model: cannot split a smallest page');
        list = this.extsIn(src, sBase, size).concat(list);
        continue;
      }
      const dva = dBase + (n.va - sBase);
      if (dst === src && dva === n.va) {
        this.revoke(n, ~rights & 7, true);
        continue;
      }
      if (!this.clear(dst, dva, 2 ** n.order, n)) return Errno.EINVAL;
      // Out of the source's page table (its status goes with the old entry), into the destination's.
      this.status |= n.status;
      n.status = 0;
      const from = this.spaces[src]!;
      n.pages.forEach((p, i) => {
        if (from.get(n.va + i * PAGE) === p) from.delete(n.va + i * PAGE);
        this.removed.push([src, n.va + i * PAGE, p.pa]);
      });
      n.task = dst;
      n.va = dva;
      n.pages.forEach((p, i) => {
        this.spaces[dst]!.set(dva + i * PAGE, p);
      });
      const reduced = n.rights & rights;
      if (reduced === 0) {
        this.removeSubtree(n);
        continue;
      }
      if (reduced !== n.rights) this.revoke(n, n.rights & ~rights, true);
    }
    return 0;
  }

  unmap(task: number, base: number, size: number, rights: number, self: boolean): number {
    this.status = 0;
    for (const m of this.extsIn(task, base, size)) {
      if (this.holds(task, m)) this.unmapPart(m, base, size, rights, self);
    }
    return this.status;
  }

  private unmapPart(m: Ext, base: number, size: number, rights: number, self: boolean): void {
    const start = m.va;
    const end = start + 2 ** m.order;
    if (base <= start && end <= base + size) {
      this.revoke(m, rights, self);
      return;
    }
    const lo = Math.max(base, start);
    const hi = Math.min(base + size, end);
    if (self) {
      this.split(m);
      for (const piece of this.extsIn(m.task, lo, hi - lo)) {
        if (this.holds(m.task, piece)) this.unmapPart(piece, base, size, rights, true);
      }
      return;
    }
    const paLo = m.pa + (lo - start);
    const paHi = m.pa + (hi - start);
    for (const c of this.childExts(m)) {
      if (c.pa >= paHi || c.pa + 2 ** c.order <= paLo) continue;
      const a = Math.max(paLo, c.pa);
      const b = Math.min(paHi, c.pa + 2 ** c.order);
      this.unmapPart(c, c.va + (a - c.pa), b - a, rights, true);
    }
  }

  /** A successful access sets the status the MMU would; returns whether it succeeds. */
  touch(task: number, va: number, access: number): boolean {
    const e = this.extAt(task, va);
    if (!e) return false;
    const rights = MemAccess.READ | (e.rights & (MemAccess.WRITE | MemAccess.EXEC));
    if ((access & ~rights) !== 0) return false;
    e.status |= PageStatus.ACCESSED | (access === MemAccess.WRITE ? PageStatus.DIRTY : 0);
    return true;
  }
}

// =======================================================================================
// The operations.

/**
 * One step. Addresses are chosen when the step runs, so that most steps meet existing
 * mappings: `pick` selects a page inside one of the task's mappings (or, when it has
 * none, a slot of its window), `to` a slot of the destination's window, in units of the
 * flexpage's size (few slots, so that maps land on each other).
 */
type Op =
  | {
      readonly kind: 'map' | 'grant';
      readonly src: number;
      readonly dst: number;
      readonly pick: number;
      readonly to: number;
      readonly order: number;
      readonly rights: number;
    }
  | {
      readonly kind: 'unmap';
      readonly task: number;
      readonly pick: number;
      readonly order: number;
      readonly rights: number;
      readonly self: boolean;
      /** Unmap, in the task it derives from, the page a picked mapping of tasks A–D derives from. */
      readonly parent: boolean;
    }
  | { readonly kind: 'touch'; readonly task: number; readonly pick: number; readonly access: number };

const task = fc.integer({ min: 0, max: TASKS - 1 });
/** Mostly tasks other than sigma0 as destinations, so that trees grow deep. */
const dstTask = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: TASKS - 1 }) },
);
const order = fc.constantFrom(12, 12, 12, 13, 14, 16, 21, 21, 22);
const pick = fc.integer({ min: 0, max: 4095 });
const to = fc.integer({ min: 0, max: 7 });
const rights = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 7 }) },
);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('map' as const),
      src: task,
      dst: dstTask,
      pick,
      to,
      order,
      rights,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('grant' as const),
      src: task,
      dst: dstTask,
      pick,
      to,
      order,
      rights,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('unmap' as const),
      task,
      pick,
      order,
      rights: fc.integer({ min: 1, max: 7 }),
      self: fc.boolean(),
      parent: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('touch' as const),
      task: dstTask,
      pick,
      access: fc.constantFrom(MemAccess.READ, MemAccess.WRITE, MemAccess.EXEC),
    }),
  },
);

// =======================================================================================
// Running a case.

interface System {
  readonly k: Kernel;
  readonly tasks: Task[];
  readonly spaces: AddressSpace[];
  readonly model: Model;
  /** First address of each task's window. */
  readonly windows: number[];
}

function boot(backend: (typeof BACKENDS)[number]): System {
  const { k, s0 } = bootMemory(backend, { ramSize: WINDOW });
  const tasks = [s0, ...['A', 'B', 'C', 'D'].map((n) => k.createTask(n))];
  const spaces = tasks.map((t) => t.space!);
  const model = new Model(spaces[0]!.format.pageOrders);
  for (const m of spaces[0]!.mappings()) model.addRoot(0, m.index, m.payload.order, m.payload.pa, m.rights);
  const ram = k.memory!.regions.find((r) => r.kind === 'ram' && r.size >= MiB)!;
  const s0Window = ram.base - (ram.base % WINDOW);
  return { k, tasks, spaces, model, windows: [s0Window, TASK_WINDOW, TASK_WINDOW, TASK_WINDOW, TASK_WINDOW] };
}

/** The address of slot `slot` of 2^order bytes in task `t`'s window. */
function slotAddress(sys: System, t: number, slot: number, order: number): number {
  return sys.windows[t]! + ((slot * 2 ** order) % WINDOW);
}

/**
 * A page of task `t` chosen by `pick`: inside one of its mappings in its window (three
 * picks in four), or anywhere in the window. Returned rounded down to 2^order.
 */
function pickAddress(sys: System, t: number, pick: number, order: number): number {
  const lo = sys.windows[t]!;
  const inWindow = [...sys.spaces[t]!.mappings()].filter((m) => m.index >= lo && m.index < lo + WINDOW);
  let va: number;
  if (inWindow.length === 0 || pick % 4 === 0) {
    va = lo + ((pick * PAGE) % WINDOW);
  } else {
    inWindow.sort((a, b) => a.index - b.index);
    const m = inWindow[(pick >> 2) % inWindow.length]!;
    va = m.index + (((pick >> 4) * PAGE) % 2 ** m.payload.order);
  }
  return va - (va % 2 ** order);
}

const walked: Translation = { fault: 0, frame: 0, order: 0, rights: 0, levels: 0 };

/** A memory access as the CPU makes it (see page-fault.ts): walk, and fill the TLB on success. */
function touchKernel(sys: System, t: number, va: number, access: number): boolean {
  const space = sys.spaces[t]!;
  const tr = space.walk(va, access, walked);
  if (tr.fault !== 0) return false;
  const pa = tr.frame + (va % 2 ** tr.order);
  space.tlb.fill(va, pa - (pa % PAGE) - sys.k.memory!.ram.base, tr.rights, access === MemAccess.WRITE);
  return true;
}

function step(sys: System, op: Op): string {
  const { model, spaces } = sys;
  model.removed = [];
  switch (op.kind) {
    case 'map':
    case 'grant': {
      // A task with nothing to give passes the turn to the next one that has something
      // (so that derivation chains grow), and sigma0 to be asked last.
      let src = op.src;
      for (let i = 0; i < TASKS && spaces[src]!.size === 0; i++) src = (src % (TASKS - 1)) + 1;
      if (spaces[src]!.size === 0) src = 0;
      const from = pickAddress(sys, src, op.pick, op.order);
      const to = slotAddress(sys, op.dst, op.to, op.order);
      const f = op.kind === 'map' ? mapMemory : grantMemory;
      const got = f(spaces[src]!, from, op.order, spaces[op.dst]!, to, op.rights);
      const want = model[op.kind](src, from, op.order, op.dst, to, op.rights);
      if (got !== want) return `${op.kind} returned ${got}, the model ${want}`;
      return '';
    }
    case 'unmap': {
      let t = op.task;
      let at = pickAddress(sys, t, op.pick, op.order);
      const derived = spaces.slice(1).flatMap((sp) => [...sp.mappings()].filter((m) => m.parent));
      if (op.parent && derived.length > 0) {
        const m = derived.sort((a, b) => a.payload.pa - b.payload.pa || a.index - b.index)[
          op.pick % derived.length
        ]!;
        const p = m.parent!;
        t = spaces.indexOf(p.space as AddressSpace);
        const va = p.index + (m.payload.pa - p.payload.pa);
        at = va - (va % 2 ** op.order);
      }
      const got = unmapMemory(spaces[t]!, at, 2 ** op.order, op.rights, op.self);
      const want = model.unmap(t, at, 2 ** op.order, op.rights, op.self);
      return got === want ? '' : `unmap reported status ${got}, the model ${want}`;
    }
    case 'touch': {
      const va = pickAddress(sys, op.task, op.pick, 12) + 8;
      const got = touchKernel(sys, op.task, va, op.access);
      const want = model.touch(op.task, va, op.access);
      return got === want
        ? ''
        : `access ${op.access} at 0x${va.toString(16)} ${got ? 'succeeded' : 'faulted'}`;
    }
  }
}

/** Compares every mapping of every task with the model; returns the first difference. */
function compare(sys: System): string {
  const { model, spaces, tasks } = sys;
  const hex = (n: number) => `0x${n.toString(16)}`;
  for (let t = 0; t < TASKS; t++) {
    const space = spaces[t]!;
    let exts = 0;
    for (const m of space.mappings()) {
      exts++;
      const e = model.extAt(t, m.index);
      const where = `task ${tasks[t]!.name} ${hex(m.index)}`;
      if (!e || e.va !== m.index || e.order !== m.payload.order)
        return `${where}: kernel maps 2^${m.payload.order}, the model ${e ? `2^${e.order} at ${hex(e.va)}` : 'nothing'}`;
      if (e.pa !== m.payload.pa || e.rights !== m.rights)
        return `${where}: kernel pa ${hex(m.payload.pa)} r${m.rights}, the model pa ${hex(e.pa)} r${e.rights}`;
      const p = m.parent;
      const pe = model.parentExt(e);
      if (p === null) {
        if (pe !== null) return `${where}: a root in the kernel, derived in the model`;
      } else {
        const want = model.extAt(spaces.indexOf(p.space as AddressSpace), p.index);
        if (pe === null || pe !== want || pe.va !== p.index)
          return `${where}: derives from another mapping than in the model`;
      }
    }
    const modelExts = new Set<Ext>();
    for (const p of model.spaces[t]!.values()) modelExts.add(p.ext);
    if (modelExts.size !== exts)
      return `task ${tasks[t]!.name}: ${exts} mappings, the model ${modelExts.size}`;
  }
  return '';
}

/** Pages the model removed in this step must not be reachable unless mapped anew. */
function revokedUnreachable(sys: System): string {
  const ramBase = sys.k.memory!.ram.base;
  const buf = new Uint8Array(4);
  for (const [t, va, pa] of sys.model.removed) {
    const now = sys.model.spaces[t]!.get(va);
    const space = sys.spaces[t]!;
    const tr = space.walk(va, 0, walked);
    if (!now && tr.fault !== WalkFault.NOT_MAPPED)
      return `task ${sys.tasks[t]!.name}: 0x${va.toString(16)} still translates after its revocation`;
    const off = space.tlb.translate(va, MemAccess.READ);
    if (off >= 0 && (!now || off !== now.pa - ramBase))
      return `task ${sys.tasks[t]!.name}: the TLB still reaches frame 0x${pa.toString(16)} at 0x${va.toString(16)}`;
    if (!now && sys.tasks[t]!.memPort!.load(va, buf, 0, 4) !== 0)
      return `task ${sys.tasks[t]!.name}: a load at 0x${va.toString(16)} still hits`;
  }
  return '';
}

const SCALE = Number(process.env.PECAN_FUZZ_RUNS ?? 1);
const FC = { seed: Number(process.env.PECAN_FUZZ_SEED ?? 42) };

describe.each(BACKENDS)('memory model under random map, grant and unmap on $name', (backend) => {
  it('keeps the memory invariants and agrees with the model after every step', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 10, maxLength: 30, size: 'max' }), (ops) => {
        const sys = boot(backend);
        ops.forEach((op, i) => {
          const problem = step(sys, op) || compare(sys) || revokedUnreachable(sys);
          if (problem) throw new Error(`step ${i} (${JSON.stringify(op)}): ${problem}`);
          // Every page table in full every fourth step and at the end, around each mapping otherwise.
          const full = i % 4 === 3 || i === ops.length - 1;
          try {
            checkMemoryInvariants(sys.k, { scan: full ? 'full' : 'sample' });
          } catch (e) {
            throw new Error(`step ${i} (${JSON.stringify(op)}): ${(e as Error).message}`);
          }
        });
      }),
      { ...FC, numRuns: Math.max(1, Math.round(40 * SCALE)) },
    );
  });
});
