/**
 * A user-level virtio-blk driver: a library a task links to reach the machine's first
 * virtio block device through its real registers and real split virtqueues in RAM, the
 * way a driver on hardware does. It is not a server; a block server or a file system
 * builds on it.
 *
 * What it does, by the virtio 1.2 specification:
 *
 * - Finds the device in the KIP's device list (a `virtio-mmio` transport with virtio
 *   device ID 2), never from constants, and gets the transport's register page from
 *   sigma0 as device memory.
 * - Checks MagicValue, Version 2 and DeviceID (§4.2.2, MMIO Device Register Layout),
 *   then initialises the device as §3.1.1 (Driver Requirements: Device Initialization)
 *   and §4.2.3.1 prescribe: reset, ACKNOWLEDGE, DRIVER, read both feature words, accept
 *   VIRTIO_F_VERSION_1 (§6, Reserved Feature Bits) and nothing else, FEATURES_OK and
 *   re-read it, configure queue 0 (§4.2.3.2, Virtqueue Configuration), DRIVER_OK. The
 *   device status bits are §2.1's, feature negotiation §2.2's.
 * - Lays out queue 0 as a split virtqueue (§2.7): descriptor table 16-byte aligned,
 *   available ring 2-byte aligned, used ring 4-byte aligned, all in one 4 KiB RAM frame
 *   from sigma0, together with the request header and status byte. Data moves through a
 *   second 4 KiB frame, so one request carries at most 8 sectors; longer transfers are
 *   split.
 * - Sends each request as the 3-descriptor chain of §5.2.6 (Block Device, Device
 *   Operation): the 16-byte header `{le32 type; le32 reserved; le64 sector}`
 *   device-readable, the data (device-readable for VIRTIO_BLK_T_OUT, device-writable for
 *   VIRTIO_BLK_T_IN), and the device-writable status byte; supplies it as §2.7.13
 *   (Supplying Buffers to The Device) says — descriptors, then the ring entry, then the
 *   available `idx` — and notifies the device through QueueNotify (§4.2.3.3).
 * - Waits for the used ring (§2.7.14, Receiving Used Buffers From The Device) either
 *   sleeping on the transport's interrupt, bound through the Icu to an Irq, or by
 *   polling. On an interrupt it reads InterruptStatus and acknowledges it through
 *   InterruptACK (§4.2.3.4, Notifications From The Device) before unmasking the Irq, so
 *   the level-triggered line has dropped when the controller re-enables it.
 *
 * The driver negotiates neither VIRTIO_BLK_F_FLUSH nor anything else, so by §5.2.6.1 a
 * write is on stable storage when it completes. It keeps one request in flight and is
 * meant for one thread: with an Irq, the thread that opened the device (the Irq's
 * handler). RAM is coherent with the device's DMA on both simulated machines, so no
 * barriers or cache maintenance appear here; on hardware they go where the comments say
 * "publish".
 *
 * ```ts
 * const kip = yield* env.kernelInterface();
 * const s0 = new Sigma0Client(env, capIndex(FixedSlot.PAGER));
 * const disk = yield* openVirtioBlk(env, kip, s0, { window: 0x30_0000_0000, irqCap: capIndex(20) });
 * if (typeof disk === 'string') return; // why not
 * const sector0 = yield* disk.read(0, 1); // Uint8Array(512) or −errno
 * ```
 */
import {
  capIndex,
  Errno,
  FixedSlot,
  IcuRef,
  type KernelInterfacePage,
  Proto,
  type ThreadEnv,
  TriggerMode,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import type { DeviceAccess } from '../root/devices';
import type { Sigma0Client } from '../sigma0/client';

/** Bytes per sector: the unit of every virtio-blk request (§5.2.6). */
export const VIRTIO_BLK_SECTOR_SIZE = 512;
/** Most sectors one request carries: the driver's data buffer is one 4 KiB frame. */
export const VIRTIO_BLK_DRIVER_MAX_SECTORS = 8;
/** Bytes of virtual address space the driver needs at its window: registers, queue, data. */
export const VIRTIO_BLK_DRIVER_WINDOW_SIZE = 3 * 4096;

const PAGE = 4096;

// virtio-mmio registers (offsets), §4.2.2.
const MAGIC_VALUE = 0x000;
const VERSION = 0x004;
const DEVICE_ID = 0x008;
const DEVICE_FEATURES = 0x010;
const DEVICE_FEATURES_SEL = 0x014;
const DRIVER_FEATURES = 0x020;
const DRIVER_FEATURES_SEL = 0x024;
const QUEUE_SEL = 0x030;
const QUEUE_NUM_MAX = 0x034;
const QUEUE_NUM = 0x038;
const QUEUE_READY = 0x044;
const QUEUE_NOTIFY = 0x050;
const INTERRUPT_STATUS = 0x060;
const INTERRUPT_ACK = 0x064;
const STATUS = 0x070;
const QUEUE_DESC_LOW = 0x080;
const QUEUE_DESC_HIGH = 0x084;
const QUEUE_DRIVER_LOW = 0x090;
const QUEUE_DRIVER_HIGH = 0x094;
const QUEUE_DEVICE_LOW = 0x0a0;
const QUEUE_DEVICE_HIGH = 0x0a4;
const CONFIG_GENERATION = 0x0fc;
const CONFIG = 0x100;

const MAGIC = 0x74726976; // "virt"
const VIRTIO_ID_BLOCK = 2;

// Device status bits, §2.1.
const ACKNOWLEDGE = 1;
const DRIVER = 2;
const DRIVER_OK = 4;
const FEATURES_OK = 8;
const DEVICE_NEEDS_RESET = 64;
const FAILED = 128;

/** VIRTIO_F_VERSION_1 is bit 32: bit 0 of the second feature word. */
const VERSION_1_HIGH_WORD = 1;

// Split virtqueue descriptor flags, §2.7.5.
const VIRTQ_DESC_F_NEXT = 1;
const VIRTQ_DESC_F_WRITE = 2;

// Block requests and statuses, §5.2.6.
const VIRTIO_BLK_T_IN = 0;
const VIRTIO_BLK_T_OUT = 1;
const VIRTIO_BLK_S_OK = 0;

/** Where the parts of queue 0 and the request live in the queue frame. */
const DESC_OFF = 0x000; // ≤ 64 descriptors × 16 bytes
const AVAIL_OFF = 0x400; // flags, idx, ring[≤ 64]
const USED_OFF = 0x800; // flags, idx, ring[≤ 64] of {id, len}
const HEADER_OFF = 0xc00; // the 16-byte request header
const STATUS_OFF = 0xc10; // the status byte
const MAX_QUEUE_SIZE = 64;
/** A request needs three descriptors; queue sizes are powers of two. */
const MIN_QUEUE_SIZE = 4;

/** Label the driver attaches its Irq with (any value: it receives from the Irq alone). */
const IRQ_LABEL = 0x2000;

const U32 = 2 ** 32;

/** Options of {@link openVirtioBlk}. */
export interface VirtioBlkDriverOptions {
  /**
   * Virtual address (4 KiB aligned) of {@link VIRTIO_BLK_DRIVER_WINDOW_SIZE} free bytes
   * in the caller's address space: the register page goes at `window`, the queue frame
   * at `window + 0x1000`, the data frame at `window + 0x2000`.
   */
  readonly window: number;
  /**
   * Capability index of an Irq (with the S right) for the device's interrupt. The
   * driver attaches the calling thread to it, binds the transport's line to it through
   * the Icu (the task needs the Icu capability), sets the line level-triggered as
   * virtio-mmio's interrupt is, and sleeps on it while a request is in flight. Without
   * it the driver polls the used ring.
   */
  readonly irqCap?: number;
  /** Queue size: a power of two from 4 to 64, at most the device's QueueNumMax (default 8). */
  readonly queueSize?: number;
  /**
   * Cycles of virtual time between two polls of the used ring (polling only; default
   * 1000). A polling thread never blocks, so the kernel never idles: the host must run
   * the kernel in bounded slices (`run({ maxTime })`) and let the device's host work
   * complete in between, or the request never completes.
   */
  readonly pollCycles?: number;
}

/** An initialised virtio block device, as {@link openVirtioBlk} returns it. */
export interface VirtioBlkDriver {
  /** e.g. `"virtio-blk at 0xfeb00000, irq 16"`. */
  readonly name: string;
  /** Physical base of the transport's registers, from the KIP. */
  readonly base: number;
  /** The transport's interrupt line, from the KIP. */
  readonly irq: number;
  /** Disk size in 512-byte sectors, from the configuration space (§5.2.4). */
  readonly capacity: number;
  /** Queue size in use. */
  readonly queueSize: number;
  /** The features the device granted with FEATURES_OK (only VIRTIO_F_VERSION_1). */
  readonly features: bigint;
  /** Whether completions arrive by interrupt (an Irq was given) or by polling. */
  readonly mode: 'interrupt' | 'poll';
  /** Interrupt messages received so far. */
  readonly interrupts: number;
  /** Requests the device completed so far. */
  readonly completed: number;
  /**
   * Reads `count` sectors from `sector` on. Returns the bytes, or −EINVAL for a bad
   * argument and −EIO when the device fails a request (a range past the capacity, a
   * backend error) or needs a reset.
   */
  read(sector: number, count: number): UserCode<Uint8Array | number>;
  /**
   * Writes `data` (a whole number of sectors) from `sector` on. Returns 0, or −EINVAL /
   * −EIO as {@link VirtioBlkDriver.read}. A request that fails leaves the earlier parts
   * of a multi-request transfer written.
   */
  write(sector: number, data: Uint8Array): UserCode<number>;
}

/**
 * Finds the first virtio block device in the KIP, maps its registers from sigma0 at
 * `options.window`, gets the queue and data frames from sigma0 (`any`, whose physical
 * addresses go to the device), initialises the device and returns the driver. On
 * failure it returns why, as a string (after setting FAILED in the device status when
 * the device was reached).
 */
export function* openVirtioBlk(
  env: ThreadEnv,
  kip: KernelInterfacePage,
  sigma0: Sigma0Client,
  options: VirtioBlkDriverOptions,
): UserCode<VirtioBlkDriver | string> {
  const { window, irqCap, queueSize = 8, pollCycles = 1000 } = options;
  if (!Number.isSafeInteger(window) || window < 0 || window % PAGE !== 0) {
    return `window 0x${window.toString(16)} is not a 4 KiB-aligned address`;
  }
  if (
    !Number.isInteger(queueSize) ||
    queueSize < MIN_QUEUE_SIZE ||
    queueSize > MAX_QUEUE_SIZE ||
    (queueSize & (queueSize - 1)) !== 0
  ) {
    return `queue size ${queueSize} is not a power of two from ${MIN_QUEUE_SIZE} to ${MAX_QUEUE_SIZE}`;
  }
  const dev = kip.devices.find((d) => d.name === 'virtio-mmio' && d.virtioId === VIRTIO_ID_BLOCK && d.mmio);
  if (!dev?.mmio) return 'the KIP lists no virtio block device';
  const base = dev.mmio.base;
  const line = dev.irq;

  // The transports sit 0x200 apart: map the page that holds this one, keep the offset.
  const page = base - (base % PAGE);
  const got = yield* sigma0.mmio(page, 12, window);
  if (got < 0) return `sigma0 refused the registers at 0x${page.toString(16)} (${got})`;
  const queuePa = yield* sigma0.any(12, window + PAGE);
  if (queuePa < 0) return `sigma0 gave no queue frame (${queuePa})`;
  const dataPa = yield* sigma0.any(12, window + 2 * PAGE);
  if (dataPa < 0) return `sigma0 gave no data frame (${dataPa})`;
  // The interrupt: bind the line to the Irq through the Icu, level-triggered as
  // virtio-mmio's interrupt is. The driver attaches to the Irq when it starts.
  if (irqCap !== undefined) {
    const icu = new IcuRef(env, capIndex(FixedSlot.ICU));
    let err = yield* icu.bind(line, irqCap);
    if (err < 0) return `binding line ${line} through the Icu failed (${err})`;
    err = yield* icu.setMode(line, TriggerMode.LEVEL);
    if (err < 0) return `making line ${line} level-triggered failed (${err})`;
  }
  return yield* startVirtioBlk(env, {
    base,
    line,
    regs: window + (base - page),
    queue: { address: window + PAGE, physical: queuePa },
    data: { address: window + 2 * PAGE, physical: dataPa },
    irqCap,
    queueSize,
    pollCycles,
  });
}

/**
 * Starts the driver on a virtio block device given to the program by the root task
 * (`caps: { disk: { device: 'disk0' } }`): its registers, its Irq (already bound to
 * its line) and two pages of DMA memory, as the program's environment describes them.
 */
export function* openVirtioBlkDevice(
  env: ThreadEnv,
  access: DeviceAccess,
  options: Omit<VirtioBlkDriverOptions, 'window' | 'irqCap'> = {},
): UserCode<VirtioBlkDriver | string> {
  const { queueSize = 8, pollCycles = 1000 } = options;
  if (access.device !== 'virtio-mmio' || !access.mmio)
    return `${access.device} is not a virtio-mmio transport`;
  if (!access.dma || access.dma.size < 2 * PAGE) return 'the device came without two pages of DMA memory';
  return yield* startVirtioBlk(env, {
    base: access.mmio.physical,
    line: access.irq?.line ?? -1,
    regs: access.mmio.address,
    queue: { address: access.dma.address, physical: access.dma.physical },
    data: { address: access.dma.address + PAGE, physical: access.dma.physical + PAGE },
    irqCap: access.irq?.cap,
    queueSize,
    pollCycles,
  });
}

/** What the driver runs on: the transport's registers, its two frames, its interrupt. */
interface VirtioBlkResources {
  /** Physical address of the transport, and its interrupt line. */
  readonly base: number;
  readonly line: number;
  /** Where the transport's registers are mapped. */
  readonly regs: number;
  /** The queue frame and the data frame: mapped at `address`, `physical` on the bus. */
  readonly queue: { readonly address: number; readonly physical: number };
  readonly data: { readonly address: number; readonly physical: number };
  /** An Irq bound to the line, for the driver to attach to; undefined to poll. */
  readonly irqCap: number | undefined;
  readonly queueSize: number;
  readonly pollCycles: number;
}

/** Initialises the device on `hw` (virtio 1.2 §3.1.1) and returns the driver, or why not. */
function* startVirtioBlk(env: ThreadEnv, hw: VirtioBlkResources): UserCode<VirtioBlkDriver | string> {
  const { base, line, regs, irqCap, queueSize, pollCycles } = hw;
  const mem = env.mem;
  const r = (offset: number) => mem.readU32(regs + offset);
  const w = (offset: number, value: number) => mem.writeU32(regs + offset, value);

  const magic = yield* r(MAGIC_VALUE);
  const version = yield* r(VERSION);
  const deviceId = yield* r(DEVICE_ID);
  if (magic !== MAGIC)
    return `no virtio-mmio transport at 0x${base.toString(16)} (magic 0x${magic.toString(16)})`;
  if (version !== 2) return `virtio-mmio version ${version} at 0x${base.toString(16)}, not 2`;
  if (deviceId !== VIRTIO_ID_BLOCK)
    return `device ID ${deviceId} at 0x${base.toString(16)}, not a block device`;

  // §3.1.1: reset, then announce ourselves.
  yield* w(STATUS, 0);
  yield* w(STATUS, ACKNOWLEDGE);
  yield* w(STATUS, ACKNOWLEDGE | DRIVER);
  yield* w(DEVICE_FEATURES_SEL, 0);
  yield* r(DEVICE_FEATURES); // nothing in the low word is needed
  yield* w(DEVICE_FEATURES_SEL, 1);
  const high = yield* r(DEVICE_FEATURES);
  const fail = function* (why: string): UserCode<string> {
    yield* w(STATUS, ACKNOWLEDGE | DRIVER | FAILED);
    return why;
  };
  if ((high & VERSION_1_HIGH_WORD) === 0) return yield* fail('the device does not offer VIRTIO_F_VERSION_1');
  yield* w(DRIVER_FEATURES_SEL, 0);
  yield* w(DRIVER_FEATURES, 0);
  yield* w(DRIVER_FEATURES_SEL, 1);
  yield* w(DRIVER_FEATURES, VERSION_1_HIGH_WORD);
  yield* w(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
  if (((yield* r(STATUS)) & FEATURES_OK) === 0) return yield* fail('the device refused FEATURES_OK');

  // §4.2.3.2: queue 0, in a zeroed frame of our own.
  yield* w(QUEUE_SEL, 0);
  if ((yield* r(QUEUE_READY)) !== 0) return yield* fail('queue 0 is already ready after reset');
  const max = yield* r(QUEUE_NUM_MAX);
  if (max < queueSize) return yield* fail(`queue 0 holds ${max} entries, fewer than ${queueSize}`);
  const queueVa = hw.queue.address;
  const dataVa = hw.data.address;
  const queuePa = hw.queue.physical;
  const dataPa = hw.data.physical;
  yield* mem.write(queueVa, new Uint8Array(PAGE));
  yield* w(QUEUE_NUM, queueSize);
  yield* w(QUEUE_DESC_LOW, (queuePa + DESC_OFF) % U32);
  yield* w(QUEUE_DESC_HIGH, Math.floor((queuePa + DESC_OFF) / U32));
  yield* w(QUEUE_DRIVER_LOW, (queuePa + AVAIL_OFF) % U32);
  yield* w(QUEUE_DRIVER_HIGH, Math.floor((queuePa + AVAIL_OFF) / U32));
  yield* w(QUEUE_DEVICE_LOW, (queuePa + USED_OFF) % U32);
  yield* w(QUEUE_DEVICE_HIGH, Math.floor((queuePa + USED_OFF) / U32));
  yield* w(QUEUE_READY, 1);
  if ((yield* r(QUEUE_READY)) !== 1) return yield* fail('the device refused the queue layout');

  // The three descriptors never change: header, data (length and direction set per
  // request), status.
  const desc = (i: number) => queueVa + DESC_OFF + 16 * i;
  yield* mem.writeU64(desc(0), BigInt(queuePa + HEADER_OFF));
  yield* mem.writeU32(desc(0) + 8, 16);
  yield* mem.writeU16(desc(0) + 12, VIRTQ_DESC_F_NEXT);
  yield* mem.writeU16(desc(0) + 14, 1);
  yield* mem.writeU64(desc(1), BigInt(dataPa));
  yield* mem.writeU16(desc(1) + 14, 2);
  yield* mem.writeU64(desc(2), BigInt(queuePa + STATUS_OFF));
  yield* mem.writeU32(desc(2) + 8, 1);
  yield* mem.writeU16(desc(2) + 12, VIRTQ_DESC_F_WRITE);

  // The interrupt: this thread handles it.
  if (irqCap !== undefined) {
    const err = yield* env.irq(irqCap).attach(IRQ_LABEL);
    if (err < 0) return yield* fail(`attaching to the Irq failed (${err})`);
  }

  yield* w(STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);

  // §5.2.4: capacity is a le64 at the start of the configuration space, read as two
  // 32-bit halves; §2.5 (Device Configuration Space): retry while ConfigGeneration moves.
  let capacity = 0;
  for (;;) {
    const before = yield* r(CONFIG_GENERATION);
    const capLow = yield* r(CONFIG);
    const capHigh = yield* r(CONFIG + 4);
    if ((yield* r(CONFIG_GENERATION)) !== before) continue;
    capacity = capHigh * U32 + capLow;
    break;
  }

  return new Driver(env, {
    name: `virtio-blk at 0x${base.toString(16)}, irq ${line}`,
    base,
    irq: line,
    capacity,
    queueSize,
    regs,
    queueVa,
    dataVa,
    irqCap,
    pollCycles,
  });
}

interface DriverSetup {
  readonly name: string;
  readonly base: number;
  readonly irq: number;
  readonly capacity: number;
  readonly queueSize: number;
  readonly regs: number;
  readonly queueVa: number;
  readonly dataVa: number;
  readonly irqCap: number | undefined;
  readonly pollCycles: number;
}

class Driver implements VirtioBlkDriver {
  readonly name: string;
  readonly base: number;
  readonly irq: number;
  readonly capacity: number;
  readonly queueSize: number;
  readonly features = 1n << 32n;
  readonly mode: 'interrupt' | 'poll';
  interrupts = 0;
  completed = 0;

  private readonly env: ThreadEnv;
  private readonly regs: number;
  private readonly queueVa: number;
  private readonly dataVa: number;
  private readonly irqCap: number | undefined;
  private readonly pollCycles: number;
  /** The driver's copy of the available `idx`, and the used `idx` it has consumed up to. */
  private availIdx = 0;
  private lastUsed = 0;
  /** Set when the device entered DEVICE_NEEDS_RESET or misbehaved: every request fails. */
  private broken = false;

  constructor(env: ThreadEnv, s: DriverSetup) {
    this.env = env;
    this.name = s.name;
    this.base = s.base;
    this.irq = s.irq;
    this.capacity = s.capacity;
    this.queueSize = s.queueSize;
    this.regs = s.regs;
    this.queueVa = s.queueVa;
    this.dataVa = s.dataVa;
    this.irqCap = s.irqCap;
    this.pollCycles = s.pollCycles;
    this.mode = s.irqCap === undefined ? 'poll' : 'interrupt';
  }

  *read(sector: number, count: number): UserCode<Uint8Array | number> {
    if (!validSector(sector) || !Number.isSafeInteger(count) || count < 1) return -Errno.EINVAL;
    const out = new Uint8Array(count * VIRTIO_BLK_SECTOR_SIZE);
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, VIRTIO_BLK_DRIVER_MAX_SECTORS);
      const err = yield* this.request(VIRTIO_BLK_T_IN, sector + done, n * VIRTIO_BLK_SECTOR_SIZE);
      if (err < 0) return err;
      yield* this.env.mem.readInto(
        this.dataVa,
        out.subarray(done * VIRTIO_BLK_SECTOR_SIZE, (done + n) * VIRTIO_BLK_SECTOR_SIZE),
      );
      done += n;
    }
    return out;
  }

  *write(sector: number, data: Uint8Array): UserCode<number> {
    const bytes = data.length;
    if (!validSector(sector) || bytes === 0 || bytes % VIRTIO_BLK_SECTOR_SIZE !== 0) return -Errno.EINVAL;
    const chunk = VIRTIO_BLK_DRIVER_MAX_SECTORS * VIRTIO_BLK_SECTOR_SIZE;
    for (let off = 0; off < bytes; off += chunk) {
      const part = data.subarray(off, Math.min(bytes, off + chunk));
      yield* this.env.mem.write(this.dataVa, part);
      const err = yield* this.request(VIRTIO_BLK_T_OUT, sector + off / VIRTIO_BLK_SECTOR_SIZE, part.length);
      if (err < 0) return err;
    }
    return 0;
  }

  /** Sends one request of `bytes` data bytes (in the data frame) and waits for it. */
  private *request(type: number, sector: number, bytes: number): UserCode<number> {
    if (this.broken) return -Errno.EIO;
    const mem = this.env.mem;
    const q = this.queueVa;
    // The header, the data descriptor's length and direction, a status the device must overwrite.
    yield* mem.writeU32(q + HEADER_OFF, type);
    yield* mem.writeU32(q + HEADER_OFF + 4, 0);
    yield* mem.writeU64(q + HEADER_OFF + 8, BigInt(sector));
    yield* mem.writeU8(q + STATUS_OFF, 0xff);
    yield* mem.writeU32(q + DESC_OFF + 16 + 8, bytes);
    yield* mem.writeU16(
      q + DESC_OFF + 16 + 12,
      VIRTQ_DESC_F_NEXT | (type === VIRTIO_BLK_T_IN ? VIRTQ_DESC_F_WRITE : 0),
    );
    // §2.7.13: the ring entry (head 0), then publish the new idx, then notify.
    yield* mem.writeU16(q + AVAIL_OFF + 4 + 2 * (this.availIdx % this.queueSize), 0);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    yield* mem.writeU16(q + AVAIL_OFF + 2, this.availIdx);
    yield* mem.writeU32(this.regs + QUEUE_NOTIFY, 0);

    const err = yield* this.awaitUsed();
    if (err < 0) {
      this.broken = true;
      return err;
    }
    // §2.7.14: the used element names our head; then the status byte tells the outcome.
    const slot = q + USED_OFF + 4 + 8 * (this.lastUsed % this.queueSize);
    const id = yield* mem.readU32(slot);
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    this.completed++;
    if (id !== 0) {
      this.broken = true;
      return -Errno.EIO;
    }
    const status = yield* mem.readU8(q + STATUS_OFF);
    return status === VIRTIO_BLK_S_OK ? 0 : -Errno.EIO;
  }

  /**
   * Waits until the used `idx` moves past what the driver consumed: sleeping on the
   * Irq, or polling. −EIO when the device needs a reset (it will complete nothing).
   */
  private *awaitUsed(): UserCode<number> {
    const env = this.env;
    const usedIdx = this.queueVa + USED_OFF + 2;
    for (;;) {
      if ((yield* env.mem.readU16(usedIdx)) !== this.lastUsed) return 0;
      if (((yield* env.mem.readU32(this.regs + STATUS)) & DEVICE_NEEDS_RESET) !== 0) return -Errno.EIO;
      if (this.irqCap === undefined) {
        yield env.compute(this.pollCycles);
        continue;
      }
      const tag: number = yield env.receive(this.irqCap);
      // An interrupt arrives with the IRQ protocol label; anything else is an IPC error.
      if ((tag & 0x8000) !== 0 || tagLabel(tag) !== Proto.IRQ) return env.error(tag) || -Errno.EIO;
      this.interrupts++;
      // §4.2.3.4: acknowledge what the device reports, which drops its line, then
      // unmask, so the re-enabled level-triggered line does not fire again at once.
      const isr = yield* env.mem.readU32(this.regs + INTERRUPT_STATUS);
      if (isr !== 0) yield* env.mem.writeU32(this.regs + INTERRUPT_ACK, isr);
      const err = yield* env.irq(this.irqCap).unmask();
      if (err < 0) return err;
    }
  }
}

function validSector(sector: number): boolean {
  return Number.isSafeInteger(sector) && sector >= 0;
}
