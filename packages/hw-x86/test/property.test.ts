import { MemAccess, WalkFault } from '@pecan/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPcRam, createX86PageTables } from '../src/index';
import { CountingAllocator, reachableTables, translation } from './helpers';

const K4 = 4096;
const M2 = 2 ** 21;
/** A window of four 2 MiB slots straddling a 1 GiB boundary, so two PDs take part. */
const WINDOW = 2 ** 30 - 2 * M2;
const SLOTS = 4;

type Command =
  | {
      op: 'map';
      order: 12 | 21;
      slot: number;
      page: number;
      frame: number;
      rights: number;
      budget: number | null;
    }
  | { op: 'unmap'; order: 12 | 21; slot: number; page: number }
  | { op: 'walk'; slot: number; page: number; offset: number; access: number };

const page = fc.oneof(fc.constantFrom(0, 1, 2, 255, 510, 511), fc.integer({ min: 0, max: 511 }));
const slot = fc.integer({ min: 0, max: SLOTS - 1 });
const order = fc.constantFrom<12 | 21>(12, 21);
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('map' as const),
      order,
      slot,
      page,
      // Frame numbers in 2 MiB units up to 2^40: beyond RAM, and across the 32-bit halves.
      frame: fc.integer({ min: 0, max: 2 ** 19 - 1 }),
      rights: fc.integer({ min: 0, max: 7 }),
      budget: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('unmap' as const), order, slot, page }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('walk' as const),
      slot,
      page,
      offset: fc.integer({ min: 0, max: K4 - 1 }),
      access: fc.integer({ min: 0, max: 7 }),
    }),
  },
);

interface ModelPage {
  pa: number;
  rights: number;
}

describe('property: random map/unmap/walk against a reference model', () => {
  it('walks agree with the model, and every live frame is a reachable table (no leak, no empty table)', () => {
    const mem = createPcRam(4 * 1024 * 1024);
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        new Uint8Array(mem.buffer).fill(0);
        const alloc = new CountingAllocator(mem);
        const f = createX86PageTables(mem);
        const root = f.createRoot(alloc)!;
        /** 4 KiB virtual page number → what it maps to. */
        const model = new Map<number, ModelPage>();
        const out = translation();

        const effective = (rights: number) => MemAccess.READ | (rights & (MemAccess.WRITE | MemAccess.EXEC));
        /** Walks `va` and returns how it disagrees with the model, or null. */
        const disagreement = (va: number, access: number): string | null => {
          f.walk(root, va, access, out);
          const m = model.get(Math.floor(va / K4));
          const expected =
            m === undefined
              ? { fault: WalkFault.NOT_MAPPED }
              : {
                  fault: (access & ~effective(m.rights) & 7) !== 0 ? WalkFault.PROTECTION : 0,
                  rights: effective(m.rights),
                  pa: m.pa + (va % K4),
                };
          const actual =
            m === undefined
              ? { fault: out.fault }
              : { fault: out.fault, rights: out.rights, pa: out.frame + (va % 2 ** out.order) };
          const e = JSON.stringify(expected);
          const a = JSON.stringify(actual);
          return e === a ? null : `va 0x${va.toString(16)} access ${access}: expected ${e}, walk gave ${a}`;
        };
        const check = (va: number, access: number) => expect(disagreement(va, access)).toBeNull();

        for (const c of commands) {
          const base = WINDOW + c.slot * M2;
          if (c.op === 'walk') {
            check(base + c.page * K4 + c.offset, c.access);
            continue;
          }
          const va = c.order === 21 ? base : base + c.page * K4;
          const pages = c.order === 21 ? 512 : 1;
          const vpn = va / K4;
          if (c.op === 'map') {
            const pa = c.order === 21 ? c.frame * M2 : c.frame * M2 + c.page * K4;
            alloc.budget = c.budget;
            const ok = f.map(root, va, pa, c.order, c.rights, alloc);
            alloc.budget = null;
            if (c.budget === null) expect(ok).toBe(true);
            if (ok) {
              for (let i = 0; i < pages; i++) {
                if (c.rights === 0) model.delete(vpn + i);
                else model.set(vpn + i, { pa: pa + i * K4, rights: c.rights });
              }
            }
          } else {
            f.unmap(root, va, c.order, alloc);
            for (let i = 0; i < pages; i++) model.delete(vpn + i);
          }

          // Every page of the window agrees with the model.
          for (let p = 0; p < SLOTS * 512; p++) {
            const wrong = disagreement(WINDOW + p * K4, 0);
            if (wrong !== null) expect(wrong).toBeNull();
          }
          // No leak: the live frames are exactly the tables reachable from the root, and
          // unmap left no empty table behind.
          const { tables, empty } = reachableTables(mem, root);
          expect(alloc.live.size).toBe(tables.size);
          for (const t of tables) expect(alloc.live.has(t)).toBe(true);
          expect(empty).toEqual([]);
        }
        f.destroy(root, alloc);
        expect(alloc.live.size).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
