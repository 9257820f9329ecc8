/**
 * Split virtqueues (virtio 1.2 §2.7), seen from the device through bus-master DMA.
 *
 * A split virtqueue is three areas of guest memory that the driver places and announces
 * through the transport: the Descriptor Table (16-byte descriptors, 16-byte aligned), the
 * Available Ring (driver → device: `flags`, `idx`, `ring[size]`, 2-byte aligned) and the
 * Used Ring (device → driver: `flags`, `idx`, `ring[size]` of 8-byte `{id, len}`
 * elements, 4-byte aligned). Every field is little-endian.
 *
 * Nothing here throws on guest data: a ring or descriptor that cannot be read, an index
 * out of range, a loop, a forbidden flag combination or a zero-length buffer is reported
 * as a value ({@link PopResult}, {@link DescriptorChain.error}) for the device model to
 * turn into an error status or DEVICE_NEEDS_RESET. VIRTIO_F_EVENT_IDX is not offered by
 * the devices here, so `used_event`/`avail_event` are never read or written.
 */
import type { DmaMemory } from '../device';

/** Descriptor continues through its `next` field. */
export const VIRTQ_DESC_F_NEXT = 1;
/** Buffer is device-writable (otherwise device-readable). */
export const VIRTQ_DESC_F_WRITE = 2;
/** Buffer holds a table of indirect descriptors (needs VIRTIO_F_INDIRECT_DESC). */
export const VIRTQ_DESC_F_INDIRECT = 4;
/** Available-ring flag: the driver does not want used-buffer notifications. */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** Largest queue size a split virtqueue can have. */
export const VIRTQ_MAX_SIZE = 32768;

/** Bytes of one descriptor. */
const DESC_SIZE = 16;
/** The 2⁵³ boundary as a 32-bit high word: addresses at or above it are not safe integers. */
const SAFE_HIGH_LIMIT = 0x20_0000;

/** Where the driver put a queue, as written to the transport's queue registers. */
export interface VirtqueueLayout {
  /** Queue size (number of descriptors and ring entries). */
  readonly size: number;
  /** Guest-physical address of the Descriptor Table (Descriptor Area). */
  readonly desc: number;
  /** Guest-physical address of the Available Ring (Driver Area). */
  readonly avail: number;
  /** Guest-physical address of the Used Ring (Device Area). */
  readonly used: number;
}

/**
 * Why a layout cannot be used, or `undefined` when it can: the size must be a power of
 * two no larger than `maxSize`, and each area must be aligned as §2.7 requires and fit
 * below 2⁵³.
 */
export function layoutProblem(layout: VirtqueueLayout, maxSize: number): string | undefined {
  const { size, desc, avail, used } = layout;
  if (!Number.isInteger(size) || size < 1 || size > Math.min(maxSize, VIRTQ_MAX_SIZE)) {
    return `queue size ${size} outside 1..${Math.min(maxSize, VIRTQ_MAX_SIZE)}`;
  }
  if ((size & (size - 1)) !== 0) return `queue size ${size} is not a power of two`;
  const areas: [string, number, number, number][] = [
    ['descriptor table', desc, 16, DESC_SIZE * size],
    ['available ring', avail, 2, 6 + 2 * size],
    ['used ring', used, 4, 6 + 8 * size],
  ];
  for (const [what, pa, align, bytes] of areas) {
    if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(pa + bytes)) {
      return `${what} address ${pa} is not addressable`;
    }
    if (pa % align !== 0) return `${what} at 0x${pa.toString(16)} is not ${align}-byte aligned`;
  }
  return undefined;
}

/** One buffer of a descriptor chain. */
export interface Segment {
  /** Guest-physical address (may lie outside RAM; the DMA access then fails). */
  readonly addr: number;
  /** Length in bytes. */
  readonly len: number;
  /** Device-writable (`VIRTQ_DESC_F_WRITE`), else device-readable. */
  readonly writable: boolean;
}

/** The buffers of one descriptor chain, in chain order (indirect tables expanded). */
export interface DescriptorChain {
  /** Head descriptor index, as found in the available ring: the `id` for the used ring. */
  readonly head: number;
  readonly segments: readonly Segment[];
  /** Why the chain is malformed, or `undefined` when it is well formed. */
  readonly error: string | undefined;
  /**
   * True when the walk reached the chain's final descriptor, so that `segments` is the
   * whole chain even if `error` is set (a zero-length buffer, a readable buffer after a
   * writable one, an unaddressable buffer). False when the end is unknown: an index out
   * of range, a loop, an unreadable descriptor, a bad indirect descriptor.
   */
  readonly complete: boolean;
  /** Total bytes of the device-readable segments. */
  readonly readableLength: number;
  /** Total bytes of the device-writable segments. */
  readonly writableLength: number;
}

/** Options for {@link SplitVirtqueue.walk}. */
export interface WalkOptions {
  /** VIRTIO_F_INDIRECT_DESC was negotiated; otherwise an indirect descriptor is an error. */
  readonly indirect: boolean;
  /** Most buffers a chain may have (the device's "reasonable limit", §2.7.4.1). */
  readonly maxSegments: number;
}

/** What {@link SplitVirtqueue.pop} found in the available ring. */
export type PopResult =
  | { readonly kind: 'empty' }
  | { readonly kind: 'head'; readonly head: number }
  | { readonly kind: 'error'; readonly reason: string };

/**
 * The device side of one split virtqueue, live from the moment the driver writes
 * QueueReady = 1 until it writes 0 or resets the device ({@link detach}). It keeps the
 * device's two private counters: the next available-ring entry to consume and the used
 * `idx` it publishes; both start at 0 as the driver zeroes the rings.
 */
export class SplitVirtqueue {
  readonly index: number;
  readonly size: number;
  readonly descAddr: number;
  readonly availAddr: number;
  readonly usedAddr: number;
  private readonly dma: DmaMemory;
  private lastAvail = 0;
  private usedIdx = 0;
  private live = true;

  /** `layout` must have passed {@link layoutProblem}. */
  constructor(dma: DmaMemory, index: number, layout: VirtqueueLayout) {
    this.dma = dma;
    this.index = index;
    this.size = layout.size;
    this.descAddr = layout.desc;
    this.availAddr = layout.avail;
    this.usedAddr = layout.used;
  }

  /** False once the queue was disabled or the device reset: the device must not touch it. */
  get active(): boolean {
    return this.live;
  }

  /** Number of used elements published so far, modulo 2¹⁶. */
  get usedIndex(): number {
    return this.usedIdx;
  }

  /** Marks the queue dead; later accesses through this object do nothing. */
  detach(): void {
    this.live = false;
  }

  /**
   * Takes the next head from the available ring. A driver that moved `idx` more than
   * `size` entries ahead of what the device consumed, or rings that cannot be read, are
   * errors.
   */
  pop(): PopResult {
    if (!this.live) return { kind: 'empty' };
    const idx = readU16(this.dma, this.availAddr + 2);
    if (idx === undefined) return { kind: 'error', reason: 'available ring is not in RAM' };
    const pending = (idx - this.lastAvail) & 0xffff;
    if (pending === 0) return { kind: 'empty' };
    if (pending > this.size) {
      return {
        kind: 'error',
        reason: `available idx moved from ${this.lastAvail} to ${idx} (queue size ${this.size})`,
      };
    }
    const head = readU16(this.dma, this.availAddr + 4 + 2 * (this.lastAvail % this.size));
    if (head === undefined) return { kind: 'error', reason: 'available ring is not in RAM' };
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    return { kind: 'head', head };
  }

  /**
   * Follows the chain starting at `head` (VIRTQ_DESC_F_NEXT, and one indirect table when
   * allowed). Malformed cases are reported in the result, never thrown.
   */
  walk(head: number, options: WalkOptions): DescriptorChain {
    const segments: Segment[] = [];
    let error: string | undefined;
    let readable = 0;
    let writable = 0;
    const result = (complete: boolean, reason?: string): DescriptorChain => ({
      head,
      segments,
      error: reason ?? error,
      complete,
      readableLength: readable,
      writableLength: writable,
    });

    let table = this.descAddr;
    let count = this.size;
    let inIndirect = false;
    let steps = 0;
    let i = head;
    const raw = new Uint8Array(DESC_SIZE);
    const view = new DataView(raw.buffer);
    for (;;) {
      if (i >= count) {
        return result(false, `descriptor index ${i} out of range (table of ${count})`);
      }
      if (++steps > count) return result(false, `descriptor chain loops (longer than ${count})`);
      if (!dmaRead(this.dma, table + DESC_SIZE * i, raw)) {
        return result(false, `descriptor ${i} is not in RAM`);
      }
      const low = view.getUint32(0, true);
      const high = view.getUint32(4, true);
      const len = view.getUint32(8, true);
      const flags = view.getUint16(12, true);
      const next = view.getUint16(14, true);

      if (flags & VIRTQ_DESC_F_INDIRECT) {
        if (!options.indirect)
          return result(false, 'indirect descriptor, VIRTIO_F_INDIRECT_DESC not negotiated');
        if (inIndirect) return result(false, 'indirect descriptor inside an indirect table');
        if (flags & VIRTQ_DESC_F_NEXT) return result(false, 'indirect descriptor with VIRTQ_DESC_F_NEXT');
        if (len === 0 || len % DESC_SIZE !== 0) return result(false, `indirect table of ${len} bytes`);
        if (high >= SAFE_HIGH_LIMIT) return result(false, 'indirect table beyond 2^53');
        table = high * 2 ** 32 + low;
        count = len / DESC_SIZE;
        inIndirect = true;
        steps = 0;
        i = 0;
        continue;
      }

      const isWritable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (len === 0) error ??= `descriptor ${i} has length 0`;
      if (!isWritable && writable > 0)
        error ??= `device-readable descriptor ${i} after a device-writable one`;
      if (high >= SAFE_HIGH_LIMIT) error ??= `descriptor ${i} address beyond 2^53`;
      segments.push({ addr: high * 2 ** 32 + low, len, writable: isWritable });
      if (isWritable) writable += len;
      else readable += len;
      if (readable + writable > 2 ** 32) error ??= 'chain longer than 2^32 bytes';
      if (segments.length > options.maxSegments) {
        return result(false, `chain has more than ${options.maxSegments} descriptors`);
      }
      if (!(flags & VIRTQ_DESC_F_NEXT)) return result(true);
      i = next;
    }
  }

  /**
   * Returns a chain to the driver: writes the used element `{head, len}`, then the new
   * used `idx` (the element must be visible first). False when the used ring is not in
   * RAM or the queue is no longer live.
   */
  push(head: number, len: number): boolean {
    if (!this.live) return false;
    const element = new Uint8Array(8);
    const view = new DataView(element.buffer);
    view.setUint32(0, head, true);
    view.setUint32(4, len, true);
    if (!dmaWrite(this.dma, this.usedAddr + 4 + 8 * (this.usedIdx % this.size), element)) return false;
    const next = (this.usedIdx + 1) & 0xffff;
    const idx = new Uint8Array([next & 0xff, next >>> 8]);
    if (!dmaWrite(this.dma, this.usedAddr + 2, idx)) return false;
    this.usedIdx = next;
    return true;
  }

  /** The driver set VIRTQ_AVAIL_F_NO_INTERRUPT (an unreadable ring counts as not set). */
  notificationsSuppressed(): boolean {
    const flags = readU16(this.dma, this.availAddr);
    return flags !== undefined && (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) !== 0;
  }
}

/** Reads `dst.length` bytes of the chain's device-readable bytes from `offset` on. */
export function readChain(dma: DmaMemory, chain: DescriptorChain, offset: number, dst: Uint8Array): boolean {
  return transfer(dma, chain.segments, false, offset, dst);
}

/** Writes `src` into the chain's device-writable bytes from `offset` on. */
export function writeChain(dma: DmaMemory, chain: DescriptorChain, offset: number, src: Uint8Array): boolean {
  return transfer(dma, chain.segments, true, offset, src);
}

function transfer(
  dma: DmaMemory,
  segments: readonly Segment[],
  writable: boolean,
  offset: number,
  bytes: Uint8Array,
): boolean {
  let skip = offset;
  let done = 0;
  for (const segment of segments) {
    if (done === bytes.length) break;
    if (segment.writable !== writable) continue;
    if (skip >= segment.len) {
      skip -= segment.len;
      continue;
    }
    const n = Math.min(segment.len - skip, bytes.length - done);
    const part = bytes.subarray(done, done + n);
    const ok = writable ? dmaWrite(dma, segment.addr + skip, part) : dmaRead(dma, segment.addr + skip, part);
    if (!ok) return false;
    done += n;
    skip = 0;
  }
  return done === bytes.length;
}

/** A DMA read that also fails (rather than throws) on an unsafe address or a throwing bus. */
export function dmaRead(dma: DmaMemory, pa: number, dst: Uint8Array): boolean {
  if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(pa + dst.length)) return false;
  try {
    return dma.read(pa, dst);
  } catch {
    return false;
  }
}

/** A DMA write that also fails (rather than throws) on an unsafe address or a throwing bus. */
export function dmaWrite(dma: DmaMemory, pa: number, src: Uint8Array): boolean {
  if (!Number.isSafeInteger(pa) || pa < 0 || !Number.isSafeInteger(pa + src.length)) return false;
  try {
    return dma.write(pa, src);
  } catch {
    return false;
  }
}

function readU16(dma: DmaMemory, pa: number): number | undefined {
  const b = new Uint8Array(2);
  return dmaRead(dma, pa, b) ? b[0]! | (b[1]! << 8) : undefined;
}
