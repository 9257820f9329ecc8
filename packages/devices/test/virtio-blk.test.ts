import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostWork, IrqLine } from '../src/device';
import { ramDma } from '../src/device';
import {
  type BlockBackend,
  FileBlockBackend,
  MemoryBlockBackend,
  VIRTIO_BLK_F_BLK_SIZE,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX,
  VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_VERSION_1,
  VIRTIO_MMIO_INT_CONFIG as VIRTIO_INT_CONFIG,
  VIRTIO_MMIO_INT_VRING as VIRTIO_INT_VRING,
  VIRTIO_MMIO,
  VIRTIO_STATUS,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VirtioBlk,
  type VirtioBlkOptions,
  VirtioMmioTransport,
  virtioFeatureBit,
} from '../src/virtio';

// ---------------------------------------------------------------------------------------
// A test driver: real split virtqueues in a RAM buffer, driven through the MMIO registers.
// ---------------------------------------------------------------------------------------

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 1 << 20;
const OUTSIDE_RAM = RAM_BASE + RAM_SIZE + 0x1000;
const QSIZE = 16;
const DESC = RAM_BASE + 0x1000;
const AVAIL = RAM_BASE + 0x2000;
const USED = RAM_BASE + 0x3000;

interface Buf {
  addr: number;
  len: number;
  write?: boolean;
  /** Override the flags word (tests of malformed chains). */
  flags?: number;
}

class Machine {
  readonly ram = new ArrayBuffer(RAM_SIZE);
  readonly bytes = new Uint8Array(this.ram);
  readonly view = new DataView(this.ram);
  readonly dma = ramDma(this.ram, RAM_BASE, RAM_SIZE);
  readonly pending: Promise<unknown>[] = [];
  readonly work: HostWork = { track: (p) => this.pending.push(p) };
  irqLevel = false;
  readonly irqChanges: boolean[] = [];
  readonly irq: IrqLine = {
    set: (level) => {
      this.irqLevel = level;
      this.irqChanges.push(level);
    },
  };
  private next = RAM_BASE + 0x10000;

  /** Bump allocator for buffers in guest RAM. */
  alloc(bytes: number, align = 16): number {
    this.next = Math.ceil(this.next / align) * align;
    const pa = this.next;
    this.next += bytes;
    return pa;
  }

  put(pa: number, data: Uint8Array): void {
    this.bytes.set(data, pa - RAM_BASE);
  }

  get(pa: number, n: number): Uint8Array {
    return this.bytes.slice(pa - RAM_BASE, pa - RAM_BASE + n);
  }

  u8(pa: number): number {
    return this.view.getUint8(pa - RAM_BASE);
  }

  u16(pa: number): number {
    return this.view.getUint16(pa - RAM_BASE, true);
  }

  u32(pa: number): number {
    return this.view.getUint32(pa - RAM_BASE, true);
  }

  setU16(pa: number, v: number): void {
    this.view.setUint16(pa - RAM_BASE, v, true);
  }

  /** Waits for every host promise the device tracked, including ones tracked meanwhile. */
  async settle(): Promise<void> {
    while (this.pending.length > 0) await Promise.all(this.pending.splice(0));
  }
}

class Driver {
  readonly m: Machine;
  readonly dev: VirtioMmioTransport;
  private free: number[] = [];
  private availIdx = 0;
  private lastUsed = 0;

  constructor(m: Machine, dev: VirtioMmioTransport) {
    this.m = m;
    this.dev = dev;
  }

  r(offset: number): number {
    return this.dev.read(offset, 4);
  }

  w(offset: number, value: number): void {
    this.dev.write(offset, 4, value);
  }

  deviceFeatures(): bigint {
    this.w(VIRTIO_MMIO.DEVICE_FEATURES_SEL, 0);
    const low = this.r(VIRTIO_MMIO.DEVICE_FEATURES);
    this.w(VIRTIO_MMIO.DEVICE_FEATURES_SEL, 1);
    const high = this.r(VIRTIO_MMIO.DEVICE_FEATURES);
    return (BigInt(high) << 32n) | BigInt(low);
  }

  /**
   * The §3.1.1 initialization sequence. `accept` filters the offered features; returns
   * false (having set FAILED) when the device refused FEATURES_OK.
   */
  init(accept: (offered: bigint) => bigint = (f) => f): boolean {
    expect(this.r(VIRTIO_MMIO.MAGIC_VALUE)).toBe(0x74726976);
    expect(this.r(VIRTIO_MMIO.VERSION)).toBe(2);
    expect(this.r(VIRTIO_MMIO.DEVICE_ID)).toBe(2);
    this.w(VIRTIO_MMIO.STATUS, 0);
    this.w(VIRTIO_MMIO.STATUS, VIRTIO_STATUS.ACKNOWLEDGE);
    this.w(VIRTIO_MMIO.STATUS, VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER);
    const wanted = accept(this.deviceFeatures());
    this.w(VIRTIO_MMIO.DRIVER_FEATURES_SEL, 0);
    this.w(VIRTIO_MMIO.DRIVER_FEATURES, Number(wanted & 0xffff_ffffn));
    this.w(VIRTIO_MMIO.DRIVER_FEATURES_SEL, 1);
    this.w(VIRTIO_MMIO.DRIVER_FEATURES, Number(wanted >> 32n));
    const base = VIRTIO_STATUS.ACKNOWLEDGE | VIRTIO_STATUS.DRIVER;
    this.w(VIRTIO_MMIO.STATUS, base | VIRTIO_STATUS.FEATURES_OK);
    if (!(this.r(VIRTIO_MMIO.STATUS) & VIRTIO_STATUS.FEATURES_OK)) {
      this.w(VIRTIO_MMIO.STATUS, base | VIRTIO_STATUS.FAILED);
      return false;
    }
    // Queue 0: zeroed rings, size QSIZE.
    this.m.bytes.fill(0, DESC - RAM_BASE, USED - RAM_BASE + 0x1000);
    this.w(VIRTIO_MMIO.QUEUE_SEL, 0);
    expect(this.r(VIRTIO_MMIO.QUEUE_READY)).toBe(0);
    expect(this.r(VIRTIO_MMIO.QUEUE_NUM_MAX)).toBeGreaterThanOrEqual(QSIZE);
    this.w(VIRTIO_MMIO.QUEUE_NUM, QSIZE);
    this.w(VIRTIO_MMIO.QUEUE_DESC_LOW, DESC);
    this.w(VIRTIO_MMIO.QUEUE_DESC_HIGH, 0);
    this.w(VIRTIO_MMIO.QUEUE_DRIVER_LOW, AVAIL);
    this.w(VIRTIO_MMIO.QUEUE_DRIVER_HIGH, 0);
    this.w(VIRTIO_MMIO.QUEUE_DEVICE_LOW, USED);
    this.w(VIRTIO_MMIO.QUEUE_DEVICE_HIGH, 0);
    this.w(VIRTIO_MMIO.QUEUE_READY, 1);
    expect(this.r(VIRTIO_MMIO.QUEUE_READY)).toBe(1);
    this.free = Array.from({ length: QSIZE }, (_, i) => i);
    this.availIdx = 0;
    this.lastUsed = 0;
    this.w(VIRTIO_MMIO.STATUS, base | VIRTIO_STATUS.FEATURES_OK | VIRTIO_STATUS.DRIVER_OK);
    return true;
  }

  /** Writes descriptor `i` of the table at `table`. */
  writeDesc(i: number, b: Buf, next: number | undefined, table = DESC): void {
    const pa = table + 16 * i - RAM_BASE;
    const v = this.m.view;
    v.setUint32(pa, b.addr % 2 ** 32, true);
    v.setUint32(pa + 4, Math.floor(b.addr / 2 ** 32), true);
    v.setUint32(pa + 8, b.len, true);
    const flags =
      b.flags ?? (b.write ? VIRTQ_DESC_F_WRITE : 0) | (next !== undefined ? VIRTQ_DESC_F_NEXT : 0);
    v.setUint16(pa + 12, flags, true);
    v.setUint16(pa + 14, next ?? 0, true);
  }

  /** Places a chain in free descriptors and returns its head (not yet made available). */
  chain(bufs: Buf[]): number {
    const ids = bufs.map(() => {
      const id = this.free.shift();
      if (id === undefined) throw new Error('descriptor table full');
      return id;
    });
    bufs.forEach((b, k) => {
      this.writeDesc(ids[k]!, b, ids[k + 1]);
    });
    return ids[0]!;
  }

  /** Puts `head` in the available ring and publishes the new idx. */
  offer(head: number): void {
    this.m.setU16(AVAIL + 4 + 2 * (this.availIdx % QSIZE), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.m.setU16(AVAIL + 2, this.availIdx);
  }

  kick(): void {
    this.w(VIRTIO_MMIO.QUEUE_NOTIFY, 0);
  }

  usedIdx(): number {
    return this.m.u16(USED + 2);
  }

  /** Used elements published since the last call; their descriptors are freed. */
  takeUsed(): { id: number; len: number }[] {
    const out: { id: number; len: number }[] = [];
    while (this.lastUsed !== this.usedIdx()) {
      const pa = USED + 4 + 8 * (this.lastUsed % QSIZE);
      const e = { id: this.m.u32(pa), len: this.m.u32(pa + 4) };
      out.push(e);
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
      this.release(e.id);
    }
    return out;
  }

  private release(head: number): void {
    let i = head;
    for (let n = 0; n < QSIZE && i < QSIZE && !this.free.includes(i); n++) {
      this.free.push(i);
      const flags = this.m.u16(DESC + 16 * i + 12);
      if (!(flags & VIRTQ_DESC_F_NEXT)) break;
      i = this.m.u16(DESC + 16 * i + 14);
    }
  }

  /** A virtio_blk_req header in RAM. */
  header(type: number, sector: number | bigint): Buf {
    const addr = this.m.alloc(16);
    const h = new DataView(new ArrayBuffer(16));
    h.setUint32(0, type, true);
    h.setBigUint64(8, BigInt(sector), true);
    this.m.put(addr, new Uint8Array(h.buffer));
    return { addr, len: 16 };
  }

  /** A 1-byte writable status buffer, pre-filled with 0xff. */
  status(): Buf {
    const addr = this.m.alloc(1, 1);
    this.m.put(addr, Uint8Array.of(0xff));
    return { addr, len: 1, write: true };
  }

  /** Submits a request laid out as header / data / status descriptors. */
  request(type: number, sector: number | bigint, data?: { out?: Uint8Array; in?: number }) {
    const header = this.header(type, sector);
    const bufs: Buf[] = [header];
    let dataAddr = 0;
    if (data?.out) {
      dataAddr = this.m.alloc(data.out.length);
      this.m.put(dataAddr, data.out);
      bufs.push({ addr: dataAddr, len: data.out.length });
    }
    if (data?.in !== undefined) {
      dataAddr = this.m.alloc(data.in);
      bufs.push({ addr: dataAddr, len: data.in, write: true });
    }
    const status = this.status();
    bufs.push(status);
    const head = this.chain(bufs);
    this.offer(head);
    return { head, dataAddr, statusAddr: status.addr };
  }
}

function pattern(bytes: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: bytes }, (_, i) => (i * 7 + seed) & 0xff);
}

function setup(options: Partial<VirtioBlkOptions> = {}, backend: BlockBackend = new MemoryBlockBackend(128)) {
  const m = new Machine();
  const blk = new VirtioBlk({ backend, serial: 'PECAN-DISK-0001', ...options });
  const dev = new VirtioMmioTransport({ device: blk, irq: m.irq, dma: m.dma, work: m.work });
  const d = new Driver(m, dev);
  return { m, blk, dev, d, backend };
}

/** A RAM disk that logs its operations and can be told to fail reads. */
class LoggingBackend extends MemoryBlockBackend {
  readonly log: string[] = [];
  failReads = false;

  protected async gate(what: string): Promise<void> {
    this.log.push(what);
  }

  override async read(sector: number, dst: Uint8Array): Promise<void> {
    await this.gate(`read ${sector}`);
    if (this.failReads) throw new Error('medium error');
    await super.read(sector, dst);
  }

  override async write(sector: number, src: Uint8Array): Promise<void> {
    await this.gate(`write ${sector}`);
    await super.write(sector, src);
  }

  override async flush(): Promise<void> {
    this.log.push('flush');
  }
}

/** A logging RAM disk whose reads and writes wait until the test releases them. */
class GatedBackend extends LoggingBackend {
  private gates: (() => void)[] = [];

  protected override gate(what: string): Promise<void> {
    this.log.push(what);
    return new Promise((resolve) => this.gates.push(resolve));
  }

  releaseAll(): void {
    for (const g of this.gates.splice(0)) g();
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

// ---------------------------------------------------------------------------------------

describe('virtio-blk over virtio-mmio: identification and configuration', () => {
  it('presents magic, version 2, device id 2 and the QEMU vendor id', () => {
    const { d } = setup();
    expect(d.r(VIRTIO_MMIO.MAGIC_VALUE)).toBe(0x74726976);
    expect(d.r(VIRTIO_MMIO.VERSION)).toBe(2);
    expect(d.r(VIRTIO_MMIO.DEVICE_ID)).toBe(2);
    expect(d.r(VIRTIO_MMIO.VENDOR_ID)).toBe(0x554d4551);
  });

  it('offers VERSION_1, FLUSH, BLK_SIZE, SEG_MAX and INDIRECT_DESC; RO only when read-only', () => {
    const rw = setup().d.deviceFeatures();
    for (const bit of [
      VIRTIO_F_VERSION_1,
      VIRTIO_BLK_F_FLUSH,
      VIRTIO_BLK_F_BLK_SIZE,
      VIRTIO_BLK_F_SEG_MAX,
      VIRTIO_F_INDIRECT_DESC,
    ]) {
      expect(rw & virtioFeatureBit(bit), `bit ${bit}`).not.toBe(0n);
    }
    expect(rw & virtioFeatureBit(VIRTIO_BLK_F_RO)).toBe(0n);
    expect(setup({ readOnly: true }).d.deviceFeatures() & virtioFeatureBit(VIRTIO_BLK_F_RO)).not.toBe(0n);
    expect(setup({ indirect: false }).d.deviceFeatures() & virtioFeatureBit(VIRTIO_F_INDIRECT_DESC)).toBe(0n);
  });

  it('reports capacity (u64 sectors), seg_max and blk_size in the configuration space', () => {
    const { dev } = setup({}, new MemoryBlockBackend(5000));
    expect(dev.read(0x100, 4)).toBe(5000);
    expect(dev.read(0x104, 4)).toBe(0);
    expect(dev.read(0x100, 8)).toBe(5000);
    expect(dev.read(0x100 + 12, 4)).toBe(254);
    expect(dev.read(0x100 + 20, 4)).toBe(512);
    expect(dev.read(0x100 + 20, 2)).toBe(512);
    expect(dev.read(0x100 + 21, 1)).toBe(2);
    expect(dev.read(0x1fc, 4)).toBe(0);
    dev.write(0x100, 4, 1); // read-only
    expect(dev.read(0x100, 4)).toBe(5000);
  });
});

describe('virtio-blk requests', () => {
  it('writes, flushes, reads back and fetches the device id, raising the used-buffer interrupt', async () => {
    const { m, d, backend } = setup();
    expect(d.init()).toBe(true);
    const data = pattern(1024, 3);

    const write = d.request(VIRTIO_BLK_T_OUT, 10, { out: data });
    d.kick();
    // Asynchronous: nothing is used until the host work runs.
    expect(d.usedIdx()).toBe(0);
    expect(m.irqLevel).toBe(false);
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: write.head, len: 1 }]);
    expect(m.u8(write.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    expect((backend as MemoryBlockBackend).data.subarray(10 * 512, 12 * 512)).toEqual(data);
    expect(m.irqLevel).toBe(true);
    expect(d.r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(VIRTIO_INT_VRING);
    d.w(VIRTIO_MMIO.INTERRUPT_ACK, VIRTIO_INT_VRING);
    expect(d.r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(m.irqLevel).toBe(false);

    const flush = d.request(VIRTIO_BLK_T_FLUSH, 0);
    const read = d.request(VIRTIO_BLK_T_IN, 10, { in: 1024 });
    const id = d.request(VIRTIO_BLK_T_GET_ID, 0, { in: 20 });
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([
      { id: flush.head, len: 1 },
      { id: read.head, len: 1025 },
      { id: id.head, len: 21 },
    ]);
    expect(m.u8(flush.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    expect(m.u8(read.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    expect(m.get(read.dataAddr, 1024)).toEqual(data);
    expect(m.u8(id.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    const serial = new Uint8Array(20);
    serial.set(new TextEncoder().encode('PECAN-DISK-0001'));
    expect(m.get(id.dataAddr, 20)).toEqual(serial);
    // One interrupt for the batch; a single rising edge until acknowledged.
    expect(m.irqChanges).toEqual([true, false, true]);
    expect(d.r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(VIRTIO_INT_VRING);
  });

  it('accepts any split of header, data and status across descriptors', async () => {
    const { m, d, backend } = setup();
    d.init();
    const data = pattern(512, 9);
    // Header and data in one readable buffer, data split 100/412, status separate.
    const buf = m.alloc(16 + 512);
    const h = new DataView(new ArrayBuffer(16));
    h.setUint32(0, VIRTIO_BLK_T_OUT, true);
    h.setUint32(8, 7, true);
    m.put(buf, new Uint8Array(h.buffer));
    m.put(buf + 16, data);
    const st = d.status();
    const head = d.chain([{ addr: buf, len: 16 + 100 }, { addr: buf + 116, len: 412 }, st]);
    d.offer(head);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: head, len: 1 }]);
    expect(m.u8(st.addr)).toBe(VIRTIO_BLK_S_OK);
    expect((backend as MemoryBlockBackend).data.subarray(7 * 512, 8 * 512)).toEqual(data);

    // Read data and status in one writable buffer.
    const rd = m.alloc(513);
    const hdr = d.header(VIRTIO_BLK_T_IN, 7);
    const head2 = d.chain([hdr, { addr: rd, len: 513, write: true }]);
    d.offer(head2);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: head2, len: 513 }]);
    expect(m.get(rd, 512)).toEqual(data);
    expect(m.u8(rd + 512)).toBe(VIRTIO_BLK_S_OK);
  });

  it('answers IOERR for sectors past capacity and bad lengths, UNSUPP for unknown types', async () => {
    const { m, d } = setup({}, new MemoryBlockBackend(16));
    d.init();
    const past = d.request(VIRTIO_BLK_T_IN, 15, { in: 1024 }); // sector 16 is past the end
    const far = d.request(VIRTIO_BLK_T_OUT, 1n << 40n, { out: new Uint8Array(512) });
    const odd = d.request(VIRTIO_BLK_T_IN, 0, { in: 100 });
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([
      { id: past.head, len: 0 },
      { id: far.head, len: 1 },
      { id: odd.head, len: 0 },
    ]);
    const edge = d.request(VIRTIO_BLK_T_IN, 15, { in: 512 }); // last sector: fine
    const discard = d.request(11, 0, { out: new Uint8Array(16) });
    const unknown = d.request(0x1234, 0);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([
      { id: edge.head, len: 513 },
      { id: discard.head, len: 1 },
      { id: unknown.head, len: 1 },
    ]);
    expect(m.u8(past.statusAddr)).toBe(VIRTIO_BLK_S_IOERR);
    expect(m.u8(far.statusAddr)).toBe(VIRTIO_BLK_S_IOERR);
    expect(m.u8(odd.statusAddr)).toBe(VIRTIO_BLK_S_IOERR);
    expect(m.u8(edge.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    expect(m.u8(discard.statusAddr)).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(m.u8(unknown.statusAddr)).toBe(VIRTIO_BLK_S_UNSUPP);
    expect(d.r(VIRTIO_MMIO.STATUS) & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(0);
  });

  it('fails writes to a read-only disk without touching it', async () => {
    const backend = new MemoryBlockBackend(8);
    const { m, d } = setup({ readOnly: true }, backend);
    d.init();
    const w = d.request(VIRTIO_BLK_T_OUT, 0, { out: pattern(512, 1) });
    const r = d.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([
      { id: w.head, len: 1 },
      { id: r.head, len: 513 },
    ]);
    expect(m.u8(w.statusAddr)).toBe(VIRTIO_BLK_S_IOERR);
    expect(m.u8(r.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    expect(backend.data.every((b) => b === 0)).toBe(true);
  });

  it('turns backend failures into IOERR', async () => {
    const backend = new LoggingBackend(8);
    backend.failReads = true;
    const { m, d } = setup({}, backend);
    d.init();
    const r = d.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: r.head, len: 0 }]);
    expect(m.u8(r.statusAddr)).toBe(VIRTIO_BLK_S_IOERR);
  });

  it('completes requests in submission order, one backend operation at a time', async () => {
    const backend = new GatedBackend(64);
    const { m, d } = setup({}, backend);
    d.init();
    const a = d.request(VIRTIO_BLK_T_OUT, 1, { out: pattern(512, 1) });
    const b = d.request(VIRTIO_BLK_T_GET_ID, 0, { in: 20 });
    const c = d.request(VIRTIO_BLK_T_IN, 1, { in: 512 });
    d.kick();
    await tick();
    // Only the first request's backend operation has started; nothing completed.
    expect(backend.log).toEqual(['write 1']);
    expect(d.usedIdx()).toBe(0);
    backend.releaseAll();
    await tick();
    expect(d.takeUsed().map((e) => e.id)).toEqual([a.head, b.head]);
    expect(backend.log).toEqual(['write 1', 'read 1']);
    backend.releaseAll();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: c.head, len: 513 }]);
    expect(m.get(c.dataAddr, 512)).toEqual(pattern(512, 1));
  });

  it('writes through (flush after each write) when the driver does not negotiate FLUSH', async () => {
    for (const negotiateFlush of [true, false]) {
      const backend = new LoggingBackend(8);
      const { m, d, dev } = setup({}, backend);
      d.init((f) => (negotiateFlush ? f : f & ~virtioFeatureBit(VIRTIO_BLK_F_FLUSH)));
      expect((dev.negotiatedFeatures & virtioFeatureBit(VIRTIO_BLK_F_FLUSH)) !== 0n).toBe(negotiateFlush);
      const w = d.request(VIRTIO_BLK_T_OUT, 2, { out: pattern(512, 5) });
      d.kick();
      await m.settle();
      expect(m.u8(w.statusAddr)).toBe(VIRTIO_BLK_S_OK);
      expect(backend.log).toEqual(negotiateFlush ? ['write 2'] : ['write 2', 'flush']);
    }
  });

  it('honours VIRTQ_AVAIL_F_NO_INTERRUPT', async () => {
    const { m, d } = setup();
    d.init();
    m.setU16(AVAIL, 1);
    const r = d.request(VIRTIO_BLK_T_FLUSH, 0);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: r.head, len: 1 }]);
    expect(d.r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(m.irqLevel).toBe(false);
  });

  it('follows an indirect descriptor table when VIRTIO_F_INDIRECT_DESC is negotiated', async () => {
    const { m, d, backend } = setup();
    d.init();
    const data = pattern(1024, 77);
    (backend as MemoryBlockBackend).data.set(data, 4 * 512);
    const table = m.alloc(16 * 4);
    const hdr = d.header(VIRTIO_BLK_T_IN, 4);
    const buf = m.alloc(1024);
    const st = d.status();
    d.writeDesc(0, hdr, 2, table);
    d.writeDesc(2, { addr: buf, len: 512, write: true }, 1, table);
    d.writeDesc(1, { addr: buf + 512, len: 512, write: true }, 3, table);
    d.writeDesc(3, st, undefined, table);
    const head = d.chain([{ addr: table, len: 64, flags: VIRTQ_DESC_F_INDIRECT }]);
    d.offer(head);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: head, len: 1025 }]);
    expect(m.u8(st.addr)).toBe(VIRTIO_BLK_S_OK);
    expect(m.get(buf, 1024)).toEqual(data);
  });

  it('drops the completion of a request in flight when the driver resets the device', async () => {
    const backend = new GatedBackend(8);
    const { m, d } = setup({}, backend);
    d.init();
    const r = d.request(VIRTIO_BLK_T_IN, 0, { in: 512 });
    m.put(r.dataAddr, new Uint8Array(512).fill(0xaa));
    d.kick();
    await tick();
    expect(backend.log).toEqual(['read 0']);
    d.w(VIRTIO_MMIO.STATUS, 0);
    expect(d.r(VIRTIO_MMIO.STATUS)).toBe(0);
    expect(d.r(VIRTIO_MMIO.QUEUE_READY)).toBe(0);
    backend.releaseAll();
    await m.settle();
    expect(d.usedIdx()).toBe(0);
    expect(m.u8(r.statusAddr)).toBe(0xff);
    expect(m.get(r.dataAddr, 4)).toEqual(new Uint8Array(4).fill(0xaa));
    expect(m.irqLevel).toBe(false);
    // The device works again after a new initialization.
    expect(d.init()).toBe(true);
    const again = d.request(VIRTIO_BLK_T_GET_ID, 0, { in: 20 });
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: again.head, len: 21 }]);
  });
});

describe('virtio-blk with malformed chains', () => {
  /** Checks the device entered DEVICE_NEEDS_RESET with the config-change interrupt. */
  function expectNeedsReset(d: Driver, m: Machine): void {
    expect(d.r(VIRTIO_MMIO.STATUS) & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(VIRTIO_STATUS.DEVICE_NEEDS_RESET);
    expect(d.r(VIRTIO_MMIO.INTERRUPT_STATUS) & VIRTIO_INT_CONFIG).toBe(VIRTIO_INT_CONFIG);
    expect(m.irqLevel).toBe(true);
  }

  it('returns an out-of-range head with length 0 and sets DEVICE_NEEDS_RESET', async () => {
    const { m, d, dev } = setup();
    d.init();
    d.offer(QSIZE + 3);
    expect(() => d.kick()).not.toThrow();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: QSIZE + 3, len: 0 }]);
    expectNeedsReset(d, m);
    expect(dev.needsResetReason).toMatch(/out of range/);
  });

  it('rejects a next index out of range and stops consuming buffers until reset', async () => {
    const { m, d } = setup();
    d.init();
    const hdr = d.header(VIRTIO_BLK_T_IN, 0);
    const head = d.chain([hdr]);
    d.writeDesc(head, { ...hdr, flags: VIRTQ_DESC_F_NEXT }, 200);
    d.offer(head);
    const later = d.request(VIRTIO_BLK_T_FLUSH, 0);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: head, len: 0 }]);
    expect(m.u8(later.statusAddr)).toBe(0xff);
    expectNeedsReset(d, m);
    // The driver's writes cannot clear DEVICE_NEEDS_RESET; a reset does.
    d.w(VIRTIO_MMIO.STATUS, d.r(VIRTIO_MMIO.STATUS) & ~VIRTIO_STATUS.DEVICE_NEEDS_RESET);
    expect(d.r(VIRTIO_MMIO.STATUS) & VIRTIO_STATUS.DEVICE_NEEDS_RESET).not.toBe(0);
    d.w(VIRTIO_MMIO.STATUS, 0);
    expect(d.r(VIRTIO_MMIO.STATUS)).toBe(0);
    expect(d.r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(m.irqLevel).toBe(false);
  });

  it('detects a descriptor loop', async () => {
    const { m, d, dev } = setup();
    d.init();
    const hdr = d.header(VIRTIO_BLK_T_IN, 0);
    const st = d.status();
    const head = d.chain([hdr, st]);
    d.writeDesc(head + 1, { ...st, flags: VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT }, head); // back to the head
    d.offer(head);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: head, len: 0 }]);
    expect(m.u8(st.addr)).toBe(0xff);
    expectNeedsReset(d, m);
    expect(dev.needsResetReason).toMatch(/loop/);
  });

  it('fails requests whose buffers are outside RAM with IOERR when the status byte is writable', async () => {
    const { m, d, backend } = setup();
    d.init();
    // Header outside RAM.
    const st1 = d.status();
    const h1 = d.chain([{ addr: OUTSIDE_RAM, len: 16 }, st1]);
    d.offer(h1);
    // Read data outside RAM.
    const st2 = d.status();
    const h2 = d.chain([d.header(VIRTIO_BLK_T_IN, 0), { addr: OUTSIDE_RAM, len: 512, write: true }, st2]);
    d.offer(h2);
    // Write data straddling the end of RAM.
    const st3 = d.status();
    const h3 = d.chain([d.header(VIRTIO_BLK_T_OUT, 0), { addr: RAM_BASE + RAM_SIZE - 256, len: 512 }, st3]);
    d.offer(h3);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([
      { id: h1, len: 0 },
      { id: h2, len: 0 },
      { id: h3, len: 0 },
    ]);
    expect([m.u8(st1.addr), m.u8(st2.addr), m.u8(st3.addr)]).toEqual([
      VIRTIO_BLK_S_IOERR,
      VIRTIO_BLK_S_IOERR,
      VIRTIO_BLK_S_IOERR,
    ]);
    expect((backend as MemoryBlockBackend).data.every((b) => b === 0)).toBe(true);
    expect(d.r(VIRTIO_MMIO.STATUS) & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(0);
  });

  it('sets DEVICE_NEEDS_RESET when the status byte itself is outside RAM or missing', async () => {
    for (const last of [
      { addr: OUTSIDE_RAM, len: 1, write: true },
      { addr: RAM_BASE + 0x8000, len: 16 }, // device-readable: no status byte at all
    ]) {
      const { m, d } = setup();
      d.init();
      const head = d.chain([d.header(VIRTIO_BLK_T_FLUSH, 0), last]);
      d.offer(head);
      d.kick();
      await m.settle();
      expect(d.takeUsed()).toEqual([{ id: head, len: 0 }]);
      expectNeedsReset(d, m);
    }
  });

  it('rejects data in the wrong direction, writable headers and zero-length buffers with IOERR', async () => {
    const { m, d, backend } = setup();
    d.init();
    const cases: { bufs: Buf[]; st: Buf }[] = [];
    const add = (bufs: Buf[]) => {
      const st = d.status();
      cases.push({ bufs: [...bufs, st], st });
    };
    add([d.header(VIRTIO_BLK_T_IN, 0), { addr: m.alloc(512), len: 512 }]); // read into readable
    add([d.header(VIRTIO_BLK_T_OUT, 0), { addr: m.alloc(512), len: 512, write: true }]); // write from writable
    add([{ ...d.header(VIRTIO_BLK_T_IN, 0), write: true }]); // header device-writable
    add([d.header(VIRTIO_BLK_T_IN, 0), { addr: m.alloc(512), len: 0, write: true }]); // zero length
    add([d.header(VIRTIO_BLK_T_GET_ID, 0), { addr: m.alloc(20), len: 20 }]); // id into readable
    const heads = cases.map((c) => {
      const head = d.chain(c.bufs);
      d.offer(head);
      return head;
    });
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual(heads.map((id) => ({ id, len: 0 })));
    expect(cases.map((c) => m.u8(c.st.addr))).toEqual(cases.map(() => VIRTIO_BLK_S_IOERR));
    expect((backend as MemoryBlockBackend).data.every((b) => b === 0)).toBe(true);
    expect(d.r(VIRTIO_MMIO.STATUS) & VIRTIO_STATUS.DEVICE_NEEDS_RESET).toBe(0);
  });

  it('treats an indirect descriptor as malformed when VIRTIO_F_INDIRECT_DESC was not negotiated', async () => {
    const { m, d } = setup();
    d.init((f) => f & ~virtioFeatureBit(VIRTIO_F_INDIRECT_DESC));
    const table = m.alloc(32);
    d.writeDesc(0, d.header(VIRTIO_BLK_T_FLUSH, 0), 1, table);
    d.writeDesc(1, d.status(), undefined, table);
    const head = d.chain([{ addr: table, len: 32, flags: VIRTQ_DESC_F_INDIRECT }]);
    d.offer(head);
    d.kick();
    await m.settle();
    expect(d.takeUsed()).toEqual([{ id: head, len: 0 }]);
    expectNeedsReset(d, m);
  });

  it('survives an available index that jumps past the queue size and rings outside RAM', async () => {
    const { m, d, dev } = setup();
    d.init();
    m.setU16(AVAIL + 2, QSIZE + 1);
    expect(() => d.kick()).not.toThrow();
    await m.settle();
    expect(d.usedIdx()).toBe(0);
    expectNeedsReset(d, m);
    expect(dev.needsResetReason).toMatch(/available idx/);

    // A used ring outside RAM: the element cannot be returned.
    const s = setup();
    s.d.init();
    s.d.w(VIRTIO_MMIO.QUEUE_READY, 0);
    s.d.w(VIRTIO_MMIO.QUEUE_DEVICE_LOW, OUTSIDE_RAM);
    s.d.w(VIRTIO_MMIO.QUEUE_READY, 1);
    s.d.request(VIRTIO_BLK_T_FLUSH, 0);
    s.d.kick();
    await s.m.settle();
    expectNeedsReset(s.d, s.m);
    expect(s.dev.needsResetReason).toMatch(/used ring/);
  });
});

describe('virtio-blk on a host file', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pecan-virtio-blk-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its contents across two device instances', async () => {
    const path = join(dir, 'disk.img');
    const data = pattern(2048, 42);

    const first = await FileBlockBackend.open(path, { size: 64 * 1024 });
    expect(first.sectors).toBe(128);
    {
      const { m, d } = setup({}, first);
      d.init();
      const w = d.request(VIRTIO_BLK_T_OUT, 100, { out: data });
      const f = d.request(VIRTIO_BLK_T_FLUSH, 0);
      d.kick();
      await m.settle();
      expect(m.u8(w.statusAddr)).toBe(VIRTIO_BLK_S_OK);
      expect(m.u8(f.statusAddr)).toBe(VIRTIO_BLK_S_OK);
    }
    await first.close();
    const image = await readFile(path);
    expect(image.length).toBe(64 * 1024);
    expect(new Uint8Array(image.subarray(100 * 512, 104 * 512))).toEqual(data);

    const second = await FileBlockBackend.open(path);
    expect(second.sectors).toBe(128);
    try {
      const { m, d, dev } = setup({}, second);
      expect(dev.read(0x100, 4)).toBe(128);
      d.init();
      const r = d.request(VIRTIO_BLK_T_IN, 100, { in: 2048 });
      const past = d.request(VIRTIO_BLK_T_IN, 127, { in: 1024 });
      d.kick();
      await m.settle();
      expect(m.u8(r.statusAddr)).toBe(VIRTIO_BLK_S_OK);
      expect(m.get(r.dataAddr, 2048)).toEqual(data);
      expect(m.u8(past.statusAddr)).toBe(VIRTIO_BLK_S_IOERR);
    } finally {
      await second.close();
    }
  });

  it('creates, grows and refuses images as documented', async () => {
    const path = join(dir, 'grow.img');
    await expect(FileBlockBackend.open(path)).rejects.toThrow();
    await expect(FileBlockBackend.open(path, { size: 1000 })).rejects.toThrow(RangeError);
    const a = await FileBlockBackend.open(path, { size: 4096 });
    await a.write(7, pattern(512, 1));
    await a.close();
    const b = await FileBlockBackend.open(path, { size: 8192 });
    expect(b.sectors).toBe(16);
    const out = new Uint8Array(1024);
    await b.read(7, out);
    expect(out.subarray(0, 512)).toEqual(pattern(512, 1));
    expect(out.subarray(512).every((x) => x === 0)).toBe(true);
    await expect(b.read(15, new Uint8Array(1024))).rejects.toThrow(RangeError);
    await b.close();
    const ro = await FileBlockBackend.open(path, { readOnly: true });
    expect(ro.sectors).toBe(16);
    await expect(ro.write(0, new Uint8Array(512))).rejects.toThrow();
    await ro.close();
  });
});
