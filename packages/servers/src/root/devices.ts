/**
 * Devices as capabilities: how the root task hands a program one of the machine's
 * devices (`caps: { uart: { device: 'uart' } }`), in the role of L4Re's io server.
 *
 * The root task takes the device's registers from sigma0 once — I/O ports, or the MMIO
 * page(s) mapped into its own device window — and maps them into the program: ports
 * into its I/O space at the same numbers, MMIO at {@link DEVICE_WINDOW} + the physical
 * address. For a device with an interrupt line it creates an Irq from the program's
 * factory (so the program pays for it), binds the line to it through the Icu with the
 * line's trigger mode, and gives the program the Irq: the device's named capability.
 * The program attaches its own thread to the Irq and unmasks it after each interrupt.
 * What the program got is described in its environment page as a {@link DeviceAccess}.
 *
 * A disk also gets {@link DISK_DMA_PAGES} pages of DMA memory: RAM frames from sigma0
 * whose physical addresses the program is told, since a driver must give the device
 * physical addresses and a program's other memory comes from a pager that hides them.
 */
import {
  CapRights,
  capIndex,
  FactoryRef,
  FixedSlot,
  IcuRef,
  ioFpage,
  type KernelInterfacePage,
  type KipDevice,
  MemRights,
  memFpage,
  objFpage,
  TaskRef,
  type ThreadEnv,
  TriggerMode,
  type UserCode,
} from '@pecan/kernel';
import type { Sigma0Client } from '../sigma0/client';

/** How a program reaches a device it was given: registers, interrupt, DMA memory. */
export interface DeviceAccess {
  /** The device's name in the KIP's device table (`ns16550a`, `pl011`, `mc146818`, …). */
  readonly device: string;
  /** Its I/O ports, in the program's I/O space (x86). */
  readonly ports?: { readonly base: number; readonly count: number };
  /** Its registers: mapped uncached at `address`, which is `physical` on the bus. */
  readonly mmio?: { readonly address: number; readonly physical: number; readonly size: number };
  /**
   * Its interrupt: the capability index of an Irq bound to the device's `line`. Attach
   * to it (the S right is there) and unmask it after each interrupt.
   */
  readonly irq?: { readonly cap: number; readonly line: number };
  /** DMA memory for its driver: mapped read-write at `address`, `physical` on the bus. */
  readonly dma?: { readonly address: number; readonly physical: number; readonly size: number };
  /** For the UART: the console at the other end is a terminal (colour is welcome). */
  readonly tty?: boolean;
}

/** Where a program finds the MMIO registers of its devices: this + the physical address. */
export const DEVICE_WINDOW = 0x20_0000_0000;
/** Where a program finds the DMA memory of its disks. */
export const DMA_WINDOW = 0x28_0000_0000;
/** Pages of DMA memory given with each disk: one for the queue, one for data. */
export const DISK_DMA_PAGES = 2;
/** Where the root task keeps the device registers it took from sigma0. */
const ROOT_DEVICE_WINDOW = 0x50_0000_0000;
/** Where it keeps DMA frames on their way to a program. */
const ROOT_DMA_WINDOW = 0x58_0000_0000;
const PAGE = 4096;
const VIRTIO_BLOCK_DEVICE = 2;

/**
 * Devices of the ISA bus, whose interrupts are edge-triggered; the others (PrimeCell
 * SPIs on the GIC, virtio-mmio) are level-triggered.
 */
const EDGE_TRIGGERED = new Set(['ns16550a', 'mc146818']);

/**
 * The KIP's entry for a device name of a system description: `uart` (a 16550 or a
 * PL011), `rtc` (an MC146818 or a PL031) or `disk<N>` (the N-th virtio-mmio transport
 * with a block device behind it); undefined when the machine has none.
 */
export function kipDeviceFor(kip: KernelInterfacePage, name: string): KipDevice | undefined {
  if (name === 'uart') return kip.devices.find((d) => d.name === 'ns16550a' || d.name === 'pl011');
  if (name === 'rtc') return kip.devices.find((d) => d.name === 'mc146818' || d.name === 'pl031');
  const disk = /^disk(\d+)$/.exec(name);
  if (disk) return kip.devices.filter((d) => d.virtioId === VIRTIO_BLOCK_DEVICE)[Number(disk[1])];
  return undefined;
}

/** The smallest order ≥ 12 whose aligned block holds `[base, base + size)`. */
function mmioOrder(base: number, size: number): number {
  let order = 12;
  while (Math.floor(base / 2 ** order) !== Math.floor((base + size - 1) / 2 ** order)) order++;
  return order;
}

/**
 * The root task's side: takes devices from sigma0 (each register block once, however
 * many programs ask) and gives them to programs.
 */
export class DeviceBroker {
  /** Physical register block → its address in the root task (or the first port). */
  private readonly taken = new Map<string, number>();
  private dmaNext = ROOT_DMA_WINDOW;

  constructor(
    private readonly env: ThreadEnv,
    private readonly sigma0: Sigma0Client,
    private readonly kip: KernelInterfacePage,
    /** Whether the console's sink is a terminal (told to the UART's holder). */
    private readonly tty: boolean,
  ) {}

  /**
   * Gives device `name` to the program whose task and factory are at `task` and
   * `factory` (capability indices in the root task); its Irq goes to the program's
   * slot `slot` with `irqRights` (attaching and unmasking need S). Returns what the
   * program got, or why not.
   */
  *give(
    name: string,
    task: number,
    factory: number,
    slot: number,
    irqRights: number = CapRights.RWS,
  ): UserCode<DeviceAccess | string> {
    const d = kipDeviceFor(this.kip, name);
    if (!d) return `the machine has no ${name}`;
    const into = new TaskRef(this.env, task);
    const self = capIndex(FixedSlot.TASK);
    const access: { -readonly [K in keyof DeviceAccess]: DeviceAccess[K] } = { device: d.name };
    if (d.ports) {
      const order = Math.ceil(Math.log2(d.ports.count));
      const key = `io:${d.ports.base}`;
      if (!this.taken.has(key)) {
        const got = yield* this.sigma0.ports(d.ports.base, order);
        if (got < 0) return `sigma0 refused the ports of ${d.name} (${got})`;
        this.taken.set(key, d.ports.base);
      }
      const err = yield* into.map(self, ioFpage(d.ports.base, order), 0);
      if (err < 0) return `mapping the ports of ${d.name} failed (${err})`;
      access.ports = { base: d.ports.base, count: d.ports.count };
    }
    if (d.mmio) {
      const order = mmioOrder(d.mmio.base, d.mmio.size);
      const block = d.mmio.base - (d.mmio.base % 2 ** order);
      const key = `mmio:${block}`;
      const at = ROOT_DEVICE_WINDOW + block;
      if (!this.taken.has(key)) {
        const got = yield* this.sigma0.mmio(block, order, at);
        if (got < 0) return `sigma0 refused the registers of ${d.name} (${got})`;
        this.taken.set(key, at);
      }
      const err = yield* into.map(self, memFpage(at, order, MemRights.RW), DEVICE_WINDOW + block);
      if (err < 0) return `mapping the registers of ${d.name} failed (${err})`;
      access.mmio = { address: DEVICE_WINDOW + d.mmio.base, physical: d.mmio.base, size: d.mmio.size };
    }
    if (d.irq >= 0) {
      const irq = yield* this.irqFor(d, factory);
      if (typeof irq === 'string') return irq;
      const err = yield* into.map(self, objFpage(irq / PAGE, 0, irqRights), capIndex(slot));
      if (err < 0) return `giving the Irq of ${d.name} failed (${err})`;
      access.irq = { cap: capIndex(slot), line: d.irq };
    }
    if (d.virtioId === VIRTIO_BLOCK_DEVICE) {
      const dma = yield* this.dmaFor(into, DISK_DMA_PAGES);
      if (typeof dma === 'string') return dma;
      access.dma = dma;
    }
    if (name === 'uart' && this.tty) access.tty = true;
    return access;
  }

  /** An Irq from `factory`, bound to `d`'s line with the line's trigger mode. */
  private *irqFor(d: KipDevice, factory: number): UserCode<number | string> {
    const irq = this.env.caps.alloc();
    let err = yield* new FactoryRef(this.env, factory).createIrq(irq);
    if (err < 0) return `creating the Irq of ${d.name} failed (${err})`;
    const icu = new IcuRef(this.env, capIndex(FixedSlot.ICU));
    err = yield* icu.bind(d.irq, irq);
    if (err < 0) return `binding line ${d.irq} of ${d.name} through the Icu failed (${err})`;
    err = yield* icu.setMode(d.irq, EDGE_TRIGGERED.has(d.name) ? TriggerMode.EDGE : TriggerMode.LEVEL);
    if (err < 0) return `setting the trigger mode of line ${d.irq} failed (${err})`;
    return irq;
  }

  /** `pages` physically contiguous RAM pages from sigma0, mapped into `into`. */
  private *dmaFor(into: TaskRef, pages: number): UserCode<NonNullable<DeviceAccess['dma']> | string> {
    const order = Math.ceil(Math.log2(pages * PAGE));
    const at = this.dmaNext;
    this.dmaNext += 2 ** order;
    const physical = yield* this.sigma0.any(order, at);
    if (physical < 0) return `sigma0 has no DMA memory left (${physical})`;
    const address = DMA_WINDOW + (at - ROOT_DMA_WINDOW);
    const err = yield* into.map(capIndex(FixedSlot.TASK), memFpage(at, order, MemRights.RW), address);
    if (err < 0) return `mapping DMA memory failed (${err})`;
    return { address, physical, size: 2 ** order };
  }
}
