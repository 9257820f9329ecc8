/**
 * The glue a machine needs between a CPU and its device models: an address decoder that
 * routes register accesses to the device whose window or ports contain them, and a
 * queue of host-side work that the run loop can wait for. Both back ends build their
 * machines from these, so the decoding rules are the same on both.
 *
 * `MachineBus` has the shape of the kernel's `DeviceBus` and `HostWorkQueue` that of its
 * `HostEvents`, without this package depending on the kernel.
 */
import type { AccessWidth, DmaMemory, HostWork, IrqLine, MmioDevice, PortDevice } from './device';
import { type BlockBackend, VirtioBlk, VirtioMmioTransport } from './virtio';

interface Window<D> {
  readonly base: number;
  readonly end: number;
  readonly device: D;
}

/** Routes MMIO and I/O-port accesses to device models by address. */
export class MachineBus {
  private readonly mmio: Window<MmioDevice>[] = [];
  private readonly ports: Window<PortDevice>[] = [];

  /** Places `device`'s register window at physical `base`. Windows must not overlap. */
  addMmio(base: number, device: MmioDevice): void {
    const w = { base, end: base + device.size, device };
    if (this.mmio.some((o) => o.base < w.end && w.base < o.end)) {
      throw new RangeError(`MachineBus: ${device.name} at 0x${base.toString(16)} overlaps another device`);
    }
    this.mmio.push(w);
  }

  /** Places `device`'s ports at `base`. Port ranges must not overlap. */
  addPorts(base: number, device: PortDevice): void {
    const w = { base, end: base + device.portCount, device };
    if (this.ports.some((o) => o.base < w.end && w.base < o.end)) {
      throw new RangeError(
        `MachineBus: ${device.name} at port 0x${base.toString(16)} overlaps another device`,
      );
    }
    this.ports.push(w);
  }

  private static find<D>(list: readonly Window<D>[], addr: number, width: number): Window<D> | undefined {
    for (const w of list) if (addr >= w.base && addr + width <= w.end) return w;
    return undefined;
  }

  mmioRead(pa: number, width: AccessWidth): number | undefined {
    const w = MachineBus.find(this.mmio, pa, width);
    return w ? w.device.read(pa - w.base, width) : undefined;
  }

  mmioWrite(pa: number, width: AccessWidth, value: number): boolean {
    const w = MachineBus.find(this.mmio, pa, width);
    if (!w) return false;
    w.device.write(pa - w.base, width, value);
    return true;
  }

  portRead(port: number, width: AccessWidth): number | undefined {
    const w = MachineBus.find(this.ports, port, width);
    return w ? w.device.read(port - w.base, width) : undefined;
  }

  portWrite(port: number, width: AccessWidth, value: number): boolean {
    const w = MachineBus.find(this.ports, port, width);
    if (!w) return false;
    w.device.write(port - w.base, width, value);
    return true;
  }
}

/**
 * Host-side work in flight. Devices `track` their promises; the run loop reads
 * `pending` and awaits `settled()` when every thread is blocked. A rejected promise
 * counts as settled: the device has already turned the failure into an error status
 * for its driver.
 */
export class HostWorkQueue implements HostWork {
  private readonly inFlight = new Set<Promise<unknown>>();

  get pending(): number {
    return this.inFlight.size;
  }

  track(work: Promise<unknown>): void {
    const done = work.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(done);
    void done.then(() => this.inFlight.delete(done));
  }

  /** Resolves when some work in flight has completed (at once when there is none). */
  async settled(): Promise<void> {
    if (this.inFlight.size === 0) return;
    await Promise.race(this.inFlight);
    // Let the completions' own continuations (used-ring writes, interrupts) run first.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * A wall clock that follows a machine's virtual time: `epochMs` at virtual time 0, then
 * the cycles the kernel reports (through `connect`) at `cpuHz`. RTC models read it, so
 * the date a system sees is the same on every run.
 */
export class VirtualClock {
  private cycles: () => number = () => 0;

  constructor(
    private readonly epochMs: number,
    private readonly cpuHz: number,
  ) {}

  /** Milliseconds since the Unix epoch, now in virtual time. */
  readonly now = (): number => this.epochMs + Math.floor((this.cycles() * 1000) / this.cpuHz);

  /** Follows `cycles` from now on (the kernel's `connectClock` hands it over). */
  connect(cycles: () => number): void {
    this.cycles = cycles;
  }
}

/** Where {@link attachVirtioDisks} puts each transport. */
export interface VirtioDiskPlacement {
  readonly dma: DmaMemory;
  readonly work: HostWork;
  /** Physical base of transport `slot`'s register window. */
  readonly base: (slot: number) => number;
  /** The interrupt line of transport `slot`. */
  readonly irq: (slot: number) => IrqLine;
}

/** Places a virtio-blk device on a virtio-mmio transport per disk, slot by slot, on `bus`. */
export function attachVirtioDisks(
  bus: MachineBus,
  disks: readonly BlockBackend[],
  place: VirtioDiskPlacement,
): VirtioMmioTransport[] {
  return disks.map((backend, slot) => {
    const t = new VirtioMmioTransport({
      device: new VirtioBlk({ backend, readOnly: backend.readOnly === true }),
      irq: place.irq(slot),
      dma: place.dma,
      work: place.work,
    });
    bus.addMmio(place.base(slot), t);
    return t;
  });
}
