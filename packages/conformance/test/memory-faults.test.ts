/**
 * Page faults on every back end: a pager that resolves them without the faulting code
 * noticing, faults nobody may resolve reported precisely, and the exception IPC frame
 * in each architecture's own encoding (x86 #PF/#GP error code and CR2; AArch64 ESR_EL1
 * and FAR_EL1).
 */
import { ArmEc, decodeArmException } from '@pecan/hw-arm';
import { decodeX86Exception, X86PfError, X86Vector } from '@pecan/hw-x86';
import {
  CapRights,
  capIndex,
  FixedSlot,
  MemRights,
  mapMemory,
  memFpage,
  memMapControl,
  msgtag,
  Proto,
  type Task,
  tagLabel,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';
import {
  type Access,
  bootMemory,
  hex,
  type MemorySystem,
  MiB,
  outcomes,
  probe,
  runChecked,
  spawn,
  unresolved,
} from './memory-helpers';

const PAGER = capIndex(FixedSlot.PAGER);
const HANDLER = capIndex(20);
const V = 0x5000_0000;
const W = 0x6000_0000;

/** A page of sigma0's, mapped into `task` at `va` with `rights` (host side, as a pager would). */
function give(sys: MemorySystem, task: Task, va: number, order: number, rights: number, offset = 0): number {
  const pa = sys.big(0) + offset;
  expect(mapMemory(sys.s0.space!, pa, order, task.space!, va, rights)).toBe(0);
  return pa;
}

describe.each(BACKENDS)('page faults on $name', (backend) => {
  const small = { ramSize: 8 * MiB };

  it('a write to a read-only page goes to the pager, which upgrades it; the write completes unseen', () => {
    const sys = bootMemory(backend, small);
    const { k, s0 } = sys;
    const frame = sys.big(1) + 0x4000;
    const faults: number[][] = [];
    const pager = spawn(
      k,
      s0,
      function* (env) {
        let tag: number = yield env.wait();
        for (;;) {
          const addr = env.utcb.mr(0);
          faults.push([tagLabel(tag), addr, env.utcb.mr(1), env.label]);
          // Read faults get the page read-only, write faults read-write.
          const rights = (addr & 7) === 2 ? MemRights.RW : MemRights.R;
          env.utcb.setMr(0, memMapControl(addr));
          env.utcb.setMr(1, memFpage(frame, 12, rights));
          tag = yield env.replyAndWait(msgtag(0, 0, 1));
        }
      },
      { name: 'pager', priority: 5 },
    );
    const client = k.createTask('client');
    k.mapCap(client, FixedSlot.PAGER, k.createGate(pager, 0x40, 'pager'), CapRights.RW);
    const seen: unknown[] = [];
    let before: unknown = null;
    const t = spawn(
      k,
      client,
      function* (env) {
        const mrs = [11, 22, 33, 44];
        mrs.forEach((v, i) => {
          env.utcb.setMr(i, v);
        });
        seen.push(yield* env.mem.readU32(V + 0x21));
        before = client.space!.mappingAt(V);
        yield* env.mem.writeU32(V + 0x21, 0xfeed_f00d);
        seen.push(yield* env.mem.readU32(V + 0x21));
        seen.push(
          mrs.map((_, i) => env.utcb.mr(i)),
          env.utcb.error,
        );
      },
      { name: 'client', pager: PAGER },
    );
    const r = runChecked(k);
    expect(r.dead).toEqual([]);
    expect(seen).toEqual([0, 0xfeed_f00d, [11, 22, 33, 44], 0]);
    // MR0: the address rounded down to 8 with the access (r 4, w 2) in the low bits; MR1: the IP.
    expect(faults).toEqual([
      [Proto.PAGE_FAULT, V + 0x20 + 4, t.ip, 0x40 + 1],
      [Proto.PAGE_FAULT, V + 0x20 + 2, t.ip, 0x40 + 1],
    ]);
    // The mapping was upgraded in place: the same node, now read-write.
    const after = client.space!.mappingAt(V)!;
    expect(after).toBe(before);
    expect(after.rights).toBe(MemRights.RW);
    expect(after.parent).toBe(s0.space!.mappingAt(frame));
    // sigma0 sees the write at the frame (its own mapping is one to one).
    const check = probe(k, s0, 'read', frame + 0x21);
    expect(outcomes(runChecked(k), [check])).toEqual({ [check.name]: 0xfeed_f00d });
  });

  it('a pager that declines a fault leaves the thread stopped with the reason', () => {
    const sys = bootMemory(backend, small);
    const { k, s0 } = sys;
    const pager = spawn(
      k,
      s0,
      function* (env) {
        yield env.wait();
        yield env.reply(msgtag(7, 0));
      },
      { name: 'pager', priority: 5 },
    );
    const client = k.createTask('client');
    k.mapCap(client, FixedSlot.PAGER, k.createGate(pager, 0x40, 'pager'), CapRights.RW);
    const p = probe(k, client, 'read', V, { pager: PAGER });
    expect(outcomes(runChecked(k), [p])).toEqual({
      [p.name]: `died: read at ${hex(V)}: page not mapped — the pager declined it (reply label 7)`,
    });
  });

  it('a fault without a usable pager is reported with why', () => {
    const sys = bootMemory(backend, small);
    const { k, s0 } = sys;
    const client = k.createTask('client');
    // A pager that is gone by the time anyone faults, reached through a gate.
    const gone = spawn(k, s0, function* () {}, { name: 'gone pager', priority: 9 });
    k.mapCap(client, 21, k.createGate(gone, 0x40, 'to the gone pager'), CapRights.RW);
    k.mapCap(client, 22, k.createGate(null, 0x40, 'unbound'), CapRights.RW);
    k.mapCap(client, 23, s0, CapRights.RW);
    const cases: [number, string][] = [
      [0, 'the thread has no pager'],
      [capIndex(30), 'its pager capability 0x1e000 is empty'],
      [capIndex(21), 'its pager "gone pager" is dead'],
      [capIndex(22), 'its pager capability names a gate bound to no thread, not a thread or bound gate'],
      [capIndex(23), 'its pager capability names a task object, not a thread or bound gate'],
    ];
    const probes = cases.map(([pager], i) =>
      probe(k, client, 'write', V + 8 * i, { pager, name: `pager ${hex(pager)}` }),
    );
    // A thread cannot resolve its own faults.
    const own = probe(k, client, 'read', V, { name: 'own pager', pager: capIndex(25), slot: 25 });
    const r = runChecked(k);
    expect(outcomes(r, [...probes, own])).toEqual({
      ...Object.fromEntries(
        cases.map(([pager, why], i) => [
          `pager ${hex(pager)}`,
          unresolved('write', V + 8 * i, 'not mapped', why),
        ]),
      ),
      'own pager': unresolved('read', V, 'not mapped', 'the thread is its own pager'),
    });
  });

  describe('exception IPC frames', () => {
    interface Case {
      readonly name: string;
      readonly access: Access;
      readonly va: number;
      /** Maps what the case needs into the client before it runs. */
      readonly setup?: (sys: MemorySystem, client: Task) => void;
      readonly x86: { vector: number; errorCode: number; cr2: bigint };
      /** ESR_EL1 and FAR_EL1. */
      readonly arm: { esr: number; far: bigint };
      readonly text: Record<string, string>;
    }
    const ro4k = (sys: MemorySystem, c: Task) => give(sys, c, V, 12, MemRights.R);
    const rw4k = (sys: MemorySystem, c: Task) => give(sys, c, V, 12, MemRights.RW);
    const ro2m = (sys: MemorySystem, c: Task) => give(sys, c, W, 21, MemRights.R);
    const { P, W: WR, U, I } = X86PfError;
    const PF = X86Vector.PF;
    const noPager = (what: string, va: number, f: string) =>
      `${what} at ${hex(va)}: ${f} — unresolved: the thread has no pager`;
    const both = (s: string) => ({ x86_64: s, aarch64: s });
    const cases: Case[] = [
      {
        name: 'read, nothing mapped anywhere near (translation fault, level 0)',
        access: 'read',
        va: V + 0x10,
        x86: { vector: PF, errorCode: U, cr2: BigInt(V + 0x10) },
        arm: { esr: 0x9200_0004, far: BigInt(V + 0x10) },
        text: both(noPager('read', V + 0x10, 'page not mapped')),
      },
      {
        name: 'read, the next page of a mapped one (translation fault, level 3)',
        access: 'read',
        va: V + 0x1010,
        setup: ro4k,
        x86: { vector: PF, errorCode: U, cr2: BigInt(V + 0x1010) },
        arm: { esr: 0x9200_0007, far: BigInt(V + 0x1010) },
        text: both(noPager('read', V + 0x1010, 'page not mapped')),
      },
      {
        // The first four-byte read's first two bytes are mapped: it faults where they end.
        name: 'read across into an unmapped page (faults at that page, level 3)',
        access: 'read',
        va: V + 0xffe,
        setup: ro4k,
        x86: { vector: PF, errorCode: U, cr2: BigInt(V + 0x1000) },
        arm: { esr: 0x9200_0007, far: BigInt(V + 0x1000) },
        text: both(noPager('read', V + 0x1000, 'page not mapped')),
      },
      {
        name: 'read, the next 2 MiB of a mapped page (translation fault, level 2)',
        access: 'read',
        va: V + 2 * MiB,
        setup: ro4k,
        x86: { vector: PF, errorCode: U, cr2: BigInt(V + 2 * MiB) },
        arm: { esr: 0x9200_0006, far: BigInt(V + 2 * MiB) },
        text: both(noPager('read', V + 2 * MiB, 'page not mapped')),
      },
      {
        name: 'read, the next 1 GiB of a mapped page (translation fault, level 1)',
        access: 'read',
        va: V + 1024 * MiB,
        setup: ro4k,
        x86: { vector: PF, errorCode: U, cr2: BigInt(V + 1024 * MiB) },
        arm: { esr: 0x9200_0005, far: BigInt(V + 1024 * MiB) },
        text: both(noPager('read', V + 1024 * MiB, 'page not mapped')),
      },
      {
        name: 'write, nothing mapped',
        access: 'write',
        va: V + 0x10,
        x86: { vector: PF, errorCode: U | WR, cr2: BigInt(V + 0x10) },
        arm: { esr: 0x9200_0044, far: BigInt(V + 0x10) },
        text: both(noPager('write', V + 0x10, 'page not mapped')),
      },
      {
        name: 'write to a read-only 4 KiB page (permission fault, level 3, WnR)',
        access: 'write',
        va: V + 0x10,
        setup: ro4k,
        x86: { vector: PF, errorCode: P | WR | U, cr2: BigInt(V + 0x10) },
        arm: { esr: 0x9200_004f, far: BigInt(V + 0x10) },
        text: both(noPager('write', V + 0x10, 'page mapped without that right')),
      },
      {
        name: 'write to a read-only 2 MiB page (permission fault, level 2, WnR)',
        access: 'write',
        va: W + 0x1_2344,
        setup: ro2m,
        x86: { vector: PF, errorCode: P | WR | U, cr2: BigInt(W + 0x1_2344) },
        arm: { esr: 0x9200_004e, far: BigInt(W + 0x1_2344) },
        text: both(noPager('write', W + 0x1_2344, 'page mapped without that right')),
      },
      {
        name: 'instruction fetch from a no-execute page (instruction abort, permission, level 3)',
        access: 'fetch',
        va: V + 0x10,
        setup: rw4k,
        x86: { vector: PF, errorCode: P | U | I, cr2: BigInt(V + 0x10) },
        arm: { esr: 0x8200_000f, far: BigInt(V + 0x10) },
        text: both(noPager('instruction fetch', V + 0x10, 'page mapped without that right')),
      },
      {
        name: 'instruction fetch, nothing mapped (instruction abort, translation, level 0)',
        access: 'fetch',
        va: V + 0x10,
        x86: { vector: PF, errorCode: U | I, cr2: BigInt(V + 0x10) },
        arm: { esr: 0x8200_0004, far: BigInt(V + 0x10) },
        text: both(noPager('instruction fetch', V + 0x10, 'page not mapped')),
      },
      {
        // x86: bits 63:47 differ, #GP(0) before paging. AArch64: an ordinary TTBR0 address.
        name: 'read at 2^47 + 4 KiB',
        access: 'read',
        va: 2 ** 47 + 4096,
        x86: { vector: X86Vector.GP, errorCode: 0, cr2: 0n },
        arm: { esr: 0x9200_0004, far: BigInt(2 ** 47 + 4096) },
        text: {
          x86_64: 'read at 0x800000001000: not a user address',
          aarch64: noPager('read', 2 ** 47 + 4096, 'page not mapped'),
        },
      },
      {
        // Outside both TTBR ranges on AArch64: translation fault at level 0.
        name: 'read at 2^48 + 4 KiB',
        access: 'read',
        va: 2 ** 48 + 4096,
        x86: { vector: X86Vector.GP, errorCode: 0, cr2: 0n },
        arm: { esr: 0x9200_0004, far: BigInt(2 ** 48 + 4096) },
        text: both('read at 0x1000000001000: not a user address'),
      },
      {
        name: 'read at the x86 kernel half, 0xffff800000000000',
        access: 'read',
        va: 2 ** 64 - 2 ** 47,
        x86: { vector: PF, errorCode: P | U, cr2: 0xffff_8000_0000_0000n },
        arm: { esr: 0x9200_000d, far: 0xffff_8000_0000_0000n },
        text: both('read at 0xffff800000000000: not a user address'),
      },
      {
        // AArch64's TTBR1 range starts here; on x86 bits 63:47 are not all equal.
        name: 'write at the AArch64 kernel half, 0xffff000000000000',
        access: 'write',
        va: 2 ** 64 - 2 ** 48,
        x86: { vector: X86Vector.GP, errorCode: 0, cr2: 0n },
        arm: { esr: 0x9200_004d, far: 0xffff_0000_0000_0000n },
        text: both('write at 0xffff000000000000: not a user address'),
      },
    ];

    it.each(cases)('$name', (c) => {
      const sys = bootMemory(backend, small);
      const { k } = sys;
      const client = k.createTask('client');
      c.setup?.(sys, client);
      const frames: { label: number; words: number[]; address: bigint }[] = [];
      const handlerTask = k.createTask('handler');
      const handler = spawn(
        k,
        handlerTask,
        function* (env) {
          const tag: number = yield env.wait();
          frames.push({
            label: tagLabel(tag),
            words: [0, 1, 2, 3, 4, 5].map((i) => env.utcb.mr(i)),
            // CR2 (MR2) on x86, FAR (MR1) on AArch64, as the unsigned 64-bit register.
            address: env.utcb.word64(backend.name === 'x86_64' ? 2 : 1),
          });
          yield env.reply(msgtag(1, 0)); // not resumable: the thread stays stopped
        },
        { name: 'handler', priority: 5 },
      );
      k.mapCap(client, 20, k.createGate(handler, 0x70, 'exceptions'), CapRights.RW);
      const p = probe(k, client, c.access, c.va, { exceptionHandler: HANDLER, arg: 0x7000 });
      const r = runChecked(k);
      expect(outcomes(r, [p])).toEqual({ [p.name]: `died: ${c.text[backend.name]}` });
      expect(frames.length).toBe(1);
      const f = frames[0]!;
      expect(f.label).toBe(Proto.EXCEPTION);
      const ip = p.thread!.ip;
      if (backend.name === 'x86_64') {
        const d = decodeX86Exception(f.words);
        expect({ vector: d.vector, errorCode: d.errorCode, cr2: f.address, rip: d.rip, rsp: d.rsp }).toEqual({
          ...c.x86,
          rip: ip,
          rsp: 0x7000,
        });
      } else {
        const d = decodeArmException(f.words);
        expect({ esr: d.esr, far: f.address, pc: d.pc, sp: d.sp }).toEqual({ ...c.arm, pc: ip, sp: 0x7000 });
        expect(d.ec).toBe(c.access === 'fetch' ? ArmEc.IABT_LOW : ArmEc.DABT_LOW);
      }
    });

    it('an address no pager may map goes to the exception handler, not to the pager', () => {
      const sys = bootMemory(backend, small);
      const { k, s0 } = sys;
      const asked: number[] = [];
      const pager = spawn(
        k,
        s0,
        function* (env) {
          for (;;) {
            yield env.wait();
            asked.push(env.utcb.mr(0));
          }
        },
        { name: 'pager', priority: 5 },
      );
      const client = k.createTask('client');
      k.mapCap(client, FixedSlot.PAGER, k.createGate(pager, 0x40, 'pager'), CapRights.RW);
      const va = 2 ** 64 - 2 ** 47;
      const p = probe(k, client, 'read', va, { pager: PAGER });
      const r = runChecked(k);
      expect(outcomes(r, [p])).toEqual({ [p.name]: 'died: read at 0xffff800000000000: not a user address' });
      expect(asked).toEqual([]);
    });
  });
});
