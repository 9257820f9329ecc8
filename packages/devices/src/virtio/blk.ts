/**
 * virtio-blk (virtio 1.2 §5.2): a disk behind one request queue.
 *
 * A request is one descriptor chain: a 16-byte device-readable header
 * (`le32 type; le32 reserved; le64 sector`), the data (device-readable for OUT,
 * device-writable for IN and GET_ID, none for FLUSH) and a final device-writable status
 * byte. The device never assumes how these bytes are split across descriptors.
 *
 * Offered features: VIRTIO_F_VERSION_1 (by the transport), VIRTIO_BLK_F_SEG_MAX,
 * VIRTIO_BLK_F_BLK_SIZE (512), VIRTIO_BLK_F_FLUSH, VIRTIO_F_INDIRECT_DESC (unless
 * disabled) and VIRTIO_BLK_F_RO for a read-only disk.
 *
 * Requests are handled as follows:
 * - IN (0), OUT (1), FLUSH (4) and GET_ID (8) are supported; every other type completes
 *   with VIRTIO_BLK_S_UNSUPP. A data length that is not a multiple of 512, a range past
 *   `capacity`, a transfer over {@link VIRTIO_BLK_MAX_TRANSFER}, a write to a read-only
 *   disk, and any backend failure complete with VIRTIO_BLK_S_IOERR.
 * - When the driver did not negotiate VIRTIO_BLK_F_FLUSH, each write is flushed before it
 *   completes (§5.2.6.1: writes are then stable on completion).
 * - Completion order: requests of a queue run one at a time and complete in the order
 *   the driver made them available. Each request's host work (the backend promise and
 *   the completion after it) is handed to {@link HostWork.track}; on completion the
 *   device writes the data and the status byte by DMA, adds the used element and raises
 *   the used-buffer interrupt. Ordering keeps reads after earlier writes consistent
 *   without any locking of sector ranges.
 * - A malformed chain (see {@link DescriptorChain.error}; also a missing or writable
 *   header, data in the wrong direction, or buffers outside RAM) is consumed and returned
 *   with used length 0. When its status byte (the last byte of a complete chain whose
 *   last descriptor is device-writable) can be written, the status is IOERR; otherwise
 *   the device sets DEVICE_NEEDS_RESET (and raises the configuration change interrupt)
 *   and takes no further buffers until reset.
 * - Used length: the whole device-writable length when the device wrote all of it (data
 *   and status), 1 when the status byte is the only writable byte, otherwise 0.
 */
import type { BlockBackend } from './block-backend';
import { SECTOR_SIZE } from './block-backend';
import {
  VIRTIO_F_INDIRECT_DESC,
  type VirtioDevice,
  type VirtioDeviceContext,
  virtioFeatureBit,
} from './mmio';
import { type DescriptorChain, dmaWrite, readChain, type SplitVirtqueue, writeChain } from './virtqueue';

/** Device ID of a block device. */
export const VIRTIO_ID_BLOCK = 2;

/** Block device feature bits. */
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;

/** Request types. */
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;

/** Request status values. */
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;

/** Length of the device ID string returned by GET_ID. */
export const VIRTIO_BLK_ID_BYTES = 20;
/** Largest data transfer of one request; larger ones fail with IOERR. */
export const VIRTIO_BLK_MAX_TRANSFER = 64 * 1024 * 1024;

/** Offsets in `struct virtio_blk_config`. */
export const VIRTIO_BLK_CONFIG = {
  CAPACITY: 0,
  SIZE_MAX: 8,
  SEG_MAX: 12,
  GEOMETRY: 16,
  BLK_SIZE: 20,
} as const;

/** Size of the configuration space exposed (through the discard/write-zeroes fields, all 0). */
const CONFIG_SIZE = 60;
const HEADER_BYTES = 16;
/** Most descriptors per chain, indirect ones included (QEMU's VIRTQUEUE_MAX_SIZE). */
const MAX_SEGMENTS = 1024;

/** Construction parameters of {@link VirtioBlk}. */
export interface VirtioBlkOptions {
  readonly backend: BlockBackend;
  /** Offer VIRTIO_BLK_F_RO and fail every write. */
  readonly readOnly?: boolean;
  /** Device ID string for GET_ID: printable ASCII, at most 20 characters. */
  readonly serial?: string;
  /** QueueNumMax of the request queue: a power of two (default 256). */
  readonly queueSize?: number;
  /** Offer VIRTIO_F_INDIRECT_DESC (default true). */
  readonly indirect?: boolean;
}

/** A request taken from the queue, ready to run in order. */
interface Job {
  readonly head: number;
  readonly chain: DescriptorChain;
  /** Guest address of the status byte; undefined when the chain has none to trust. */
  readonly statusAddr: number | undefined;
  /** Status to report if `io` is absent or succeeds. */
  readonly status: number;
  /** Malformed chain: report used length 0. */
  readonly malformed: boolean;
  /** Host I/O; resolves to the bytes for the device-writable data area, if any. */
  readonly io?: () => Promise<Uint8Array | undefined>;
}

/** A virtio block device. */
export class VirtioBlk implements VirtioDevice {
  readonly name = 'virtio-blk';
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly features: bigint;
  readonly queueSizes: readonly number[];
  readonly backend: BlockBackend;
  readonly readOnly: boolean;
  /** Disk size in 512-byte sectors. */
  readonly capacity: number;

  private readonly serial: Uint8Array;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private readonly indirect: boolean;
  private ctx: VirtioDeviceContext | undefined;
  private tails: Promise<void>[] = [];

  constructor(options: VirtioBlkOptions) {
    const {
      backend,
      readOnly = false,
      serial = 'pecan-virtio-blk',
      queueSize = 256,
      indirect = true,
    } = options;
    if (!Number.isSafeInteger(backend.sectors) || backend.sectors < 0) {
      throw new RangeError(`bad backend size ${backend.sectors}`);
    }
    if (!/^[\x20-\x7e]{0,20}$/.test(serial)) {
      throw new RangeError('serial must be at most 20 printable ASCII characters');
    }
    if (
      !Number.isInteger(queueSize) ||
      queueSize < 1 ||
      queueSize > 32768 ||
      (queueSize & (queueSize - 1)) !== 0
    ) {
      throw new RangeError(`queue size ${queueSize} is not a power of two up to 32768`);
    }
    this.backend = backend;
    this.readOnly = readOnly;
    this.capacity = backend.sectors;
    this.indirect = indirect;
    this.serial = new TextEncoder().encode(serial);
    this.queueSizes = [queueSize];

    let features =
      virtioFeatureBit(VIRTIO_BLK_F_SEG_MAX) |
      virtioFeatureBit(VIRTIO_BLK_F_BLK_SIZE) |
      virtioFeatureBit(VIRTIO_BLK_F_FLUSH);
    if (readOnly) features |= virtioFeatureBit(VIRTIO_BLK_F_RO);
    if (indirect) features |= virtioFeatureBit(VIRTIO_F_INDIRECT_DESC);
    this.features = features;

    const view = new DataView(this.config.buffer);
    view.setBigUint64(VIRTIO_BLK_CONFIG.CAPACITY, BigInt(this.capacity), true);
    view.setUint32(VIRTIO_BLK_CONFIG.SEG_MAX, Math.max(1, queueSize - 2), true);
    view.setUint32(VIRTIO_BLK_CONFIG.BLK_SIZE, SECTOR_SIZE, true);
  }

  attach(context: VirtioDeviceContext): void {
    this.ctx = context;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    let value = 0;
    for (let i = width - 1; i >= 0; i--) value = value * 256 + (this.config[offset + i] ?? 0);
    return value;
  }

  writeConfig(): void {
    // Every field is read-only: `writeback` is writable only with VIRTIO_BLK_F_CONFIG_WCE.
  }

  notify(index: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    for (;;) {
      const vq = ctx.queue(index);
      if (!vq) return;
      const popped = vq.pop();
      if (popped.kind === 'empty') return;
      if (popped.kind === 'error') {
        ctx.needsReset(popped.reason);
        return;
      }
      const chain = vq.walk(popped.head, {
        indirect: this.indirect && ctx.negotiated(VIRTIO_F_INDIRECT_DESC),
        maxSegments: MAX_SEGMENTS,
      });
      const job = this.prepare(ctx, chain);
      if (job.statusAddr === undefined) ctx.needsReset(chain.error ?? 'request without a status byte');
      this.enqueue(ctx, vq, job);
    }
  }

  reset(): void {
    // Queues are detached by the transport: jobs still queued or in flight find their
    // queue inactive and drop their completion. The tails stay, so a backend operation
    // from before the reset still finishes before any issued after it.
  }

  /** Parses a chain into a job; reads the header and any OUT data now. */
  private prepare(ctx: VirtioDeviceContext, chain: DescriptorChain): Job {
    const last = chain.segments.at(-1);
    const statusAddr =
      chain.complete && last?.writable && last.len > 0 ? last.addr + last.len - 1 : undefined;
    const base = { head: chain.head, chain, statusAddr };
    const malformed = (): Job => ({ ...base, status: VIRTIO_BLK_S_IOERR, malformed: true });
    const done = (status: number, io?: () => Promise<Uint8Array | undefined>): Job =>
      io ? { ...base, status, malformed: false, io } : { ...base, status, malformed: false };

    if (chain.error !== undefined || statusAddr === undefined) return malformed();
    if (chain.readableLength < HEADER_BYTES) return malformed(); // header missing or device-writable
    const header = new Uint8Array(HEADER_BYTES);
    if (!readChain(ctx.dma, chain, 0, header)) return malformed();
    const view = new DataView(header.buffer);
    const type = view.getUint32(0, true);
    const sectorLow = view.getUint32(8, true);
    const sectorHigh = view.getUint32(12, true);
    const outBytes = chain.readableLength - HEADER_BYTES;
    const inBytes = chain.writableLength - 1;
    const backend = this.backend;

    switch (type) {
      case VIRTIO_BLK_T_IN: {
        if (outBytes !== 0) return malformed(); // read data must be device-writable
        const sector = this.sectorFor(sectorLow, sectorHigh, inBytes);
        if (sector === undefined) return done(VIRTIO_BLK_S_IOERR);
        return done(VIRTIO_BLK_S_OK, async () => {
          const data = new Uint8Array(inBytes);
          await backend.read(sector, data);
          return data;
        });
      }
      case VIRTIO_BLK_T_OUT: {
        if (inBytes !== 0) return malformed(); // write data must be device-readable
        if (this.readOnly) return done(VIRTIO_BLK_S_IOERR);
        const sector = this.sectorFor(sectorLow, sectorHigh, outBytes);
        if (sector === undefined) return done(VIRTIO_BLK_S_IOERR);
        const data = new Uint8Array(outBytes);
        if (!readChain(ctx.dma, chain, HEADER_BYTES, data)) return malformed();
        const writeThrough = !ctx.negotiated(VIRTIO_BLK_F_FLUSH);
        return done(VIRTIO_BLK_S_OK, async () => {
          await backend.write(sector, data);
          if (writeThrough) await backend.flush();
          return undefined;
        });
      }
      case VIRTIO_BLK_T_FLUSH:
        // `sector` should be 0 and there should be no data; neither matters to a flush.
        return done(VIRTIO_BLK_S_OK, async () => {
          await backend.flush();
          return undefined;
        });
      case VIRTIO_BLK_T_GET_ID: {
        if (outBytes !== 0) return malformed();
        if (inBytes > VIRTIO_BLK_MAX_TRANSFER) return done(VIRTIO_BLK_S_IOERR);
        // The driver passes 20 bytes; a shorter buffer gets a prefix, a longer one NULs.
        const id = new Uint8Array(inBytes);
        id.set(this.serial.subarray(0, id.length)); // NUL-padded, no terminator at 20 bytes
        return done(VIRTIO_BLK_S_OK, async () => id);
      }
      default:
        return done(VIRTIO_BLK_S_UNSUPP);
    }
  }

  /** The first sector of a transfer of `bytes` if it is valid for this disk. */
  private sectorFor(low: number, high: number, bytes: number): number | undefined {
    if (bytes % SECTOR_SIZE !== 0 || bytes > VIRTIO_BLK_MAX_TRANSFER) return undefined;
    if (high >= 0x20_0000) return undefined;
    const sector = high * 2 ** 32 + low;
    return sector + bytes / SECTOR_SIZE <= this.capacity ? sector : undefined;
  }

  private enqueue(ctx: VirtioDeviceContext, vq: SplitVirtqueue, job: Job): void {
    const previous = this.tails[vq.index] ?? Promise.resolve();
    const next = previous
      .then(() => this.complete(ctx, vq, job))
      .catch((e: unknown) => ctx.needsReset(`virtio-blk: ${e instanceof Error ? e.message : String(e)}`));
    this.tails[vq.index] = next;
    ctx.work.track(next);
  }

  /** Runs a job's I/O, then writes data, status and the used element. */
  private async complete(ctx: VirtioDeviceContext, vq: SplitVirtqueue, job: Job): Promise<void> {
    if (!vq.active) return;
    let status = job.status;
    let data: Uint8Array | undefined;
    if (job.io && status === VIRTIO_BLK_S_OK) {
      try {
        data = await job.io();
      } catch {
        status = VIRTIO_BLK_S_IOERR;
      }
      if (!vq.active) return;
    }
    const { chain, statusAddr } = job;
    let len = 0;
    if (statusAddr !== undefined) {
      let wroteData = false;
      if (data !== undefined && status === VIRTIO_BLK_S_OK) {
        if (writeChain(ctx.dma, chain, 0, data)) wroteData = true;
        else status = VIRTIO_BLK_S_IOERR;
      }
      if (dmaWrite(ctx.dma, statusAddr, Uint8Array.of(status))) {
        if (!job.malformed && (wroteData || chain.writableLength === 1)) len = chain.writableLength;
      } else {
        ctx.needsReset('status byte is not in RAM');
      }
    }
    if (!vq.push(job.head, len)) {
      ctx.needsReset('used ring is not in RAM');
      return;
    }
    ctx.usedBuffers(vq);
  }
}
