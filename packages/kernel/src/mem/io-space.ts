/**
 * A task's I/O space: the x86 I/O ports it may use (the I/O permission bitmap of its
 * TSS, on hardware). Ports are mapped and granted through I/O flexpages like memory,
 * one mapping-database node per port; sigma0 holds the roots of all ports at boot.
 * I/O flexpages land at the same port numbers: ports have no addresses to translate.
 *
 * sigma0's roots are made when first looked at: 65,536 nodes built up front would make
 * every boot pay for ports nobody uses.
 *
 * Invariant: `ports[p]` is a node with `space === this` and `index === p`, or empty; a
 * port of a space that owns all ports has a root until its root is first made
 * (`made[p]`), and from then on only what `ports` holds.
 */
import { createRoot, deriveChild, type MapNode, type MappingSpace, moveNode } from '../cap/mapdb';

/** Rights an I/O port mapping carries (X.2 has none for ports: all or nothing). */
export const IO_RIGHTS = 0x6;

/** The payload of a port mapping: the port number. */
export type IoMapping = MapNode<number>;

export class IoSpace implements MappingSpace<number> {
  private readonly ports = new Map<number, IoMapping>();
  /** Set by {@link IoSpace.mapAllPorts}: which roots have been made (1) so far. */
  private made: Uint8Array | null = null;

  constructor(
    /** Number of ports of the machine (65,536 on a PC). */
    readonly portCount: number,
  ) {}

  /** Number of ports mapped. */
  get size(): number {
    this.makeAllRoots();
    return this.ports.size;
  }

  /** The mapping of `port`, if this task may use it. */
  lookup(port: number): IoMapping | undefined {
    const made = this.made;
    if (made !== null && made[port] === 0 && port >= 0 && port < this.portCount) {
      made[port] = 1;
      this.ports.set(port, createRoot(this, port, IO_RIGHTS, port));
    }
    return this.ports.get(port);
  }

  /** True when the task may use every port of `[base, base + count)`. */
  allows(base: number, count: number): boolean {
    for (let p = base; p < base + count; p++) if (!this.lookup(p)) return false;
    return true;
  }

  /** Every mapping (all roots made first), in the order made. */
  mappings(): IterableIterator<IoMapping> {
    this.makeAllRoots();
    return this.ports.values();
  }

  private makeAllRoots(): void {
    if (this.made === null) return;
    for (let p = 0; p < this.portCount; p++) this.lookup(p);
    this.made = null;
  }

  detach(node: IoMapping): void {
    if (this.ports.get(node.index) === node) this.ports.delete(node.index);
  }

  /** Gives this space the roots of every port (sigma0 at boot). */
  mapAllPorts(): void {
    this.made = new Uint8Array(this.portCount);
  }

  /**
   * Maps (or with `grant` moves) the ports of `[base, base + count)` that `src` holds
   * into this space. A port this space already holds is left as it is.
   */
  mapFrom(src: IoSpace, base: number, count: number, grant: boolean): void {
    for (let p = base; p < base + count; p++) {
      const node = src.lookup(p);
      if (!node || this.lookup(p)) continue;
      if (grant) {
        src.ports.delete(p);
        moveNode(node, this, p, IO_RIGHTS);
        this.ports.set(p, node);
      } else {
        this.ports.set(p, deriveChild(node, this, p, IO_RIGHTS));
      }
    }
  }

  /** Forgets every mapping without revoking (the caller revoked the subtrees). */
  removeAll(): void {
    this.made = null;
    this.ports.clear();
  }
}
