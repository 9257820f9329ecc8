import { describe, expect, it } from 'vitest';
import type { HostWork } from '../src/device';
import { ramDma } from '../src/device';
import * as devices from '../src/index';
import {
  type SplitVirtqueue,
  VIRTIO_F_VERSION_1,
  VIRTIO_MMIO,
  VIRTIO_MMIO_INT_CONFIG,
  VIRTIO_MMIO_INT_VRING,
  VIRTIO_STATUS,
  type VirtioDevice,
  type VirtioDeviceContext,
  VirtioMmioTransport,
  virtioFeatureBit,
} from '../src/virtio';

const RAM_BASE = 0x8000_0000;
const RAM_SIZE = 0x10000;
const { ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, DEVICE_NEEDS_RESET, FAILED } = VIRTIO_STATUS;

/** A device with three queues (the middle one unavailable) that records what it is told. */
class FakeDevice implements VirtioDevice {
  readonly name = 'fake';
  readonly deviceId = 42;
  readonly features = virtioFeatureBit(0) | virtioFeatureBit(3) | virtioFeatureBit(35);
  readonly queueSizes = [8, 0, 4];
  readonly config = Uint8Array.of(0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0, 0, 0x18, 0x19, 0x1a, 0x1b);
  readonly notified: number[] = [];
  readonly configWrites: [number, number, number][] = [];
  resets = 0;
  ctx!: VirtioDeviceContext;
  throwOnNotify = false;

  attach(context: VirtioDeviceContext): void {
    this.ctx = context;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = v * 256 + (this.config[offset + i] ?? 0);
    return v;
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    this.configWrites.push([offset, width, value]);
  }

  /** Bit 3 requires bit 0. */
  acceptFeatures(features: bigint): boolean {
    return !(features & virtioFeatureBit(3)) || (features & virtioFeatureBit(0)) !== 0n;
  }

  notify(index: number): void {
    if (this.throwOnNotify) throw new Error('boom');
    this.notified.push(index);
  }

  reset(): void {
    this.resets++;
  }
}

function setup() {
  const ram = new ArrayBuffer(RAM_SIZE);
  const view = new DataView(ram);
  const irqLog: boolean[] = [];
  let level = false;
  const work: HostWork = { track() {} };
  const device = new FakeDevice();
  const dev = new VirtioMmioTransport({
    device,
    irq: {
      set(l) {
        level = l;
        irqLog.push(l);
      },
    },
    dma: ramDma(ram, RAM_BASE, RAM_SIZE),
    work,
  });
  const r = (offset: number) => dev.read(offset, 4);
  const w = (offset: number, value: number) => dev.write(offset, 4, value);
  const negotiate = (low: number, high: number) => {
    w(VIRTIO_MMIO.STATUS, 0);
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE);
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE | DRIVER);
    w(VIRTIO_MMIO.DRIVER_FEATURES_SEL, 0);
    w(VIRTIO_MMIO.DRIVER_FEATURES, low);
    w(VIRTIO_MMIO.DRIVER_FEATURES_SEL, 1);
    w(VIRTIO_MMIO.DRIVER_FEATURES, high);
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK);
    return (r(VIRTIO_MMIO.STATUS) & FEATURES_OK) !== 0;
  };
  const setupQueue = (
    index: number,
    num: number,
    desc = RAM_BASE,
    avail = RAM_BASE + 0x1000,
    used = RAM_BASE + 0x2000,
  ) => {
    w(VIRTIO_MMIO.QUEUE_SEL, index);
    w(VIRTIO_MMIO.QUEUE_NUM, num);
    w(VIRTIO_MMIO.QUEUE_DESC_LOW, desc);
    w(VIRTIO_MMIO.QUEUE_DESC_HIGH, 0);
    w(VIRTIO_MMIO.QUEUE_DRIVER_LOW, avail);
    w(VIRTIO_MMIO.QUEUE_DRIVER_HIGH, 0);
    w(VIRTIO_MMIO.QUEUE_DEVICE_LOW, used);
    w(VIRTIO_MMIO.QUEUE_DEVICE_HIGH, 0);
    w(VIRTIO_MMIO.QUEUE_READY, 1);
    return r(VIRTIO_MMIO.QUEUE_READY) === 1;
  };
  /** Negotiates VERSION_1 + bit 0, sets up queue 0 and sets DRIVER_OK. */
  const start = () => {
    expect(negotiate(1, 1)).toBe(true);
    expect(setupQueue(0, 8)).toBe(true);
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
  };
  return { dev, device, view, r, w, negotiate, setupQueue, start, irqLog, level: () => level };
}

describe('virtio-mmio registers', () => {
  it('is exported from the @pecan/devices entry point', () => {
    expect(devices.VirtioMmioTransport).toBe(VirtioMmioTransport);
    expect(typeof devices.VirtioBlk).toBe('function');
  });

  it('identifies itself: magic "virt", version 2, the device id and vendor "QEMU"', () => {
    const { dev, r } = setup();
    expect(dev.size).toBe(0x200);
    expect(dev.name).toBe('fake');
    expect(r(VIRTIO_MMIO.MAGIC_VALUE)).toBe(0x74726976);
    expect(r(VIRTIO_MMIO.VERSION)).toBe(2);
    expect(r(VIRTIO_MMIO.DEVICE_ID)).toBe(42);
    expect(r(VIRTIO_MMIO.VENDOR_ID)).toBe(0x554d4551);
    expect(r(VIRTIO_MMIO.STATUS)).toBe(0);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(r(VIRTIO_MMIO.CONFIG_GENERATION)).toBe(0);
  });

  it('answers control registers only to aligned 4-byte accesses', () => {
    const { dev, w, r } = setup();
    expect(dev.read(VIRTIO_MMIO.MAGIC_VALUE, 1)).toBe(0);
    expect(dev.read(VIRTIO_MMIO.MAGIC_VALUE, 2)).toBe(0);
    expect(dev.read(VIRTIO_MMIO.MAGIC_VALUE, 8)).toBe(0);
    expect(dev.read(VIRTIO_MMIO.MAGIC_VALUE + 2, 4)).toBe(0);
    dev.write(VIRTIO_MMIO.STATUS, 1, ACKNOWLEDGE);
    expect(r(VIRTIO_MMIO.STATUS)).toBe(0);
    // Write-only registers read as 0; read-only registers ignore writes.
    w(VIRTIO_MMIO.QUEUE_SEL, 2);
    expect(r(VIRTIO_MMIO.QUEUE_SEL)).toBe(0);
    expect(r(VIRTIO_MMIO.QUEUE_NUM_MAX)).toBe(4);
    w(VIRTIO_MMIO.MAGIC_VALUE, 0);
    w(VIRTIO_MMIO.DEVICE_ID, 7);
    w(VIRTIO_MMIO.INTERRUPT_STATUS, 3);
    expect(r(VIRTIO_MMIO.MAGIC_VALUE)).toBe(0x74726976);
    expect(r(VIRTIO_MMIO.DEVICE_ID)).toBe(42);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
  });

  it('presents device features by 32-bit word, with VERSION_1 added by the transport', () => {
    const { r, w, dev } = setup();
    w(VIRTIO_MMIO.DEVICE_FEATURES_SEL, 0);
    expect(r(VIRTIO_MMIO.DEVICE_FEATURES)).toBe(0b1001);
    w(VIRTIO_MMIO.DEVICE_FEATURES_SEL, 1);
    expect(r(VIRTIO_MMIO.DEVICE_FEATURES)).toBe(0b1001); // bits 32 (VERSION_1) and 35
    w(VIRTIO_MMIO.DEVICE_FEATURES_SEL, 2);
    expect(r(VIRTIO_MMIO.DEVICE_FEATURES)).toBe(0);
    expect(dev.offeredFeatures & virtioFeatureBit(VIRTIO_F_VERSION_1)).not.toBe(0n);
  });

  it('gives access to the configuration space at 0x100 with any width, and forwards writes', () => {
    const { dev, device } = setup();
    expect(dev.read(0x100, 1)).toBe(0x10);
    expect(dev.read(0x101, 2)).toBe(0x1211);
    expect(dev.read(0x104, 4)).toBe(0x1514);
    expect(dev.read(0x100, 8)).toBe(0x1514 * 2 ** 32 + 0x13121110);
    expect(dev.read(0x104, 8)).toBe(0); // above 2^53: drivers read such fields as two halves
    expect(dev.read(0x1fe, 4)).toBe(0); // crosses the end of the window
    dev.write(0x102, 2, 0xbeef);
    dev.write(0x1ff, 2, 1); // ignored
    expect(device.configWrites).toEqual([[2, 2, 0xbeef]]);
  });
});

describe('virtio-mmio feature negotiation', () => {
  it('refuses FEATURES_OK when the driver did not accept VERSION_1', () => {
    const { negotiate, r, dev } = setup();
    expect(negotiate(0b1001, 0)).toBe(false);
    expect(r(VIRTIO_MMIO.STATUS)).toBe(ACKNOWLEDGE | DRIVER);
    expect(dev.negotiatedFeatures).toBe(0n);
  });

  it('refuses features that were not offered and combinations the device rejects', () => {
    const { negotiate } = setup();
    expect(negotiate(0b0010, 1)).toBe(false); // bit 1 not offered
    expect(negotiate(0, 1 | 0b0100)).toBe(false); // bit 34 not offered
    expect(negotiate(0b1000, 1)).toBe(false); // bit 3 without bit 0: the device refuses
    expect(negotiate(0b1001, 1 | 0b1000)).toBe(true);
  });

  it('records the accepted set and ignores DriverFeatures once FEATURES_OK is set', () => {
    const { negotiate, w, dev } = setup();
    expect(negotiate(1, 1)).toBe(true);
    expect(dev.negotiatedFeatures).toBe(virtioFeatureBit(0) | virtioFeatureBit(VIRTIO_F_VERSION_1));
    w(VIRTIO_MMIO.DRIVER_FEATURES_SEL, 0);
    w(VIRTIO_MMIO.DRIVER_FEATURES, 0b1001);
    expect(dev.negotiatedFeatures).toBe(virtioFeatureBit(0) | virtioFeatureBit(VIRTIO_F_VERSION_1));
  });

  it('keeps FAILED and other driver bits, but never lets the driver set DEVICE_NEEDS_RESET', () => {
    const { w, r } = setup();
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE | FAILED | DEVICE_NEEDS_RESET);
    expect(r(VIRTIO_MMIO.STATUS)).toBe(ACKNOWLEDGE | FAILED);
  });
});

describe('virtio-mmio queues', () => {
  it('reports QueueNumMax per queue and 0 for queues that do not exist', () => {
    const { w, r } = setup();
    for (const [sel, max] of [
      [0, 8],
      [1, 0],
      [2, 4],
      [3, 0],
      [0xffff_ffff, 0],
    ] as const) {
      w(VIRTIO_MMIO.QUEUE_SEL, sel);
      expect(r(VIRTIO_MMIO.QUEUE_NUM_MAX)).toBe(max);
      expect(r(VIRTIO_MMIO.QUEUE_READY)).toBe(0);
    }
  });

  it('refuses QueueReady for bad sizes, misaligned areas and unavailable queues', () => {
    const { setupQueue } = setup();
    expect(setupQueue(0, 6)).toBe(false); // not a power of two
    expect(setupQueue(0, 16)).toBe(false); // above QueueNumMax
    expect(setupQueue(0, 0)).toBe(false);
    expect(setupQueue(0, 8, RAM_BASE + 8)).toBe(false); // descriptor table not 16-aligned
    expect(setupQueue(0, 8, RAM_BASE, RAM_BASE + 0x1001)).toBe(false); // avail not 2-aligned
    expect(setupQueue(0, 8, RAM_BASE, RAM_BASE + 0x1000, RAM_BASE + 0x2002)).toBe(false); // used not 4-aligned
    expect(setupQueue(1, 1)).toBe(false); // QueueNumMax 0
    expect(setupQueue(0, 8)).toBe(true);
    expect(setupQueue(2, 2)).toBe(true);
  });

  it('uses QueueNumMax as the size when the driver does not write QueueNum', () => {
    const { w, r, start, device } = setup();
    start();
    w(VIRTIO_MMIO.QUEUE_SEL, 2);
    w(VIRTIO_MMIO.QUEUE_DESC_LOW, RAM_BASE + 0x3000);
    w(VIRTIO_MMIO.QUEUE_DRIVER_LOW, RAM_BASE + 0x3100);
    w(VIRTIO_MMIO.QUEUE_DEVICE_LOW, RAM_BASE + 0x3200);
    w(VIRTIO_MMIO.QUEUE_READY, 1);
    expect(r(VIRTIO_MMIO.QUEUE_READY)).toBe(1);
    expect(device.ctx.queue(2)?.size).toBe(4);
  });

  it('delivers notifications only with FEATURES_OK, DRIVER_OK and a ready queue', () => {
    const { w, negotiate, setupQueue, device } = setup();
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 0);
    expect(negotiate(1, 1)).toBe(true);
    expect(setupQueue(0, 8)).toBe(true);
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 0); // no DRIVER_OK yet
    expect(device.ctx.queue(0)).toBeUndefined();
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 0);
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 2); // queue 2 not ready
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 7); // no such queue
    expect(device.notified).toEqual([0]);
    expect(device.ctx.queue(0)?.active).toBe(true);
    // Disabling the queue detaches it.
    const vq = device.ctx.queue(0) as SplitVirtqueue;
    w(VIRTIO_MMIO.QUEUE_SEL, 0);
    w(VIRTIO_MMIO.QUEUE_READY, 0);
    expect(vq.active).toBe(false);
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 0);
    expect(device.notified).toEqual([0]);
  });

  it('never uses queues of a driver whose FEATURES_OK was refused, even with DRIVER_OK', () => {
    const { w, negotiate, setupQueue, device } = setup();
    expect(negotiate(1, 0)).toBe(false);
    expect(setupQueue(0, 8)).toBe(true);
    w(VIRTIO_MMIO.STATUS, ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK);
    w(VIRTIO_MMIO.QUEUE_NOTIFY, 0);
    expect(device.notified).toEqual([]);
    expect(device.ctx.queue(0)).toBeUndefined();
  });
});

describe('virtio-mmio interrupts, errors and reset', () => {
  it('holds the line while InterruptStatus is non-zero; InterruptACK clears bits', () => {
    const { start, device, r, w, irqLog, level, view } = setup();
    start();
    const vq = device.ctx.queue(0) as SplitVirtqueue;
    expect(vq.push(3, 512)).toBe(true);
    device.ctx.usedBuffers(vq);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(VIRTIO_MMIO_INT_VRING);
    expect(level()).toBe(true);
    device.ctx.configChanged();
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG);
    expect(r(VIRTIO_MMIO.CONFIG_GENERATION)).toBe(1);
    w(VIRTIO_MMIO.INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(VIRTIO_MMIO_INT_CONFIG);
    expect(level()).toBe(true);
    w(VIRTIO_MMIO.INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(level()).toBe(false);
    expect(irqLog).toEqual([true, false]);
    // The used element landed little-endian in the used ring.
    expect(view.getUint16(0x2002, true)).toBe(1);
    expect(view.getUint32(0x2004, true)).toBe(3);
    expect(view.getUint32(0x2008, true)).toBe(512);
  });

  it('sets DEVICE_NEEDS_RESET with a configuration change interrupt, and stops handing out queues', () => {
    const { start, device, r, level, dev } = setup();
    start();
    device.ctx.needsReset('test failure');
    expect(r(VIRTIO_MMIO.STATUS) & DEVICE_NEEDS_RESET).toBe(DEVICE_NEEDS_RESET);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(VIRTIO_MMIO_INT_CONFIG);
    expect(level()).toBe(true);
    expect(dev.needsResetReason).toBe('test failure');
    expect(device.ctx.queue(0)).toBeUndefined();
  });

  it('sets DEVICE_NEEDS_RESET without an interrupt before DRIVER_OK', () => {
    const { negotiate, device, r, level } = setup();
    negotiate(1, 1);
    device.ctx.needsReset('early');
    expect(r(VIRTIO_MMIO.STATUS) & DEVICE_NEEDS_RESET).toBe(DEVICE_NEEDS_RESET);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(level()).toBe(false);
  });

  it('turns an exception from the device model into DEVICE_NEEDS_RESET', () => {
    const { start, device, w, r, dev } = setup();
    start();
    device.throwOnNotify = true;
    expect(() => w(VIRTIO_MMIO.QUEUE_NOTIFY, 0)).not.toThrow();
    expect(r(VIRTIO_MMIO.STATUS) & DEVICE_NEEDS_RESET).toBe(DEVICE_NEEDS_RESET);
    expect(dev.needsResetReason).toMatch(/boom/);
  });

  it('resets everything when the driver writes 0 to Status', () => {
    const { start, device, w, r, level, dev } = setup();
    start();
    const resets = device.resets;
    const vq = device.ctx.queue(0) as SplitVirtqueue;
    vq.push(0, 0);
    device.ctx.usedBuffers(vq);
    device.ctx.needsReset('x');
    w(VIRTIO_MMIO.STATUS, 0);
    expect(r(VIRTIO_MMIO.STATUS)).toBe(0);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
    expect(level()).toBe(false);
    expect(device.resets).toBe(resets + 1);
    expect(vq.active).toBe(false);
    expect(vq.push(1, 1)).toBe(false);
    expect(dev.negotiatedFeatures).toBe(0n);
    expect(dev.needsResetReason).toBeUndefined();
    w(VIRTIO_MMIO.QUEUE_SEL, 0);
    expect(r(VIRTIO_MMIO.QUEUE_READY)).toBe(0);
    // Used-buffer notifications for a detached queue are dropped.
    device.ctx.usedBuffers(vq);
    expect(r(VIRTIO_MMIO.INTERRUPT_STATUS)).toBe(0);
  });
});
