/**
 * The `virt` machine's devices, where QEMU puts them (`base_memmap[]` and `a15irqmap[]`
 * in hw/arm/virt.c; see ./memory-map.ts):
 *
 * | device | where | interrupt |
 * | --- | --- | --- |
 * | PL011 UART | 0x0900_0000, 4 KiB | SPI 1 = INTID 33 |
 * | PL031 RTC | 0x0901_0000, 4 KiB | SPI 2 = INTID 34 |
 * | virtio-mmio transports (disks) | 0x0A00_0000 + 0x200·i, i < 32 | SPI 16 + i = INTID 48 + i |
 * | generic timer (EL1 physical, CNTP) | system registers | PPI 14 = INTID 30 |
 */
import {
  attachVirtioDisks,
  type BlockBackend,
  HostWorkQueue,
  MachineBus,
  Pl011,
  Pl031,
  ramDma,
  type VirtioMmioTransport,
  VirtualClock,
} from '@pecan/devices';
import type { DeviceInfo, InterruptController, PhysicalMemory, TimerInfo } from '@pecan/kernel';
import {
  VIRTIO_MMIO_SLOTS,
  VIRTIO_MMIO_STRIDE,
  VirtIntid,
  VirtMap,
  virtioMmioBase,
  virtioMmioIntid,
} from './memory-map';

/**
 * The generic timer's frequency (CNTFRQ_EL0): 62.5 MHz, what QEMU's `virt` reported for
 * its CPUs until version 9 (newer QEMU reports 1 GHz for new machine types).
 */
export const VIRT_TIMER_HZ = 62_500_000;
/** Virtual time 0 on the RTC, by default: 2026-01-01T00:00:00Z. */
export const VIRT_DEFAULT_RTC_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Options for the `virt` machine's devices. */
export interface VirtDeviceOptions {
  /**
   * Receives each byte the PL011 transmits. Without it the bytes are kept; read them
   * with `platform.uart.takeOutput()`.
   */
  readonly onSerialOutput?: (byte: number) => void;
  /** Disks behind the virtio-mmio transports, in slot order (at most 32). */
  readonly disks?: readonly BlockBackend[];
  /** The RTC's time at virtual time 0, in ms since the Unix epoch. */
  readonly rtcEpochMs?: number;
}

/** The `virt` machine's device models, for the host to feed input to and read output from. */
export interface VirtDevices {
  readonly uart: Pl011;
  readonly rtc: Pl031;
  /** The virtio-mmio transports in slot order, one per disk. */
  readonly virtio: readonly VirtioMmioTransport[];
}

/** What createArmPlatform plugs into its Platform. */
export interface VirtDeviceSet extends VirtDevices {
  readonly bus: MachineBus;
  readonly work: HostWorkQueue;
  readonly info: readonly DeviceInfo[];
  readonly timer: TimerInfo;
  connectClock(cycles: () => number): void;
}

/** Builds the `virt` machine's devices over `ram`, their lines wired to `ic`. */
export function createVirtDevices(
  ram: PhysicalMemory,
  ic: InterruptController,
  cpuHz: number,
  options: VirtDeviceOptions,
): VirtDeviceSet {
  const disks = options.disks ?? [];
  if (disks.length > VIRTIO_MMIO_SLOTS) {
    throw new RangeError(`createArmPlatform: at most ${VIRTIO_MMIO_SLOTS} disks, got ${disks.length}`);
  }
  const line = (intid: number) => ({ set: (level: boolean) => ic.setLine(intid, level) });
  const clock = new VirtualClock(options.rtcEpochMs ?? VIRT_DEFAULT_RTC_EPOCH_MS, cpuHz);
  const bus = new MachineBus();
  const work = new HostWorkQueue();
  const uart = new Pl011({
    irq: line(VirtIntid.UART),
    ...(options.onSerialOutput ? { onTransmit: options.onSerialOutput } : {}),
  });
  const rtc = new Pl031({ now: clock.now, irq: line(VirtIntid.RTC) });
  bus.addMmio(VirtMap.UART.base, uart);
  bus.addMmio(VirtMap.RTC.base, rtc);
  const info: DeviceInfo[] = [
    { name: 'pl011', mmio: VirtMap.UART, irq: VirtIntid.UART },
    { name: 'pl031', mmio: VirtMap.RTC, irq: VirtIntid.RTC },
  ];
  const virtio = attachVirtioDisks(bus, disks, {
    dma: ramDma(ram.buffer, ram.base, ram.size),
    work,
    base: virtioMmioBase,
    irq: (slot) => line(virtioMmioIntid(slot)),
  });
  virtio.forEach((_, slot) => {
    const mmio = { base: virtioMmioBase(slot), size: VIRTIO_MMIO_STRIDE };
    info.push({ name: 'virtio-mmio', mmio, irq: virtioMmioIntid(slot), virtioId: 2 });
  });
  return {
    uart,
    rtc,
    virtio,
    bus,
    work,
    info,
    timer: { name: 'generic-timer', frequencyHz: VIRT_TIMER_HZ, irq: VirtIntid.TIMER_PHYS },
    connectClock: (c) => clock.connect(c),
  };
}
