/**
 * Storage behind a virtio block device: a RAM disk or a disk image file on the host.
 * Sectors are always 512 bytes (the unit of the virtio-blk protocol).
 */
import { type FileHandle, open } from 'node:fs/promises';

/** Bytes per sector. */
export const SECTOR_SIZE = 512;

/**
 * A disk of `sectors` 512-byte sectors. Each call rejects (with no partial guarantee)
 * when the range is outside the disk or the host I/O fails; the device model turns a
 * rejection into VIRTIO_BLK_S_IOERR. `dst`/`src` lengths are multiples of 512.
 */
export interface BlockBackend {
  readonly sectors: number;
  /** The disk takes no writes: its device offers VIRTIO_BLK_F_RO (default false). */
  readonly readOnly?: boolean;
  /** Reads `dst.length` bytes starting at sector `sector`. */
  read(sector: number, dst: Uint8Array): Promise<void>;
  /** Writes `src` starting at sector `sector`. */
  write(sector: number, src: Uint8Array): Promise<void>;
  /** Makes every completed write durable. */
  flush(): Promise<void>;
}

function checkRange(sector: number, length: number, sectors: number): void {
  if (
    !Number.isSafeInteger(sector) ||
    sector < 0 ||
    length % SECTOR_SIZE !== 0 ||
    sector + length / SECTOR_SIZE > sectors
  ) {
    throw new RangeError(`sectors ${sector}+${length / SECTOR_SIZE} outside a disk of ${sectors}`);
  }
}

/** A disk held in a byte array (its length is rounded down to whole sectors). */
export class MemoryBlockBackend implements BlockBackend {
  readonly data: Uint8Array;
  readonly sectors: number;
  readonly readOnly: boolean;

  /**
   * `contents`: the disk's bytes (used in place), or a number of zeroed sectors. A
   * read-only disk still takes writes through this object; its device refuses them.
   */
  constructor(contents: Uint8Array | number, options: { readonly readOnly?: boolean } = {}) {
    this.readOnly = options.readOnly === true;
    if (typeof contents === 'number') {
      if (!Number.isSafeInteger(contents) || contents < 0)
        throw new RangeError(`bad sector count ${contents}`);
      this.data = new Uint8Array(contents * SECTOR_SIZE);
    } else {
      this.data = contents;
    }
    this.sectors = Math.floor(this.data.length / SECTOR_SIZE);
  }

  async read(sector: number, dst: Uint8Array): Promise<void> {
    checkRange(sector, dst.length, this.sectors);
    dst.set(this.data.subarray(sector * SECTOR_SIZE, sector * SECTOR_SIZE + dst.length));
  }

  async write(sector: number, src: Uint8Array): Promise<void> {
    checkRange(sector, src.length, this.sectors);
    this.data.set(src, sector * SECTOR_SIZE);
  }

  async flush(): Promise<void> {}
}

/** Options of {@link FileBlockBackend.open}. */
export interface FileBlockOptions {
  /**
   * Disk size in bytes (a multiple of 512). A missing file is created with this size; a
   * shorter one is extended with zeroes; a longer one keeps its size. Without it the file
   * must exist and its size, rounded down to whole sectors, is the capacity.
   */
  readonly size?: number;
  /** Open the image read-only (it must then exist and be large enough). */
  readonly readOnly?: boolean;
}

/**
 * A disk image in a host file, through a Node `fs/promises` FileHandle. Writes go to
 * the file as they complete; {@link flush} is `fdatasync`. The image persists after
 * {@link close}, so a later machine run can open it again.
 */
export class FileBlockBackend implements BlockBackend {
  readonly path: string;
  readonly sectors: number;
  readonly readOnly: boolean;
  private readonly handle: FileHandle;

  private constructor(path: string, handle: FileHandle, sectors: number, readOnly: boolean) {
    this.path = path;
    this.handle = handle;
    this.sectors = sectors;
    this.readOnly = readOnly;
  }

  /** Opens (or creates, see {@link FileBlockOptions.size}) the image at `path`. */
  static async open(path: string, options: FileBlockOptions = {}): Promise<FileBlockBackend> {
    const { size, readOnly = false } = options;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0 || size % SECTOR_SIZE !== 0)) {
      throw new RangeError(`disk size ${size} is not a whole number of 512-byte sectors`);
    }
    let handle: FileHandle;
    try {
      handle = await open(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      if (readOnly || size === undefined || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      handle = await open(path, 'wx+');
    }
    try {
      let bytes = (await handle.stat()).size;
      if (size !== undefined && bytes < size) {
        if (readOnly) throw new RangeError(`${path} is ${bytes} bytes, smaller than ${size}`);
        await handle.truncate(size);
        bytes = size;
      }
      return new FileBlockBackend(path, handle, Math.floor(bytes / SECTOR_SIZE), readOnly);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  async read(sector: number, dst: Uint8Array): Promise<void> {
    checkRange(sector, dst.length, this.sectors);
    let done = 0;
    while (done < dst.length) {
      const { bytesRead } = await this.handle.read(dst, done, dst.length - done, sector * SECTOR_SIZE + done);
      if (bytesRead === 0) {
        dst.fill(0, done); // past the end of a sparse or truncated file
        return;
      }
      done += bytesRead;
    }
  }

  async write(sector: number, src: Uint8Array): Promise<void> {
    checkRange(sector, src.length, this.sectors);
    if (this.readOnly) throw new Error(`${this.path} is open read-only`);
    let done = 0;
    while (done < src.length) {
      const { bytesWritten } = await this.handle.write(
        src,
        done,
        src.length - done,
        sector * SECTOR_SIZE + done,
      );
      done += bytesWritten;
    }
  }

  async flush(): Promise<void> {
    if (!this.readOnly) await this.handle.datasync();
  }

  /** Closes the file (after the device's work has settled). */
  async close(): Promise<void> {
    await this.handle.close();
  }
}
