import type { MapNode, MappingSpace } from '@pecan/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRoot, deriveChild, removeSubtree, revoke } from '../src/cap/mapdb';

/** A space that records which indices it holds. */
class RecordingSpace implements MappingSpace<string> {
  readonly held = new Map<number, MapNode<string>>();
  detach(node: MapNode<string>): void {
    this.held.delete(node.index);
  }
}

function walk(n: MapNode<string>, out: MapNode<string>[] = []): MapNode<string>[] {
  out.push(n);
  for (let c = n.firstChild; c; c = c.nextSibling) walk(c, out);
  return out;
}

describe('mapping database', () => {
  it('revokes a 100,000-deep derivation chain without exhausting the stack', () => {
    const space = new RecordingSpace();
    const root = createRoot(space, 0, 0xf, 'obj');
    space.held.set(0, root);
    let n = root;
    for (let i = 1; i <= 100_000; i++) {
      n = deriveChild(n, space, i, i % 2 ? 0xf : 0x7);
      space.held.set(i, n);
    }
    expect(revoke(root, 0x1, false)).toBe(0);
    expect(revoke(root, 0xf, false)).toBe(100_000);
    expect(space.held.size).toBe(1);
    expect(root.firstChild).toBeNull();
  });

  it('keeps child rights a subset of the parent’s, and removes exactly the emptied subtrees', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 15 })), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 15 }),
        fc.boolean(),
        (shape, mask, self) => {
          const space = new RecordingSpace();
          const root = createRoot(space, 0, 0xf, 'obj');
          space.held.set(0, root);
          const nodes = [root];
          shape.forEach(([parent, rights], i) => {
            const child = deriveChild(nodes[parent % nodes.length]!, space, i + 1, rights | 1);
            nodes.push(child);
            space.held.set(i + 1, child);
          });
          const before = nodes.map((x) => x.rights);
          const removed = revoke(root, mask, self);
          const alive = self && (root.rights & ~mask) === 0 ? [] : walk(root);
          expect(space.held.size).toBe(nodes.length - removed);
          for (const x of alive) {
            expect(space.held.get(x.index)).toBe(x);
            if (x.parent) expect(x.rights & ~x.parent.rights).toBe(0);
            const i = nodes.indexOf(x);
            if (x !== root || self) expect(x.rights).toBe(before[i]! & ~mask & 0xff);
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('removeSubtree detaches every node below, children before parents', () => {
    const order: number[] = [];
    const space: MappingSpace<string> = { detach: (n) => order.push(n.index) };
    const root = createRoot(space, 1, 0xf, 'o');
    const a = deriveChild(root, space, 2, 0xf);
    deriveChild(a, space, 3, 0xf);
    deriveChild(root, space, 4, 0xf);
    expect(removeSubtree(root)).toBe(4);
    expect(order.indexOf(3)).toBeLessThan(order.indexOf(2));
    expect(order.at(-1)).toBe(1);
  });
});
