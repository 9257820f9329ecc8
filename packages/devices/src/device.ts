/**
 * What a device model needs from its machine, and what the machine needs from it.
 * Device models know nothing of the kernel or of an architecture: a back end places
 * them at its addresses (MMIO windows or x86 I/O ports), wires their interrupt lines to
 * its interrupt controller, and gives them DMA access to its RAM.
 *
 * Register accesses use the access width the CPU used (1, 2, 4 or 8 bytes) and the
 * offset inside the device's window or port range. Values are unsigned and at most
 * 2^53 − 1 (8-byte registers wider than that are read as two 4-byte halves, as drivers
 * on 32-bit buses do).
 */

/** Access width in bytes. */
export type AccessWidth = 1 | 2 | 4 | 8;

/** A device reached through memory-mapped registers. */
export interface MmioDevice {
  /** Short name for traces and the device list, e.g. `"pl011"`. */
  readonly name: string;
  /** Size of the register window in bytes. */
  readonly size: number;
  /** Reads the register at `offset`; a read with side effects performs them. */
  read(offset: number, width: AccessWidth): number;
  /** Writes `value` to the register at `offset`. */
  write(offset: number, width: AccessWidth, value: number): void;
}

/** A device reached through x86 I/O ports. */
export interface PortDevice {
  readonly name: string;
  /** Number of consecutive ports the device decodes. */
  readonly portCount: number;
  /** `in` from port `base + offset`. */
  read(offset: number, width: AccessWidth): number;
  /** `out` to port `base + offset`. */
  write(offset: number, width: AccessWidth, value: number): void;
}

/**
 * A device's interrupt output. Level-triggered devices hold it with `set(true)` until
 * the condition is cleared; edge-triggered ones pulse it.
 */
export interface IrqLine {
  set(level: boolean): void;
}

/** An interrupt line that goes nowhere (a device not wired to a controller). */
export const UNCONNECTED: IrqLine = { set() {} };

/**
 * Bus-master access to the machine's physical memory. Each call returns false, having
 * transferred nothing, when any byte of the range is not RAM (the device then reports
 * an error to its driver, as hardware does on a bus error).
 */
export interface DmaMemory {
  read(pa: number, dst: Uint8Array): boolean;
  write(pa: number, src: Uint8Array): boolean;
}

/**
 * Where a device's host-side work goes: a device that completes requests on the host
 * (a disk backed by a file) hands the promise to `track`, and the machine's run loop
 * waits for it the way a CPU halts until an interrupt.
 */
export interface HostWork {
  track(work: Promise<unknown>): void;
}

/** A {@link DmaMemory} over a RAM buffer placed at physical `base`. */
export function ramDma(buffer: ArrayBuffer, base: number, size: number): DmaMemory {
  const bytes = new Uint8Array(buffer, 0, size);
  const inside = (pa: number, n: number): boolean =>
    Number.isSafeInteger(pa) && pa >= base && pa + n <= base + size;
  return {
    read(pa, dst) {
      if (!inside(pa, dst.length)) return false;
      dst.set(bytes.subarray(pa - base, pa - base + dst.length));
      return true;
    },
    write(pa, src) {
      if (!inside(pa, src.length)) return false;
      bytes.set(src, pa - base);
      return true;
    },
  };
}
