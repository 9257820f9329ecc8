import type { Kernel } from '../kernel';
import type { AddressSpace, MemMapping } from '../mem/address-space';
import type { IoSpace } from '../mem/io-space';
import type { Factory } from '../objects/factory';
import type { KObject } from '../objects/kobject';
import { ObjectKind } from '../objects/kobject';
import type { Task } from '../objects/task';
import { type Thread, ThreadState } from '../objects/thread';
import { MemAccess, MemType, type Translation, WalkFault } from '../platform/page-table';

/**
 * Checks the kernel's invariants and returns every violation found (empty when all
 * hold). The property tests call it after every step:
 * - every capability names a live object, sits where its node says, and has rights
 *   that are a subset of its parent's;
 * - every object's capability count matches the capabilities that name it;
 * - run queues hold exactly the ready threads that are not running, and each CPU's
 *   current thread is ready;
 * - blocked senders are in their receiver's queue; factories stay within quota.
 */
export function checkInvariants(k: Kernel): string[] {
  const problems: string[] = [];
  const counts = new Map<KObject, number>();
  const spaces = [
    k.bootSpace,
    ...[...k.objects].filter((o): o is Task => o.kind === ObjectKind.TASK).map((t) => t.caps),
  ];
  for (const space of spaces) {
    for (const [slot, cap] of space.entries()) {
      const o = cap.payload;
      counts.set(o, (counts.get(o) ?? 0) + 1);
      if (!o.alive || !k.objects.has(o)) problems.push(`slot ${slot} names dead ${o.kind} "${o.name}"`);
      if (cap.index !== slot || cap.space !== space)
        problems.push(`slot ${slot}: node thinks it is at ${cap.index}`);
      if (cap.parent && (cap.rights & ~cap.parent.rights) !== 0) {
        problems.push(`slot ${slot}: rights ${cap.rights} exceed parent's ${cap.parent.rights}`);
      }
      if (cap.parent && cap.parent.payload !== o) problems.push(`slot ${slot}: parent maps another object`);
    }
  }
  for (const o of k.objects) {
    const n = counts.get(o) ?? 0;
    if (n !== o.capCount) problems.push(`${o.kind} "${o.name}": capCount ${o.capCount}, found ${n}`);
    if (n === 0) problems.push(`${o.kind} "${o.name}" is alive without capabilities`);
    if (o.kind === ObjectKind.FACTORY) {
      const f = o as Factory;
      if (f.used < 0 || f.used > f.limit) problems.push(`factory "${f.name}": used ${f.used} of ${f.limit}`);
    }
  }
  const queued = new Set<Thread>();
  for (const cpu of k.cpus) {
    for (const t of cpu.runQueue.threads() as Iterable<Thread>) {
      queued.add(t);
      if (t.state !== ThreadState.READY)
        problems.push(`"${t.name}" queued on cpu${cpu.index} but ${t.state}`);
      if (t.cpu !== cpu.index)
        problems.push(`"${t.name}" queued on cpu${cpu.index} but belongs to cpu${t.cpu}`);
    }
    const cur = cpu.current;
    if (cur && (cur.state !== ThreadState.READY || cur.queued || cur.cpu !== cpu.index)) {
      problems.push(`cpu${cpu.index} runs "${cur.name}" in state ${cur.state}`);
    }
  }
  for (const t of k.threads) {
    const running = k.cpus[t.cpu]?.current === t;
    if (t.state === ThreadState.READY && !running && !queued.has(t))
      problems.push(`ready "${t.name}" is not queued`);
    if (t.state !== ThreadState.READY && (queued.has(t) || running))
      problems.push(`${t.state} "${t.name}" is scheduled`);
    const closedOn = t.state === ThreadState.RECV_WAIT ? (t.partner ?? t.partnerIrq) : null;
    if (closedOn) {
      let found = false;
      for (let w = closedOn.closedWaitersHead; w; w = w.cwNext) if (w === t) found = true;
      if (!found)
        problems.push(`"${t.name}" waits on "${closedOn.name}" but is not in its closed-waiter list`);
    }
    if (t.state === ThreadState.SEND_WAIT) {
      let found = false;
      for (let s = t.qOwner?.sendersHead ?? null; s; s = s.qNext) if (s === t) found = true;
      if (!found) problems.push(`sending "${t.name}" is not in its receiver's queue`);
    }
  }
  return problems;
}

/** Options for {@link checkMemoryInvariants}. */
export interface MemoryCheckOptions {
  /**
   * `full` (the default) enumerates every page table below the reserved region, which
   * costs a few thousand probe walks per task; `sample` probes every node and the pages
   * on either side of it, for callers that check after every step of a long run.
   */
  readonly scan?: 'full' | 'sample';
}

/** The walk result the memory checker reuses. */
const probe: Translation = { fault: 0, frame: 0, order: 0, rights: 0, levels: 0 };

/**
 * Checks the memory invariants of every live task, and throws an Error that names each
 * violated invariant (with the first few offending mappings) when one does not hold:
 * - **mapping index**: every node of `space.mappings()` belongs to that space, sits at
 *   its own index, is aligned to a page size of the format, lies in user memory below
 *   the reserved region, and overlaps no other node;
 * - **page table ↔ mapping database**: the page table, enumerated with probe walks
 *   below the reserved region, has exactly one leaf per node, with the node's address,
 *   size, frame and rights (READ always; WRITE as the node has it; EXEC as the node has
 *   it, never for device memory), and no other leaf — so every address without a node
 *   faults NOT_MAPPED (with `scan: 'sample'`, only the pages next to nodes are probed);
 * - **derivation tree**: sibling and parent links agree; a child's rights are a subset
 *   of its parent's, its frame range lies inside its parent's, and its memory type is
 *   its parent's; every node reachable through the links is held by a live task's space;
 * - **roots**: no frame belongs to two root mappings;
 * - **TLB**: every valid software-TLB entry translates to the frame the page table maps
 *   there, with no right the page table does not grant — a revoked page stays
 *   unreachable through the TLB;
 * - **I/O ports**: every port node sits at its port number in its space, with a parent
 *   that names the same port.
 */
export function checkMemoryInvariants(k: Kernel, options: MemoryCheckOptions = {}): void {
  const problems = new Map<string, string[]>();
  const fail = (invariant: string, detail: string): void => {
    const list = problems.get(invariant) ?? [];
    if (list.length < 5) list.push(detail);
    problems.set(invariant, list);
  };
  const tasks = [...k.objects].filter((o): o is Task => o.kind === ObjectKind.TASK);
  const spaces = new Map<AddressSpace, Task>();
  for (const t of tasks) if (t.space) spaces.set(t.space, t);
  const ios = new Set<IoSpace>();
  for (const t of tasks) if (t.io) ios.add(t.io);
  // sigma0's port roots are made on demand: listing its I/O space would make all 65,536
  // of them in every check. Its nodes are checked from the children's side instead.
  const listed = [...ios].filter((io) => io !== k.sigma0?.io);
  const hex = (n: number): string => `0x${n.toString(16)}`;
  const at = (m: MemMapping): string =>
    `"${spaces.get(m.space as AddressSpace)?.name ?? '?'}" ${hex(m.index)} (2^${m.payload.order} at pa ${hex(m.payload.pa)}, rights ${m.rights})`;
  const roots: MemMapping[] = [];

  for (const [space, task] of spaces) {
    const nodes = [...space.mappings()];
    if (nodes.length !== space.size)
      fail('mapping index', `"${task.name}": size ${space.size} ≠ ${nodes.length}`);
    for (const m of nodes) {
      const p = m.payload;
      const size = 2 ** p.order;
      if (m.space !== space || !space.holds(m)) fail('mapping index', `${at(m)} is not where its node says`);
      if (!space.format.pageOrders.includes(p.order) || m.index % size !== 0 || p.pa % size !== 0)
        fail('mapping index', `${at(m)} is not an aligned page of the format`);
      if (!space.mappable(m.index, size)) fail('mapping index', `${at(m)} is outside user memory`);
      if ((m.rights & 7) === 0 || (m.rights & ~7) !== 0)
        fail('mapping index', `${at(m)} has rights ${m.rights}`);
      checkLinks(m, spaces, fail, at);
      if (!m.parent) roots.push(m);
    }
    const sorted = nodes.sort((a, b) => a.index - b.index);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1]!;
      const b = sorted[i]!;
      if (a.index + 2 ** a.payload.order > b.index) fail('mapping index', `${at(a)} overlaps ${at(b)}`);
    }
    checkPageTable(space, task, options.scan !== 'sample', fail, at);
    checkTlb(space, task, k, fail);
  }

  roots.sort((a, b) => a.payload.pa - b.payload.pa);
  for (let i = 1; i < roots.length; i++) {
    const a = roots[i - 1]!;
    const b = roots[i]!;
    if (a.payload.pa + 2 ** a.payload.order > b.payload.pa)
      fail('roots', `frames of root ${at(a)} and root ${at(b)} overlap`);
  }

  for (const io of listed) {
    for (const m of io.mappings()) {
      if (m.space !== io || io.lookup(m.index) !== m || m.payload !== m.index)
        fail('I/O ports', `port node ${m.index} is not at its port`);
      const parent = m.parent;
      if (!parent) continue;
      if (parent.payload !== m.payload)
        fail('I/O ports', `port ${m.index} derives from port ${parent.payload}`);
      if ((m.rights & ~parent.rights) !== 0)
        fail('I/O ports', `port ${m.index} has rights beyond its parent's`);
      const ps = parent.space as IoSpace;
      if (!ios.has(ps) || ps.lookup(parent.index) !== parent)
        fail('I/O ports', `port ${m.index} derives from a mapping no live task holds`);
    }
  }

  if (problems.size > 0) {
    const text = [...problems].map(
      ([name, list]) => `memory invariant "${name}" violated: ${list.join('; ')}`,
    );
    throw new Error(text.join('\n'));
  }
}

/** Tree links, rights and frame containment of `m` and its children. */
function checkLinks(
  m: MemMapping,
  spaces: ReadonlyMap<AddressSpace, Task>,
  fail: (invariant: string, detail: string) => void,
  at: (m: MemMapping) => string,
): void {
  const parent = m.parent;
  const p = m.payload;
  if (m.prevSibling ? m.prevSibling.nextSibling !== m : parent !== null && parent.firstChild !== m)
    fail('derivation tree', `${at(m)}: its previous sibling or parent does not lead to it`);
  if (m.nextSibling && m.nextSibling.prevSibling !== m)
    fail('derivation tree', `${at(m)}: its next sibling does not lead back to it`);
  for (const s of [m.prevSibling, m.nextSibling]) {
    if (s && s.parent !== parent) fail('derivation tree', `${at(m)}: a sibling has another parent`);
  }
  for (let c = m.firstChild; c; c = c.nextSibling) {
    if (c.parent !== m)
      fail('derivation tree', `${at(c)} is in the child list of ${at(m)} but has another parent`);
    const cs = c.space as AddressSpace;
    if (!spaces.has(cs) || !cs.holds(c))
      fail('derivation tree', `child ${at(c)} of ${at(m)} is held by no live task`);
  }
  if (!parent) return;
  const ps = parent.space as AddressSpace;
  if (!spaces.has(ps) || !ps.holds(parent))
    fail('derivation tree', `${at(m)} derives from ${at(parent)}, which no live task holds`);
  if ((m.rights & ~parent.rights) !== 0)
    fail('derivation tree', `${at(m)} has rights beyond its parent ${at(parent)}`);
  const pp = parent.payload;
  if (p.pa < pp.pa || p.pa + 2 ** p.order > pp.pa + 2 ** pp.order || p.order > pp.order)
    fail('derivation tree', `${at(m)}: frame range outside its parent ${at(parent)}`);
  if (p.memType !== pp.memType) fail('derivation tree', `${at(m)}: memory type differs from its parent's`);
}

/**
 * Enumerates the page table of `space` below the reserved region with probe walks and
 * matches every leaf to a node (or, sampling, probes each node and its neighbours). A NOT_MAPPED walk that read `levels` entries skips the
 * range the missing entry covers (512-entry tables of 4 KiB pages, as on both back
 * ends); a format with another geometry gets one probe per node instead.
 */
function checkPageTable(
  space: AddressSpace,
  task: Task,
  full: boolean,
  fail: (invariant: string, detail: string) => void,
  at: (m: MemMapping) => string,
): void {
  const f = space.format;
  const expected = (m: MemMapping): number =>
    MemAccess.READ |
    (m.rights & MemAccess.WRITE) |
    (m.payload.memType === MemType.NORMAL ? m.rights & MemAccess.EXEC : 0);
  const match = (m: MemMapping | undefined, va: number, tr: Translation): void => {
    if (!m || m.index !== Math.floor(va / 2 ** tr.order) * 2 ** tr.order || m.payload.order !== tr.order) {
      fail(
        'page table ↔ mapping database',
        `"${task.name}": the page table maps 0x${va.toString(16)} (2^${tr.order} at pa 0x${tr.frame.toString(16)}) without a node`,
      );
      return;
    }
    if (tr.frame !== m.payload.pa)
      fail('page table ↔ mapping database', `${at(m)}: page table has pa 0x${tr.frame.toString(16)}`);
    const want = expected(m);
    const got = tr.rights;
    const execOk =
      m.payload.memType === MemType.NORMAL ? (got & 1) === (want & 1) : (got & 1 & ~(m.rights & 1)) === 0;
    if ((got & 6) !== (want & 6) || !execOk)
      fail(
        'page table ↔ mapping database',
        `${at(m)}: page table grants rights ${got}, the node ${m.rights}`,
      );
  };
  const levels = (f.vaBits - 12) / 9;
  if (!full || !Number.isInteger(levels)) {
    // One probe per node; the pages just outside it fault unless another node covers them.
    for (const m of space.mappings()) {
      const tr = space.walk(m.index, 0, probe);
      if (tr.fault !== 0) fail('page table ↔ mapping database', `${at(m)}: the page table does not map it`);
      else match(m, m.index, tr);
      for (const va of [m.index - 4096, m.index + 2 ** m.payload.order]) {
        if (va < 0 || va >= space.reserved.base || space.mappingAt(va)) continue;
        if (space.walk(va, 0, probe).fault !== WalkFault.NOT_MAPPED)
          fail(
            'page table ↔ mapping database',
            `"${task.name}": 0x${va.toString(16)} has no node but is mapped`,
          );
      }
    }
    return;
  }
  // The span a missing entry covers, by the number of entries the walk read.
  const spans = Array.from({ length: levels + 1 }, (_, l) => 2 ** (f.vaBits - 9 * Math.max(l, 1)));
  const limit = space.reserved.base;
  let leaves = 0;
  for (let va = 0; va < limit; ) {
    const tr = space.walk(va, 0, probe);
    if (tr.fault === WalkFault.NOT_MAPPED) {
      const span = spans[tr.levels]!;
      va = (Math.floor(va / span) + 1) * span;
      continue;
    }
    if (tr.fault === WalkFault.BAD_ADDRESS) break;
    if (tr.fault !== 0) {
      fail(
        'page table ↔ mapping database',
        `"${task.name}": a probe of 0x${va.toString(16)} faults ${tr.fault}`,
      );
      va += 4096;
      continue;
    }
    leaves++;
    match(space.mappingAt(va), va, tr);
    const size = 2 ** tr.order;
    va = (Math.floor(va / size) + 1) * size;
  }
  if (leaves !== space.size)
    fail(
      'page table ↔ mapping database',
      `"${task.name}": ${leaves} page-table leaves for ${space.size} nodes`,
    );
}

/** Every valid TLB entry agrees with the page table. */
function checkTlb(
  space: AddressSpace,
  task: Task,
  k: Kernel,
  fail: (invariant: string, detail: string) => void,
): void {
  const tlb = space.tlb;
  const ramBase = k.memory?.ram.base ?? 0;
  for (let i = 0; i < tlb.tags.length; i++) {
    const vpn = tlb.tags[i]!;
    if (vpn < 0) continue;
    const va = vpn * 4096;
    const tr = space.walk(va, 0, probe);
    if (tr.fault !== 0) {
      fail('TLB', `"${task.name}": entry for 0x${va.toString(16)}, which the page table does not map`);
      continue;
    }
    const pa = tr.frame + (va % 2 ** tr.order);
    if (tlb.offsets[i] !== pa - ramBase || (tlb.rights[i]! & ~tr.rights) !== 0) {
      fail('TLB', `"${task.name}": entry for 0x${va.toString(16)} disagrees with the page table`);
    }
  }
}
