/**
 * The virtio-mmio transport, version 2 ("modern"), of virtio 1.2 §4.2: a 0x200-byte
 * register window followed, from 0x100, by the device-specific configuration space, and
 * one level-triggered interrupt line held while InterruptStatus is non-zero.
 *
 * The transport is generic over a {@link VirtioDevice}: it implements device status,
 * feature negotiation, queue configuration and interrupts, and hands the device its
 * live queues through a {@link VirtioDeviceContext}. Behaviour follows the specification
 * and, where the specification leaves room, QEMU's `hw/virtio/virtio-mmio.c`:
 *
 * - Control registers (below 0x100) answer only 4-byte accesses; other widths read as 0
 *   and are ignored on write. Reads of write-only registers return 0; writes to
 *   read-only registers are ignored. The configuration space takes 1-, 2-, 4- (and
 *   8-) byte accesses at any offset.
 * - VendorID is 0x554D4551 ("QEMU") as QEMU's is, so guests treat both alike.
 * - The device is modern-only: the transport always offers VIRTIO_F_VERSION_1, and
 *   refuses FEATURES_OK (clears the bit the driver sets) when the driver did not accept
 *   VERSION_1, accepted a feature that was not offered, or the device rejects the set.
 *   Driver feature writes are ignored once FEATURES_OK is set.
 * - QueueReady = 1 is refused (reads back 0) when the queue size is not a power of two
 *   within QueueNumMax or the areas are misaligned; QueueNum resets to QueueNumMax.
 * - The device consumes buffers only while FEATURES_OK and DRIVER_OK are set, the queue
 *   is ready and DEVICE_NEEDS_RESET is clear; a notification at any other time is
 *   dropped (the buffers are processed at the next notification).
 * - Writing 0 to Status resets the device: status, InterruptStatus, selectors, driver
 *   features and every queue return to their initial values, and live queues are
 *   detached so that requests still in flight on the host never touch guest memory.
 */
import type { AccessWidth, DmaMemory, HostWork, IrqLine, MmioDevice } from '../device';
import { layoutProblem, SplitVirtqueue } from './virtqueue';

/** Register offsets of the virtio-mmio version 2 window. */
export const VIRTIO_MMIO = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  CONFIG_GENERATION: 0x0fc,
  CONFIG: 0x100,
} as const;

/** "virt" in little-endian. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** Transport version of the modern interface. */
export const VIRTIO_MMIO_VERSION = 2;
/** "QEMU" in little-endian: the vendor ID QEMU's virtio-mmio devices report. */
export const VIRTIO_MMIO_VENDOR = 0x554d4551;
/** Size of the register window. */
export const VIRTIO_MMIO_SIZE = 0x200;

/** Device status bits (§2.1). */
export const VIRTIO_STATUS = {
  ACKNOWLEDGE: 1,
  DRIVER: 2,
  DRIVER_OK: 4,
  FEATURES_OK: 8,
  DEVICE_NEEDS_RESET: 64,
  FAILED: 128,
} as const;

/** InterruptStatus / InterruptACK bits. */
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** Reserved feature bits (§6) used here. */
export const VIRTIO_F_INDIRECT_DESC = 28;
export const VIRTIO_F_VERSION_1 = 32;

/** `1n << bit`, for building feature sets. */
export function virtioFeatureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}

/** What a device model gets from its transport. */
export interface VirtioDeviceContext {
  /** Bus-master access to guest RAM. */
  readonly dma: DmaMemory;
  /** Where host-side promises go so the machine can wait for them. */
  readonly work: HostWork;
  /**
   * Queue `index` if the device may take new buffers from it now (FEATURES_OK and
   * DRIVER_OK set, the queue ready, DEVICE_NEEDS_RESET clear), else `undefined`. A queue
   * obtained earlier stays usable for completing its requests while `active`.
   */
  queue(index: number): SplitVirtqueue | undefined;
  /** The driver accepted feature `bit` (meaningful once FEATURES_OK is set). */
  negotiated(bit: number): boolean;
  /**
   * Call after pushing used elements to `queue`: sets InterruptStatus bit 0 and raises
   * the line, unless the driver suppressed notifications (VIRTQ_AVAIL_F_NO_INTERRUPT)
   * or the queue is no longer live.
   */
  usedBuffers(queue: SplitVirtqueue): void;
  /**
   * Enters the error state of §2.1.2: sets DEVICE_NEEDS_RESET and, after DRIVER_OK, sends
   * a configuration change notification. No new buffers are consumed until a reset.
   */
  needsReset(reason: string): void;
  /** The configuration space changed: bumps ConfigGeneration and notifies the driver. */
  configChanged(): void;
}

/** A virtio device type behind the transport. */
export interface VirtioDevice {
  /** Short name, e.g. `"virtio-blk"`; the transport uses it as its own. */
  readonly name: string;
  /** Virtio device ID (§5), e.g. 2 for a block device. */
  readonly deviceId: number;
  /** Feature bits the device offers (the transport adds VIRTIO_F_VERSION_1). */
  readonly features: bigint;
  /** QueueNumMax of each queue; the length is the number of queues. */
  readonly queueSizes: readonly number[];
  /** Called once by the transport that owns the device. */
  attach(context: VirtioDeviceContext): void;
  /** Little-endian read of `width` bytes of configuration space at `offset` (0 past its end). */
  readConfig(offset: number, width: 1 | 2 | 4): number;
  /** Configuration space write (read-only fields ignore it). */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void;
  /** Accepts or refuses a driver's feature set before FEATURES_OK is granted. */
  acceptFeatures?(features: bigint): boolean;
  /** The driver notified queue `index`, which is usable (see {@link VirtioDeviceContext.queue}). */
  notify(index: number): void;
  /** Device reset: forget requests in flight (their queues are already detached). */
  reset(): void;
}

/** Construction parameters of {@link VirtioMmioTransport}. */
export interface VirtioMmioOptions {
  readonly device: VirtioDevice;
  /** The device's interrupt output. */
  readonly irq: IrqLine;
  readonly dma: DmaMemory;
  readonly work: HostWork;
  /** Overrides the device list name (default: the device's name). */
  readonly name?: string;
}

interface QueueRegisters {
  num: number;
  ready: boolean;
  desc: [number, number];
  driver: [number, number];
  device: [number, number];
  live: SplitVirtqueue | undefined;
}

const U32 = 2 ** 32;

/** A virtio device on the virtio-mmio (version 2) transport. */
export class VirtioMmioTransport implements MmioDevice {
  readonly name: string;
  readonly size = VIRTIO_MMIO_SIZE;
  readonly device: VirtioDevice;
  /** Feature bits offered to the driver. */
  readonly offeredFeatures: bigint;

  private readonly irq: IrqLine;
  private readonly dma: DmaMemory;
  private statusBits = 0;
  private isr = 0;
  private irqLevel = false;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures: [number, number] = [0, 0];
  private accepted = 0n;
  private queueSel = 0;
  private readonly queues: QueueRegisters[];
  private generation = 0;
  private reason: string | undefined;

  constructor(options: VirtioMmioOptions) {
    const { device } = options;
    this.device = device;
    this.name = options.name ?? device.name;
    this.irq = options.irq;
    this.dma = options.dma;
    this.offeredFeatures = device.features | virtioFeatureBit(VIRTIO_F_VERSION_1);
    this.queues = device.queueSizes.map((max) => newQueue(max));
    device.attach(this.context(options.work));
  }

  /** The device status register. */
  get status(): number {
    return this.statusBits;
  }

  /** The InterruptStatus register. */
  get interruptStatus(): number {
    return this.isr;
  }

  /** Features the driver accepted with FEATURES_OK (0 before). */
  get negotiatedFeatures(): bigint {
    return this.accepted;
  }

  /** Why the device last set DEVICE_NEEDS_RESET, for traces; cleared by reset. */
  get needsResetReason(): string | undefined {
    return this.reason;
  }

  read(offset: number, width: AccessWidth): number {
    if (offset >= VIRTIO_MMIO.CONFIG) return this.readConfig(offset - VIRTIO_MMIO.CONFIG, width);
    if (width !== 4 || offset % 4 !== 0) return 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case VIRTIO_MMIO.MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
      case VIRTIO_MMIO.VERSION:
        return VIRTIO_MMIO_VERSION;
      case VIRTIO_MMIO.DEVICE_ID:
        return this.device.deviceId;
      case VIRTIO_MMIO.VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
      case VIRTIO_MMIO.DEVICE_FEATURES:
        return this.deviceFeaturesSel > 1
          ? 0
          : Number((this.offeredFeatures >> BigInt(32 * this.deviceFeaturesSel)) & 0xffff_ffffn);
      case VIRTIO_MMIO.QUEUE_NUM_MAX:
        return this.device.queueSizes[this.queueSel] ?? 0;
      case VIRTIO_MMIO.QUEUE_READY:
        return q?.ready ? 1 : 0;
      case VIRTIO_MMIO.INTERRUPT_STATUS:
        return this.isr;
      case VIRTIO_MMIO.STATUS:
        return this.statusBits;
      case VIRTIO_MMIO.CONFIG_GENERATION:
        return this.generation;
      default:
        return 0; // write-only or unassigned register
    }
  }

  write(offset: number, width: AccessWidth, value: number): void {
    if (offset >= VIRTIO_MMIO.CONFIG) {
      this.writeConfig(offset - VIRTIO_MMIO.CONFIG, width, value);
      return;
    }
    if (width !== 4 || offset % 4 !== 0) return;
    const v = value >>> 0;
    const q = this.queues[this.queueSel];
    switch (offset) {
      case VIRTIO_MMIO.DEVICE_FEATURES_SEL:
        this.deviceFeaturesSel = v;
        return;
      case VIRTIO_MMIO.DRIVER_FEATURES:
        if (this.driverFeaturesSel <= 1 && !(this.statusBits & VIRTIO_STATUS.FEATURES_OK)) {
          this.driverFeatures[this.driverFeaturesSel] = v;
        }
        return;
      case VIRTIO_MMIO.DRIVER_FEATURES_SEL:
        this.driverFeaturesSel = v;
        return;
      case VIRTIO_MMIO.QUEUE_SEL:
        this.queueSel = v;
        return;
      case VIRTIO_MMIO.QUEUE_NUM:
        if (q && !q.ready) q.num = v;
        return;
      case VIRTIO_MMIO.QUEUE_READY:
        if (q) this.setQueueReady(this.queueSel, q, v !== 0);
        return;
      case VIRTIO_MMIO.QUEUE_NOTIFY:
        this.queueNotify(v);
        return;
      case VIRTIO_MMIO.INTERRUPT_ACK:
        this.isr &= ~v;
        this.updateIrq();
        return;
      case VIRTIO_MMIO.STATUS:
        this.setStatus(v & 0xff);
        return;
      case VIRTIO_MMIO.QUEUE_DESC_LOW:
      case VIRTIO_MMIO.QUEUE_DESC_HIGH:
      case VIRTIO_MMIO.QUEUE_DRIVER_LOW:
      case VIRTIO_MMIO.QUEUE_DRIVER_HIGH:
      case VIRTIO_MMIO.QUEUE_DEVICE_LOW:
      case VIRTIO_MMIO.QUEUE_DEVICE_HIGH: {
        if (!q || q.ready) return; // the driver must not change a ready queue
        const half = (offset & 4) >> 2;
        const area = offset < VIRTIO_MMIO.QUEUE_DRIVER_LOW ? q.desc : offset < 0x0a0 ? q.driver : q.device;
        area[half] = v;
        return;
      }
      default:
        return; // read-only or unassigned register
    }
  }

  /** Device reset, as a driver's write of 0 to Status (also usable for a machine reset). */
  reset(): void {
    this.statusBits = 0;
    this.isr = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = [0, 0];
    this.accepted = 0n;
    this.queueSel = 0;
    this.reason = undefined;
    this.queues.forEach((q, i) => {
      q.live?.detach();
      Object.assign(q, newQueue(this.device.queueSizes[i] ?? 0));
    });
    this.updateIrq();
    this.device.reset();
  }

  private setStatus(value: number): void {
    if (value === 0) {
      this.reset();
      return;
    }
    const previous = this.statusBits;
    // DEVICE_NEEDS_RESET belongs to the device: the driver can neither set nor clear it.
    let next = value & ~VIRTIO_STATUS.DEVICE_NEEDS_RESET;
    if (next & VIRTIO_STATUS.FEATURES_OK && !(previous & VIRTIO_STATUS.FEATURES_OK)) {
      const wanted = (BigInt(this.driverFeatures[1]) << 32n) | BigInt(this.driverFeatures[0]);
      if (this.featuresAcceptable(wanted)) this.accepted = wanted;
      else next &= ~VIRTIO_STATUS.FEATURES_OK;
    }
    this.statusBits = next | (previous & VIRTIO_STATUS.DEVICE_NEEDS_RESET);
  }

  private featuresAcceptable(wanted: bigint): boolean {
    if ((wanted & ~this.offeredFeatures) !== 0n) return false;
    if ((wanted & virtioFeatureBit(VIRTIO_F_VERSION_1)) === 0n) return false;
    try {
      return this.device.acceptFeatures?.(wanted) ?? true;
    } catch {
      return false;
    }
  }

  private setQueueReady(index: number, q: QueueRegisters, ready: boolean): void {
    if (!ready) {
      q.live?.detach();
      q.live = undefined;
      q.ready = false;
      return;
    }
    if (q.ready) return;
    const layout = {
      size: q.num,
      desc: q.desc[1] * U32 + q.desc[0],
      avail: q.driver[1] * U32 + q.driver[0],
      used: q.device[1] * U32 + q.device[0],
    };
    if (layoutProblem(layout, this.device.queueSizes[index] ?? 0) !== undefined) return;
    q.live = new SplitVirtqueue(this.dma, index, layout);
    q.ready = true;
  }

  private usable(index: number): SplitVirtqueue | undefined {
    const need = VIRTIO_STATUS.FEATURES_OK | VIRTIO_STATUS.DRIVER_OK;
    if ((this.statusBits & need) !== need) return undefined;
    if (this.statusBits & VIRTIO_STATUS.DEVICE_NEEDS_RESET) return undefined;
    const q = this.queues[index];
    return q?.ready ? q.live : undefined;
  }

  private queueNotify(index: number): void {
    if (this.usable(index) === undefined) return;
    try {
      this.device.notify(index);
    } catch (e) {
      // A device model bug must not reach the CPU model as an exception.
      this.enterNeedsReset(`device error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private enterNeedsReset(reason: string): void {
    if (this.statusBits & VIRTIO_STATUS.DEVICE_NEEDS_RESET) return;
    this.reason = reason;
    this.statusBits |= VIRTIO_STATUS.DEVICE_NEEDS_RESET;
    if (this.statusBits & VIRTIO_STATUS.DRIVER_OK) {
      this.isr |= VIRTIO_MMIO_INT_CONFIG;
      this.updateIrq();
    }
  }

  private updateIrq(): void {
    const level = this.isr !== 0;
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irq.set(level);
  }

  private readConfig(offset: number, width: AccessWidth): number {
    if (offset + width > VIRTIO_MMIO_SIZE - VIRTIO_MMIO.CONFIG) return 0;
    if (width === 8) {
      const low = this.device.readConfig(offset, 4);
      const high = this.device.readConfig(offset + 4, 4);
      return high < 0x20_0000 ? high * U32 + low : 0;
    }
    return this.device.readConfig(offset, width);
  }

  private writeConfig(offset: number, width: AccessWidth, value: number): void {
    if (offset + width > VIRTIO_MMIO_SIZE - VIRTIO_MMIO.CONFIG) return;
    if (width === 8) {
      this.device.writeConfig(offset, 4, value % U32);
      this.device.writeConfig(offset + 4, 4, Math.floor(value / U32));
      return;
    }
    this.device.writeConfig(offset, width, value);
  }

  private context(work: HostWork): VirtioDeviceContext {
    return {
      dma: this.dma,
      work,
      queue: (index) => this.usable(index),
      negotiated: (bit) => (this.accepted & virtioFeatureBit(bit)) !== 0n,
      usedBuffers: (queue) => {
        if (!queue.active || queue.notificationsSuppressed()) return;
        this.isr |= VIRTIO_MMIO_INT_VRING;
        this.updateIrq();
      },
      needsReset: (reason) => this.enterNeedsReset(reason),
      configChanged: () => {
        this.generation = (this.generation + 1) >>> 0;
        if (this.statusBits & VIRTIO_STATUS.DRIVER_OK) {
          this.isr |= VIRTIO_MMIO_INT_CONFIG;
          this.updateIrq();
        }
      },
    };
  }
}

function newQueue(max: number): QueueRegisters {
  return { num: max, ready: false, desc: [0, 0], driver: [0, 0], device: [0, 0], live: undefined };
}
