/**
 * The PC's devices, where QEMU puts them (checked against hw/i386/pc.c, hw/char/serial-isa.c,
 * hw/rtc/mc146818rtc.c and hw/i386/microvm.c):
 *
 * | device | where | interrupt |
 * | --- | --- | --- |
 * | COM1, NS16550A UART | I/O ports 0x3F8–0x3FF | ISA IRQ 4 = IOAPIC GSI 4 |
 * | CMOS RTC (MC146818) | I/O ports 0x70–0x71 | ISA IRQ 8 = GSI 8 |
 * | virtio-mmio transports (disks) | 0xFEB0_0000 + 0x200·i, i < 8 | GSI 16 + i |
 * | LAPIC timer | in the LAPIC | vector 0xEC |
 *
 * The `pc` machine reaches virtio over PCI; Pecan has no PCI, so the transports sit where
 * QEMU's `microvm` (the PC without PCI) places its virtio-mmio window, on the IOAPIC pins
 * above the ISA range so that they never share a line with a legacy device.
 */
import {
  attachVirtioDisks,
  type BlockBackend,
  CMOS_IRQ,
  CMOS_PORT,
  CmosRtc,
  COM1_IRQ,
  COM1_PORT,
  HostWorkQueue,
  MachineBus,
  ramDma,
  Uart16550,
  type VirtioMmioTransport,
  VirtualClock,
} from '@pecan/devices';
import type { DeviceInfo, InterruptController, PhysicalMemory, TimerInfo } from '@pecan/kernel';
import { PC_VIRTIO_MMIO_BASE, PC_VIRTIO_MMIO_SLOTS, PC_VIRTIO_MMIO_STRIDE } from './memory-map';

/** IOAPIC pin of transport 0; transport i uses pin 16 + i. */
export const PC_VIRTIO_GSI_BASE = 16;
/** The LAPIC timer's interrupt vector (Linux's LOCAL_TIMER_VECTOR). */
export const PC_TIMER_VECTOR = 0xec;
/** The LAPIC timer's counting frequency: 1 GHz, as QEMU's APIC model counts. */
export const PC_TIMER_HZ = 1_000_000_000;
/** Virtual time 0 on the RTC, by default: 2026-01-01T00:00:00Z. */
export const PC_DEFAULT_RTC_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Options for the PC's devices. */
export interface PcDeviceOptions {
  /**
   * Receives each byte COM1 transmits. Without it the bytes are kept; read them with
   * `platform.uart.takeOutput()`.
   */
  readonly onSerialOutput?: (byte: number) => void;
  /** Disks behind the virtio-mmio transports, in slot order (at most 8). */
  readonly disks?: readonly BlockBackend[];
  /** The RTC's time at virtual time 0, in ms since the Unix epoch. */
  readonly rtcEpochMs?: number;
}

/** The PC's device models, for the host to feed input to and read output from. */
export interface PcDevices {
  readonly uart: Uart16550;
  readonly rtc: CmosRtc;
  /** The virtio-mmio transports in slot order, one per disk. */
  readonly virtio: readonly VirtioMmioTransport[];
}

/** What createX86Platform plugs into its Platform. */
export interface PcDeviceSet extends PcDevices {
  readonly bus: MachineBus;
  readonly work: HostWorkQueue;
  readonly info: readonly DeviceInfo[];
  readonly timer: TimerInfo;
  connectClock(cycles: () => number): void;
}

/** Builds the PC's devices over `ram`, their lines wired to `ic`. */
export function createPcDevices(
  ram: PhysicalMemory,
  ic: InterruptController,
  cpuHz: number,
  options: PcDeviceOptions,
): PcDeviceSet {
  const disks = options.disks ?? [];
  if (disks.length > PC_VIRTIO_MMIO_SLOTS) {
    throw new RangeError(`createX86Platform: at most ${PC_VIRTIO_MMIO_SLOTS} disks, got ${disks.length}`);
  }
  const line = (gsi: number) => ({ set: (level: boolean) => ic.setLine(gsi, level) });
  const clock = new VirtualClock(options.rtcEpochMs ?? PC_DEFAULT_RTC_EPOCH_MS, cpuHz);
  const bus = new MachineBus();
  const work = new HostWorkQueue();
  const uart = new Uart16550({
    irq: line(COM1_IRQ),
    ...(options.onSerialOutput ? { onTransmit: options.onSerialOutput } : {}),
  });
  const rtc = new CmosRtc({ now: clock.now, irq: line(CMOS_IRQ) });
  bus.addPorts(COM1_PORT, uart);
  bus.addPorts(CMOS_PORT, rtc);
  const info: DeviceInfo[] = [
    { name: 'ns16550a', ports: { base: COM1_PORT, count: uart.portCount }, irq: COM1_IRQ },
    { name: 'mc146818', ports: { base: CMOS_PORT, count: rtc.portCount }, irq: CMOS_IRQ },
  ];
  const base = (slot: number) => PC_VIRTIO_MMIO_BASE + slot * PC_VIRTIO_MMIO_STRIDE;
  const virtio = attachVirtioDisks(bus, disks, {
    dma: ramDma(ram.buffer, ram.base, ram.size),
    work,
    base,
    irq: (slot) => line(PC_VIRTIO_GSI_BASE + slot),
  });
  virtio.forEach((_, slot) => {
    const irq = PC_VIRTIO_GSI_BASE + slot;
    info.push({
      name: 'virtio-mmio',
      mmio: { base: base(slot), size: PC_VIRTIO_MMIO_STRIDE },
      irq,
      virtioId: 2,
    });
  });
  return {
    uart,
    rtc,
    virtio,
    bus,
    work,
    info,
    timer: { name: 'lapic-timer', frequencyHz: PC_TIMER_HZ, irq: PC_TIMER_VECTOR },
    connectClock: (c) => clock.connect(c),
  };
}
