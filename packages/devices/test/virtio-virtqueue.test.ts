import { describe, expect, it } from 'vitest';
import { ramDma } from '../src/device';
import {
  layoutProblem,
  readChain,
  SplitVirtqueue,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  type WalkOptions,
  writeChain,
} from '../src/virtio';

const BASE = 0x1_0000_0000; // above 4 GiB: addresses need both 32-bit halves
const SIZE = 0x10000;
const DESC = BASE;
const AVAIL = BASE + 0x1000;
const USED = BASE + 0x2000;
const NEXT = VIRTQ_DESC_F_NEXT;
const WRITE = VIRTQ_DESC_F_WRITE;
const INDIRECT = VIRTQ_DESC_F_INDIRECT;
const OPTS: WalkOptions = { indirect: true, maxSegments: 64 };

function setup(size = 8) {
  const ram = new ArrayBuffer(SIZE);
  const view = new DataView(ram);
  const dma = ramDma(ram, BASE, SIZE);
  const vq = new SplitVirtqueue(dma, 0, { size, desc: DESC, avail: AVAIL, used: USED });
  const desc = (i: number, addr: number, len: number, flags: number, next = 0, table = DESC) => {
    const o = table - BASE + 16 * i;
    view.setUint32(o, addr % 2 ** 32, true);
    view.setUint32(o + 4, Math.floor(addr / 2 ** 32), true);
    view.setUint32(o + 8, len, true);
    view.setUint16(o + 12, flags, true);
    view.setUint16(o + 14, next, true);
  };
  let availIdx = 0;
  const offer = (head: number) => {
    view.setUint16(AVAIL - BASE + 4 + 2 * (availIdx % size), head, true);
    availIdx = (availIdx + 1) & 0xffff;
    view.setUint16(AVAIL - BASE + 2, availIdx, true);
  };
  return { ram, view, dma, vq, desc, offer };
}

describe('split virtqueue layout', () => {
  it('accepts power-of-two sizes and aligned areas only', () => {
    const ok = { size: 8, desc: 0x1000, avail: 0x2000, used: 0x3000 };
    expect(layoutProblem(ok, 256)).toBeUndefined();
    expect(layoutProblem({ ...ok, size: 32768 }, 32768)).toBeUndefined();
    expect(layoutProblem({ ...ok, size: 12 }, 256)).toMatch(/power of two/);
    expect(layoutProblem({ ...ok, size: 512 }, 256)).toMatch(/outside/);
    expect(layoutProblem({ ...ok, size: 0 }, 256)).toMatch(/outside/);
    expect(layoutProblem({ ...ok, desc: 0x1008 }, 256)).toMatch(/descriptor table.*16-byte/);
    expect(layoutProblem({ ...ok, avail: 0x2001 }, 256)).toMatch(/available ring.*2-byte/);
    expect(layoutProblem({ ...ok, used: 0x3002 }, 256)).toMatch(/used ring.*4-byte/);
    expect(layoutProblem({ ...ok, used: 2 ** 53 }, 256)).toMatch(/not addressable/);
  });
});

describe('split virtqueue available ring', () => {
  it('pops heads in order and reports an empty ring', () => {
    const { vq, offer } = setup();
    expect(vq.pop()).toEqual({ kind: 'empty' });
    offer(5);
    offer(2);
    expect(vq.pop()).toEqual({ kind: 'head', head: 5 });
    expect(vq.pop()).toEqual({ kind: 'head', head: 2 });
    expect(vq.pop()).toEqual({ kind: 'empty' });
  });

  it('wraps the 16-bit indexes around', () => {
    const { vq, offer, view } = setup(4);
    for (let n = 0; n < 70000; n++) {
      offer(n % 4);
      const popped = vq.pop();
      if (popped.kind !== 'head' || popped.head !== n % 4)
        throw new Error(`pop ${n}: ${JSON.stringify(popped)}`);
      if (!vq.push(popped.head, n)) throw new Error(`push ${n}`);
    }
    expect(vq.usedIndex).toBe(70000 & 0xffff);
    expect(view.getUint16(USED - BASE + 2, true)).toBe(70000 & 0xffff);
    expect(view.getUint32(USED - BASE + 4 + 8 * (69999 % 4) + 4, true)).toBe(69999);
  });

  it('reports an index that ran more than the queue size ahead, and rings outside RAM', () => {
    const { vq, view, dma } = setup();
    view.setUint16(AVAIL - BASE + 2, 9, true);
    expect(vq.pop()).toMatchObject({ kind: 'error' });
    const lost = new SplitVirtqueue(dma, 1, { size: 8, desc: DESC, avail: BASE + SIZE, used: USED });
    expect(lost.pop()).toMatchObject({ kind: 'error', reason: /not in RAM/ });
    expect(lost.notificationsSuppressed()).toBe(false);
  });

  it('reads VIRTQ_AVAIL_F_NO_INTERRUPT', () => {
    const { vq, view } = setup();
    expect(vq.notificationsSuppressed()).toBe(false);
    view.setUint16(AVAIL - BASE, 1, true);
    expect(vq.notificationsSuppressed()).toBe(true);
  });
});

describe('split virtqueue descriptor chains', () => {
  it('follows NEXT and separates readable from writable bytes', () => {
    const { vq, desc } = setup();
    desc(3, BASE + 0x4000, 16, NEXT, 6);
    desc(6, BASE + 0x5000, 512, NEXT | WRITE, 1);
    desc(1, BASE + 0x6000, 1, WRITE);
    const chain = vq.walk(3, OPTS);
    expect(chain).toMatchObject({
      head: 3,
      error: undefined,
      complete: true,
      readableLength: 16,
      writableLength: 513,
    });
    expect(chain.segments).toEqual([
      { addr: BASE + 0x4000, len: 16, writable: false },
      { addr: BASE + 0x5000, len: 512, writable: true },
      { addr: BASE + 0x6000, len: 1, writable: true },
    ]);
  });

  it('reports heads and next indexes out of range, loops and unreadable tables as incomplete', () => {
    const { vq, desc, dma } = setup();
    expect(vq.walk(8, OPTS)).toMatchObject({ complete: false, error: /index 8 out of range/ });
    desc(0, BASE + 0x4000, 16, NEXT, 9);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /index 9 out of range/ });
    desc(0, BASE + 0x4000, 16, NEXT, 1);
    desc(1, BASE + 0x4000, 16, NEXT, 2);
    desc(2, BASE + 0x4000, 16, NEXT, 0);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /loop/ });
    desc(5, BASE + 0x4000, 16, NEXT, 5);
    expect(vq.walk(5, OPTS)).toMatchObject({ complete: false, error: /loop/ });
    const lost = new SplitVirtqueue(dma, 1, { size: 8, desc: BASE + SIZE, avail: AVAIL, used: USED });
    expect(lost.walk(0, OPTS)).toMatchObject({ complete: false, error: /not in RAM/ });
  });

  it('walks complete chains with zero-length, misordered or unaddressable buffers but flags them', () => {
    const { vq, desc } = setup();
    desc(0, BASE + 0x4000, 0, NEXT, 1);
    desc(1, BASE + 0x4100, 1, WRITE);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: true, error: /length 0/ });
    expect(vq.walk(0, OPTS).segments).toHaveLength(2);
    desc(0, BASE + 0x4000, 4, WRITE | NEXT, 1);
    desc(1, BASE + 0x4100, 4, NEXT, 2);
    desc(2, BASE + 0x4200, 1, WRITE);
    expect(vq.walk(0, OPTS)).toMatchObject({
      complete: true,
      error: /readable descriptor 1 after a device-writable/,
    });
    desc(0, 2 ** 60, 4, NEXT, 2);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: true, error: /beyond 2\^53/ });
  });

  it('limits the number of descriptors in a chain', () => {
    const { vq, desc } = setup();
    for (let i = 0; i < 8; i++) desc(i, BASE + 0x4000, 1, i < 7 ? NEXT : 0, i + 1);
    expect(vq.walk(0, OPTS)).toMatchObject({ error: undefined, complete: true });
    expect(vq.walk(0, { indirect: true, maxSegments: 4 })).toMatchObject({
      complete: false,
      error: /more than 4/,
    });
  });

  it('expands one indirect table after direct descriptors, when allowed', () => {
    const { vq, desc } = setup();
    const table = BASE + 0x8000;
    desc(0, BASE + 0x4000, 16, NEXT, 4);
    desc(4, table, 48, INDIRECT | WRITE); // WRITE is ignored on an indirect descriptor
    desc(0, BASE + 0x5000, 512, WRITE | NEXT, 2, table);
    desc(2, BASE + 0x6000, 1, WRITE, 0, table);
    const chain = vq.walk(0, OPTS);
    expect(chain).toMatchObject({
      error: undefined,
      complete: true,
      readableLength: 16,
      writableLength: 513,
    });
    expect(chain.segments.map((s) => s.addr)).toEqual([BASE + 0x4000, BASE + 0x5000, BASE + 0x6000]);
    expect(vq.walk(0, { ...OPTS, indirect: false })).toMatchObject({
      complete: false,
      error: /not negotiated/,
    });
  });

  it('rejects malformed indirect descriptors', () => {
    const { vq, desc } = setup();
    const table = BASE + 0x8000;
    desc(0, table, 40, INDIRECT);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /indirect table of 40 bytes/ });
    desc(0, table, 0, INDIRECT);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /indirect table of 0 bytes/ });
    desc(0, table, 32, INDIRECT | NEXT, 1);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /with VIRTQ_DESC_F_NEXT/ });
    desc(0, table, 32, INDIRECT);
    desc(0, table, 32, INDIRECT, 0, table);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /inside an indirect table/ });
    desc(0, BASE + 0x4000, 1, NEXT, 1, table);
    desc(1, BASE + 0x4000, 1, NEXT, 0, table);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /loop/ });
    desc(1, BASE + 0x4000, 1, NEXT, 2, table);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /index 2 out of range \(table of 2\)/ });
    desc(0, BASE + SIZE, 32, INDIRECT);
    expect(vq.walk(0, OPTS)).toMatchObject({ complete: false, error: /not in RAM/ });
  });
});

describe('split virtqueue used ring and buffer access', () => {
  it('writes used elements little-endian before publishing idx, and stops after detach', () => {
    const { vq, view, dma } = setup();
    expect(vq.push(0x0102_0304, 0x0a0b_0c0d)).toBe(true);
    const used = new Uint8Array(view.buffer, USED - BASE, 12);
    expect([...used]).toEqual([0, 0, 1, 0, 4, 3, 2, 1, 0x0d, 0x0c, 0x0b, 0x0a]);
    vq.detach();
    expect(vq.active).toBe(false);
    expect(vq.push(1, 1)).toBe(false);
    expect(vq.pop()).toEqual({ kind: 'empty' });
    const lost = new SplitVirtqueue(dma, 1, { size: 8, desc: DESC, avail: AVAIL, used: BASE + SIZE - 4 });
    expect(lost.push(0, 0)).toBe(false);
    expect(lost.usedIndex).toBe(0);
  });

  it('gathers and scatters across segment boundaries, failing on buffers outside RAM', () => {
    const { vq, desc, view, dma } = setup();
    desc(0, BASE + 0x4000, 3, NEXT, 1);
    desc(1, BASE + 0x4100, 5, NEXT, 2);
    desc(2, BASE + 0x4200, 4, WRITE | NEXT, 3);
    desc(3, BASE + 0x4300, 4, WRITE);
    for (let i = 0; i < 3; i++) view.setUint8(0x4000 + i, 1 + i);
    for (let i = 0; i < 5; i++) view.setUint8(0x4100 + i, 4 + i);
    const chain = vq.walk(0, OPTS);
    const dst = new Uint8Array(6);
    expect(readChain(dma, chain, 1, dst)).toBe(true);
    expect([...dst]).toEqual([2, 3, 4, 5, 6, 7]);
    expect(readChain(dma, chain, 4, new Uint8Array(5))).toBe(false); // only 4 readable bytes left
    expect(writeChain(dma, chain, 2, Uint8Array.of(9, 9, 9, 9))).toBe(true);
    expect([...new Uint8Array(view.buffer, 0x4200, 4)]).toEqual([0, 0, 9, 9]);
    expect([...new Uint8Array(view.buffer, 0x4300, 4)]).toEqual([9, 9, 0, 0]);
    expect(writeChain(dma, chain, 0, new Uint8Array(9))).toBe(false);

    desc(2, BASE + SIZE - 2, 4, WRITE | NEXT, 3); // straddles the end of RAM
    const outside = vq.walk(0, OPTS);
    expect(outside.error).toBeUndefined(); // the walk does not touch buffers
    expect(writeChain(dma, outside, 0, new Uint8Array(4))).toBe(false);
    expect(readChain(dma, outside, 0, new Uint8Array(8))).toBe(true);
  });

  it('never throws on a bus that throws', () => {
    const { vq, desc } = setup();
    desc(0, BASE + 0x4000, 4, 0);
    const chain = vq.walk(0, OPTS);
    const bus = {
      read(): boolean {
        throw new Error('bus');
      },
      write(): boolean {
        throw new Error('bus');
      },
    };
    expect(readChain(bus, chain, 0, new Uint8Array(4))).toBe(false);
    expect(new SplitVirtqueue(bus, 0, { size: 8, desc: DESC, avail: AVAIL, used: USED }).pop()).toMatchObject(
      {
        kind: 'error',
      },
    );
  });
});
