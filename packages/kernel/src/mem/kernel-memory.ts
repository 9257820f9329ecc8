/**
 * The kernel's side of the machine's memory: the RAM it keeps for itself, the region it
 * reserves at the top of every address space (KIP and UTCBs), the Kernel Interface
 * Page, and the root mappings of all memory that sigma0 receives at boot.
 *
 * Layout of the reserved region, at the top of user space:
 *
 * ```
 * reserved.base             KIP (one page, read-only)
 * reserved.base + 64 KiB    UTCB area, up to the top of user space
 * ```
 */
import {
  encodeDeviceName,
  KIP_DEVICE_WORDS,
  KIP_MAGIC,
  KIP_MAX_DESCRIPTORS,
  KIP_MAX_DEVICES,
  KIP_VERSION,
  KipMemType,
  KipWord,
} from '../abi/kip';
import type { UtcbLayout } from '../abi/utcb';
import { MemAccess, MemType, type PageTableFormat, type PhysicalMemory } from '../platform/page-table';
import type { DeviceInfo, MemoryRegion, PlatformMemory, TimerInfo } from '../platform/platform';
import { AddressSpace, type MemoryStatus, PageMapping, type ReservedRegion } from './address-space';
import { ChargedFrameAllocator, FRAME_SIZE, FramePool, type QuotaAccount } from './frame-pool';
import { UtcbArea } from './utcb-area';

/** Size of the kernel-reserved region at the top of every address space. */
export const RESERVED_REGION_SIZE = 16 * 1024 * 1024;
/** Offset of the UTCB area inside the reserved region. */
export const UTCB_AREA_OFFSET = 64 * 1024;

/** What the kernel needs to know to lay out memory. */
export interface KernelMemoryConfig {
  /** RAM the kernel keeps for page tables and UTCBs, in bytes (default: RAM / 8). */
  readonly kernelRam?: number;
  readonly cpus: number;
  readonly cpuHz: number;
  readonly ioPorts: number;
  readonly utcbLayout: UtcbLayout;
  readonly devices: readonly DeviceInfo[];
  readonly timer: TimerInfo | null;
}

/** The largest power of two `p` such that every address below `p` may be a user address. */
function userTop(format: PageTableFormat): number {
  for (let bits = format.vaBits; bits > 20; bits--) {
    if (format.isUserAddress(2 ** bits - FRAME_SIZE)) return 2 ** bits;
  }
  throw new Error(`page-table format ${format.name} has no user address space`);
}

export class KernelMemory {
  readonly ram: PhysicalMemory;
  readonly format: PageTableFormat;
  readonly pool: FramePool;
  /** The physical memory map the KIP reports (the kernel's RAM as reserved). */
  readonly regions: readonly MemoryRegion[];
  /** One past the highest user address. */
  readonly userTop: number;
  readonly reserved: ReservedRegion;
  readonly kipAddress: number;
  readonly kipFrame: number;
  readonly utcbArea: number;
  /** Accessed/dirty bits of removed entries (see AddressSpace). */
  readonly status: MemoryStatus = { bits: 0 };
  private readonly utcbLayout: UtcbLayout;

  constructor(pm: PlatformMemory, config: KernelMemoryConfig) {
    this.ram = pm.ram;
    this.format = pm.pageTables;
    this.utcbLayout = config.utcbLayout;
    const ramRegions = pm.regions.filter((r) => r.kind === 'ram');
    const top = ramRegions.at(-1);
    if (!top) throw new Error('Kernel: the platform reports no RAM region');
    const want = config.kernelRam ?? Math.max(1 << 20, Math.floor(pm.ram.size / 8 / FRAME_SIZE) * FRAME_SIZE);
    if (
      !Number.isSafeInteger(want) ||
      want < 16 * FRAME_SIZE ||
      want % FRAME_SIZE !== 0 ||
      want >= top.size
    ) {
      throw new RangeError(
        `Kernel: kernelRam must be a multiple of 4 KiB, at least 64 KiB and smaller than the top RAM region (${top.size} bytes), got ${want}`,
      );
    }
    const poolBase = top.base + top.size - want;
    this.pool = new FramePool(pm.ram, poolBase, want);
    this.regions = [
      ...pm.regions.filter((r) => r !== top),
      { ...top, size: top.size - want },
      { base: poolBase, size: want, kind: 'reserved' as const, name: 'kernel memory' },
    ].sort((a, b) => a.base - b.base);
    this.userTop = userTop(this.format);
    this.reserved = { base: this.userTop - RESERVED_REGION_SIZE, size: RESERVED_REGION_SIZE };
    this.kipAddress = this.reserved.base;
    this.utcbArea = this.reserved.base + UTCB_AREA_OFFSET;
    const kip = this.pool.allocate();
    if (kip === null) throw new Error('Kernel: no frame for the KIP');
    this.kipFrame = kip;
    this.writeKip(config);
  }

  private writeKip(config: KernelMemoryConfig): void {
    const view = new DataView(this.ram.buffer, this.kipFrame - this.ram.base, FRAME_SIZE);
    const set = (i: number, v: number): void => {
      view.setUint32(i * 8, v % 2 ** 32, true);
      view.setUint32(i * 8 + 4, Math.floor(v / 2 ** 32), true);
    };
    let pageSizes = 0;
    for (const o of this.format.pageOrders) pageSizes += 2 ** o;
    const descs = this.regions.slice(0, KIP_MAX_DESCRIPTORS);
    set(KipWord.MAGIC, KIP_MAGIC);
    set(KipWord.VERSION, KIP_VERSION);
    set(KipWord.MEM_DESCS, descs.length);
    set(KipWord.CPUS, config.cpus);
    set(KipWord.CPU_HZ, config.cpuHz);
    set(KipWord.PAGE_SIZES, pageSizes);
    set(KipWord.RESERVED_BASE, this.reserved.base);
    set(KipWord.RESERVED_SIZE, this.reserved.size);
    set(KipWord.IO_PORTS, config.ioPorts);
    set(KipWord.UTCB_AREA, this.utcbArea);
    set(KipWord.UTCB_SIZE, config.utcbLayout.sizeWords * 8);
    set(KipWord.TIMER_HZ, config.timer?.frequencyHz ?? 0);
    set(KipWord.TIMER_IRQ, config.timer?.irq ?? 0);
    const devices = config.devices.slice(0, KIP_MAX_DEVICES);
    set(KipWord.DEVICES, devices.length);
    devices.forEach((d, j) => {
      const at = KipWord.DEVICE_TABLE + KIP_DEVICE_WORDS * j;
      const name = encodeDeviceName(d.name);
      for (let i = 0; i < name.length; i++) set(at + i, name[i]!);
      set(at + 4, d.mmio?.base ?? 0);
      set(at + 5, d.mmio?.size ?? 0);
      set(at + 6, d.ports?.base ?? 0);
      set(at + 7, d.ports?.count ?? 0);
      set(at + 8, d.irq + 1);
      set(at + 9, d.virtioId ?? 0);
    });
    descs.forEach((r, i) => {
      const at = KipWord.DESCRIPTORS + 3 * i;
      set(at, r.base);
      set(at + 1, r.size);
      set(
        at + 2,
        r.kind === 'ram'
          ? KipMemType.CONVENTIONAL
          : r.kind === 'mmio'
            ? KipMemType.DEDICATED
            : KipMemType.RESERVED,
      );
    });
  }

  /** Reads word `i` of the KIP (host side). */
  kipWord(i: number): number {
    const view = new DataView(this.ram.buffer, this.kipFrame - this.ram.base, FRAME_SIZE);
    return view.getUint32(i * 8, true) + view.getUint32(i * 8 + 4, true) * 2 ** 32;
  }

  /**
   * A new address space with the KIP mapped, and its UTCB area; null when `quota`
   * cannot pay for the first page tables (ENOMEM).
   */
  createSpace(quota: QuotaAccount): { space: AddressSpace; utcbs: UtcbArea } | null {
    const alloc = new ChargedFrameAllocator(this.pool, quota);
    const space = AddressSpace.create(this.format, alloc, this.ram, this.reserved, this.status);
    if (!space) return null;
    if (!this.format.map(space.root, this.kipAddress, this.kipFrame, 12, MemAccess.READ, alloc)) {
      space.destroy();
      return null;
    }
    const utcbs = new UtcbArea(space, this.utcbArea, this.userTop - this.utcbArea, this.utcbLayout);
    return { space, utcbs };
  }

  /** True when `[pa, pa + size)` is RAM (normal memory). */
  isRam(pa: number, size: number): boolean {
    return pa >= this.ram.base && pa + size <= this.ram.base + this.ram.size;
  }

  /**
   * Gives `space` the root mappings of all memory, one to one (virtual = physical):
   * every RAM region except the kernel's, read-write-execute, and every MMIO region as
   * device memory, read-write, in the largest pages alignment allows. This is sigma0's
   * address space at boot. Returns false when its page tables cannot be paid for.
   */
  mapAllMemory(space: AddressSpace): boolean {
    for (const r of this.regions) {
      if (r.kind === 'reserved') continue;
      const device = r.kind === 'mmio';
      const rights = device
        ? MemAccess.READ | MemAccess.WRITE
        : MemAccess.READ | MemAccess.WRITE | MemAccess.EXEC;
      const memType = device ? MemType.DEVICE : MemType.NORMAL;
      const end = r.base + r.size;
      for (let pa = r.base; pa < end; ) {
        let order = space.pageOrderAtMost(60);
        while (order > 12 && (pa % 2 ** order !== 0 || pa + 2 ** order > end))
          order = space.pageOrderAtMost(order - 1);
        if (!space.mappable(pa, 2 ** order)) break;
        if (!space.install(new PageMapping(space, pa, rights, pa, order, memType))) return false;
        pa += 2 ** order;
      }
    }
    return true;
  }
}
