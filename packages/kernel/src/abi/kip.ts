/**
 * The Kernel Interface Page: one read-only page that the kernel maps into every task,
 * from which user code (sigma0 first) learns the machine: its memory map, CPUs, clock,
 * page sizes and where the kernel put the UTCBs. It plays the role of Fiasco's KIP and
 * of seL4's boot info.
 *
 * Layout: 64-bit little-endian words.
 *
 * | word | field |
 * | --- | --- |
 * | 0 | magic `0x4BE6344C` ("L4µK" as bytes, as in Fiasco) |
 * | 1 | Pecan KIP version (1) |
 * | 2 | number of memory descriptors |
 * | 3 | number of CPUs |
 * | 4 | CPU clock in Hz |
 * | 5 | page sizes: bit n set when 2^n-byte pages can be mapped |
 * | 6 | first virtual address of the kernel-reserved region (KIP, UTCBs) |
 * | 7 | size of that region |
 * | 8 | number of x86 I/O ports (0 when the machine has none) |
 * | 9 | first virtual address of the UTCB area |
 * | 10 | bytes per UTCB |
 * | 11 | timer frequency in Hz (0: none) |
 * | 12 | timer interrupt (LAPIC vector / PPI INTID) |
 * | 13 | number of device descriptors |
 * | 16 + 3i … | memory descriptor i: physical base, size, type ({@link KipMemType}) |
 * | 256 + 10j … | device descriptor j: name (4 words of 4 ASCII bytes, NUL-padded), MMIO base, MMIO size, first I/O port, port count, interrupt line + 1 (0: none), virtio device id |
 */

/** The KIP's magic word. */
export const KIP_MAGIC = 0x4be6344c;
/** The version of the layout above. */
export const KIP_VERSION = 1;

/** Word indices of the KIP's fixed fields. */
export const KipWord = {
  MAGIC: 0,
  VERSION: 1,
  MEM_DESCS: 2,
  CPUS: 3,
  CPU_HZ: 4,
  PAGE_SIZES: 5,
  RESERVED_BASE: 6,
  RESERVED_SIZE: 7,
  IO_PORTS: 8,
  UTCB_AREA: 9,
  UTCB_SIZE: 10,
  TIMER_HZ: 11,
  TIMER_IRQ: 12,
  DEVICES: 13,
  DESCRIPTORS: 16,
  DEVICE_TABLE: 256,
} as const;

/** Words per device descriptor. */
export const KIP_DEVICE_WORDS = 10;
/** Largest number of device descriptors a KIP page holds. */
export const KIP_MAX_DEVICES = Math.floor((512 - KipWord.DEVICE_TABLE) / KIP_DEVICE_WORDS);

/** Memory descriptor types, with Fiasco's numbers. */
export const KipMemType = {
  /** RAM that sigma0 owns and hands out. */
  CONVENTIONAL: 1,
  /** Not usable: firmware holes, and the RAM the kernel keeps for itself. */
  RESERVED: 2,
  /** Device registers (MMIO) that sigma0 hands out as device memory. */
  DEDICATED: 3,
} as const;
export type KipMemType = (typeof KipMemType)[keyof typeof KipMemType];

/** Largest number of memory descriptors a KIP page holds. */
export const KIP_MAX_DESCRIPTORS = Math.floor((KipWord.DEVICE_TABLE - KipWord.DESCRIPTORS) / 3);

/** A decoded device descriptor. */
export interface KipDevice {
  readonly name: string;
  readonly mmio: { readonly base: number; readonly size: number } | null;
  readonly ports: { readonly base: number; readonly count: number } | null;
  /** Interrupt line (GSI or INTID), or −1. */
  readonly irq: number;
  /** virtio device id behind a virtio-mmio transport (0 when empty or not virtio). */
  readonly virtioId: number;
}

/** A decoded memory descriptor. */
export interface KipMemoryDescriptor {
  readonly base: number;
  readonly size: number;
  readonly type: KipMemType;
}

/** The decoded KIP. */
export interface KernelInterfacePage {
  readonly version: number;
  readonly cpus: number;
  readonly cpuHz: number;
  /** log2 of each page size the kernel can map, ascending. */
  readonly pageOrders: readonly number[];
  readonly reservedBase: number;
  readonly reservedSize: number;
  readonly ioPorts: number;
  readonly utcbArea: number;
  readonly utcbSize: number;
  readonly timerHz: number;
  readonly timerIrq: number;
  readonly memory: readonly KipMemoryDescriptor[];
  readonly devices: readonly KipDevice[];
}

/** Words of a device name: 4 ASCII characters in the low 32 bits of each. */
const NAME_WORDS = 4;

/** The 4 words of a device name (at most 16 ASCII characters, NUL-padded). */
export function encodeDeviceName(name: string): number[] {
  const words = [0, 0, 0, 0];
  for (let i = 0; i < 4 * NAME_WORDS && i < name.length; i++) {
    words[i >> 2] = words[i >> 2]! + (name.charCodeAt(i) & 0x7f) * 2 ** (8 * (i & 3));
  }
  return words;
}

function decodeDeviceName(word: (i: number) => number, at: number): string {
  let name = '';
  for (let i = 0; i < 4 * NAME_WORDS; i++) {
    const c = Math.floor(word(at + (i >> 2)) / 2 ** (8 * (i & 3))) & 0xff;
    if (c === 0) break;
    name += String.fromCharCode(c);
  }
  return name;
}

/**
 * Decodes a KIP from a word reader (host code passes a view of the page; user code
 * reads words through `env.mem`). Throws a RangeError when the magic is wrong.
 */
export function decodeKip(word: (i: number) => number): KernelInterfacePage {
  if (word(KipWord.MAGIC) !== KIP_MAGIC) {
    throw new RangeError(`decodeKip: no KIP here (magic 0x${word(KipWord.MAGIC).toString(16)})`);
  }
  const n = word(KipWord.MEM_DESCS);
  const memory: KipMemoryDescriptor[] = [];
  for (let i = 0; i < n && i < KIP_MAX_DESCRIPTORS; i++) {
    const at = KipWord.DESCRIPTORS + 3 * i;
    memory.push({ base: word(at), size: word(at + 1), type: word(at + 2) as KipMemType });
  }
  const devices: KipDevice[] = [];
  const nd = word(KipWord.DEVICES);
  for (let j = 0; j < nd && j < KIP_MAX_DEVICES; j++) {
    const at = KipWord.DEVICE_TABLE + KIP_DEVICE_WORDS * j;
    const mmioSize = word(at + 5);
    const portCount = word(at + 7);
    devices.push({
      name: decodeDeviceName(word, at),
      mmio: mmioSize > 0 ? { base: word(at + 4), size: mmioSize } : null,
      ports: portCount > 0 ? { base: word(at + 6), count: portCount } : null,
      irq: word(at + 8) - 1,
      virtioId: word(at + 9),
    });
  }
  const sizes = word(KipWord.PAGE_SIZES);
  const pageOrders: number[] = [];
  for (let b = 0; b < 53; b++) if (Math.floor(sizes / 2 ** b) % 2 === 1) pageOrders.push(b);
  return {
    version: word(KipWord.VERSION),
    cpus: word(KipWord.CPUS),
    cpuHz: word(KipWord.CPU_HZ),
    pageOrders,
    reservedBase: word(KipWord.RESERVED_BASE),
    reservedSize: word(KipWord.RESERVED_SIZE),
    ioPorts: word(KipWord.IO_PORTS),
    utcbArea: word(KipWord.UTCB_AREA),
    utcbSize: word(KipWord.UTCB_SIZE),
    timerHz: word(KipWord.TIMER_HZ),
    timerIrq: word(KipWord.TIMER_IRQ),
    memory,
    devices,
  };
}
