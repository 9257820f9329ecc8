/**
 * Memory, I/O and object flexpages through IPC on every back end: several kinds in one
 * message, receive windows smaller and larger than the flexpage (X.2's hot-spot rule),
 * and the exact IPC errors when an item cannot be mapped.
 */
import {
  CapRights,
  capIndex,
  EIPC_LO,
  Errno,
  FixedSlot,
  IpcError,
  ioFpage,
  MemRights,
  mapItemControl,
  memFpage,
  memMapControl,
  msgtag,
  objFpage,
  type Task,
  TaskRef,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';
import { bootMemory, describeMapping, hex, type MemorySystem, runChecked, spawn } from './memory-helpers';

const VA_R = 0x2000_0000;
const COM1 = 0x3f8;

/** An IPC from a sigma0 thread to a thread of `receiver` that sets its BRs to `windows`. */
function transfer(
  sys: MemorySystem,
  receiver: Task,
  windows: number[],
  message: { words: number[]; items: [number, number][] },
) {
  const { k, s0 } = sys;
  const got = { sent: NaN, received: NaN, mrs: [] as number[] };
  const r = spawn(
    k,
    receiver,
    function* (env) {
      windows.forEach((w, i) => {
        env.utcb.setBr(i, w);
      });
      env.utcb.setBr(windows.length, 0);
      const tag: number = yield env.wait();
      got.received = env.error(tag);
      const n = message.words.length + 2 * message.items.length;
      for (let i = 0; i < n; i++) got.mrs.push(env.utcb.mr(i));
    },
    { name: 'receiver', priority: 5 },
  );
  k.mapCap(s0, 50, k.createGate(r, 0x40, 'to receiver'), CapRights.RW);
  spawn(k, s0, function* (env) {
    const mrs = [...message.words, ...message.items.flat()];
    mrs.forEach((v, i) => {
      env.utcb.setMr(i, v);
    });
    const tag: number = yield env.send(capIndex(50), msgtag(0, message.words.length, message.items.length));
    got.sent = env.error(tag);
  });
  runChecked(k);
  return got;
}

describe.each(BACKENDS)('flexpages through IPC on $name', (backend) => {
  it('one message carries an object, a memory and an I/O flexpage', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const R = k.createTask('R');
    const frame = sys.big(1) + 0x2000;
    const log = s0.caps.lookup(5)!.payload; // sigma0's Log, slot 5
    const got = transfer(sys, R, [objFpage(40, 0, 0), memFpage(VA_R, 12, 0), ioFpage(0, 16)], {
      words: [0x1234],
      items: [
        [mapItemControl(), objFpage(5, 0, CapRights.RW)],
        [memMapControl(VA_R), memFpage(frame, 12, MemRights.RW)],
        [mapItemControl(), ioFpage(COM1, 3)],
      ],
    });
    // Objects and memory map everywhere.
    expect(R.caps.lookup(40)!.payload).toBe(log);
    expect(R.caps.lookup(40)!.rights).toBe(CapRights.RW);
    expect(describeMapping(R.space!.mappingAt(VA_R))).toBe(`va ${hex(VA_R)} pa ${hex(frame)} 2^12 r6`);
    if (backend.name === 'x86_64') {
      expect(k.platform.ioPorts).toBe(65536);
      expect(got).toEqual({
        sent: 0,
        received: 0,
        mrs: [
          0x1234,
          mapItemControl(),
          objFpage(40, 0, CapRights.RW),
          memMapControl(VA_R),
          memFpage(VA_R, 12, MemRights.RW),
          mapItemControl(),
          ioFpage(COM1, 3),
        ],
      });
      const ports = [COM1 - 1, COM1, COM1 + 7, COM1 + 8].map((p) => R.io!.lookup(p) !== undefined);
      expect(ports).toEqual([false, true, true, false]);
      expect(R.io!.lookup(COM1)!.parent).toBe(s0.io!.lookup(COM1));
    } else {
      // No I/O ports on the virt board: the item cannot be mapped, the ones before it stay.
      expect(k.platform.ioPorts).toBeUndefined();
      expect(R.io).toBeNull();
      expect([got.sent, got.received]).toEqual([
        -(EIPC_LO + IpcError.SEMAPFAILED),
        -(EIPC_LO + IpcError.REMAPFAILED),
      ]);
    }
  });

  it('Task.map and Task.unmap take I/O flexpages where the machine has ports', () => {
    const sys = bootMemory(backend);
    const { k, s0 } = sys;
    const A = k.createTask('A');
    const aCap = capIndex(40);
    k.mapCap(s0, 40, A, CapRights.ALL);
    const got: number[] = [];
    spawn(k, s0, function* (env) {
      const a = new TaskRef(env, aCap);
      got.push(yield* a.map(capIndex(FixedSlot.TASK), ioFpage(0x60, 2), 0));
      // Revoke the first two of the four from A (sigma0 keeps its own).
      got.push(yield* env.task.unmap([ioFpage(0x60, 1)]));
    });
    runChecked(k);
    if (backend.name === 'x86_64') {
      expect(got).toEqual([0, 0]);
      expect([0x5f, 0x60, 0x61, 0x62, 0x63, 0x64].map((p) => A.io!.lookup(p) !== undefined)).toEqual([
        false,
        false,
        false,
        true,
        true,
        false,
      ]);
      expect(s0.io!.lookup(0x60)).toBeDefined();
    } else {
      expect(got).toEqual([-Errno.EINVAL, -Errno.EINVAL]);
    }
  });

  it('an item whose window is of another type cuts the message', () => {
    const sys = bootMemory(backend);
    const R = sys.k.createTask('R');
    const got = transfer(sys, R, [memFpage(VA_R, 12, 0)], {
      words: [],
      items: [[mapItemControl(), objFpage(5, 0, CapRights.RW)]],
    });
    expect([got.sent, got.received]).toEqual([
      -(EIPC_LO + IpcError.SEMSGCUT),
      -(EIPC_LO + IpcError.REMSGCUT),
    ]);
    expect(R.space!.size).toBe(0);
  });

  it('a flexpage larger than the window sends the window-sized part around the hot spot', () => {
    const sys = bootMemory(backend);
    const R = sys.k.createTask('R');
    const frame = sys.big(2);
    const hot = frame + 0x5_3123;
    const got = transfer(sys, R, [memFpage(VA_R, 14, 0)], {
      words: [],
      items: [[memMapControl(hot), memFpage(frame, 21, MemRights.RW)]],
    });
    // 0x5_3123 lies in the 16 KiB part at 0x5_0000 of the 2 MiB flexpage.
    expect(got).toEqual({
      sent: 0,
      received: 0,
      mrs: [memMapControl(hot), memFpage(VA_R, 14, MemRights.RW)],
    });
    const nodes = [...R.space!.mappings()].sort((a, b) => a.index - b.index).map(describeMapping);
    expect(nodes).toEqual(
      [0, 1, 2, 3].map((i) => `va ${hex(VA_R + i * 4096)} pa ${hex(frame + 0x5_0000 + i * 4096)} 2^12 r6`),
    );
  });

  it('a flexpage smaller than the window lands at the hot spot’s offset in the window', () => {
    const sys = bootMemory(backend);
    const R = sys.k.createTask('R');
    const frame = sys.big(2) + 0x9000;
    const got = transfer(sys, R, [memFpage(VA_R, 16, 0)], {
      words: [],
      items: [[memMapControl(0x7_5000), memFpage(frame, 12, MemRights.R)]],
    });
    expect(got).toEqual({
      sent: 0,
      received: 0,
      mrs: [memMapControl(0x7_5000), memFpage(VA_R + 0x5000, 12, MemRights.R)],
    });
    expect([...R.space!.mappings()].map(describeMapping)).toEqual([
      `va ${hex(VA_R + 0x5000)} pa ${hex(frame)} 2^12 r4`,
    ]);
  });

  it('a 2 MiB window receives a 2 MiB flexpage of a 2 MiB page as one large page', () => {
    const sys = bootMemory(backend);
    const R = sys.k.createTask('R');
    const frame = sys.big(3);
    const got = transfer(sys, R, [memFpage(VA_R, 21, 0)], {
      words: [],
      items: [[memMapControl(frame), memFpage(frame, 21, MemRights.RWX)]],
    });
    expect(got).toEqual({
      sent: 0,
      received: 0,
      mrs: [memMapControl(frame), memFpage(VA_R, 21, MemRights.RWX)],
    });
    expect([...R.space!.mappings()].map(describeMapping)).toEqual([
      `va ${hex(VA_R)} pa ${hex(frame)} 2^21 r7`,
    ]);
  });

  it('a memory item that cannot be placed fails the map with exact errors; nothing lands', () => {
    const sys = bootMemory(backend);
    const R = sys.k.createTask('R');
    const frame = sys.big(1);
    // A window inside the kernel-reserved region at the top of the address space.
    const reserved = sys.k.memory!.reserved.base;
    const got = transfer(sys, R, [memFpage(reserved, 12, 0)], {
      words: [],
      items: [[memMapControl(frame), memFpage(frame, 12, MemRights.RW)]],
    });
    expect([got.sent, got.received]).toEqual([
      -(EIPC_LO + IpcError.SEMAPFAILED),
      -(EIPC_LO + IpcError.REMAPFAILED),
    ]);
    expect(R.space!.size).toBe(0);
  });
});
