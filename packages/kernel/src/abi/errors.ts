/**
 * Error codes, as Fiasco.OC / L4Re number them (reference facts, "Error codes").
 *
 * Kernel objects report failure as a negative errno in the reply tag's label.
 * IPC failures set the error flag in the result tag and leave an IPC error code in
 * the UTCB's error TCR; {@link l4Error} folds both into one negative number, mapping
 * IPC errors to −(2000 + code) like L4Re's `l4_error()`.
 */
export const Errno = {
  EOK: 0,
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCESS: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  EBADPROTO: 39,
  ENOREPLY: 1000,
  EMSGTOOSHORT: 1001,
  EMSGTOOLONG: 1002,
} as const;
export type Errno = (typeof Errno)[keyof typeof Errno];

/** Base of the range that IPC error codes are mapped into by {@link l4Error}. */
export const EIPC_LO = 2000;
/** Top of that range (inclusive). */
export const EIPC_HI = 2031;

/**
 * IPC error codes as found in the error TCR. The low bit is the phase: 0 for the send
 * phase, 1 for the receive phase ({@link IPC_RECEIVE_PHASE}).
 */
export const IpcError = {
  /** No error. */
  NONE: 0x00,
  /** Send-phase timeout; the receive-phase one is 0x03. */
  SETIMEOUT: 0x02,
  RETIMEOUT: 0x03,
  /** Partner does not exist, or was deleted while the IPC was in progress. */
  ENOT_EXISTENT: 0x04,
  RENOT_EXISTENT: 0x05,
  /** Cancelled by ex_regs with the cancel flag. */
  SECANCELED: 0x06,
  RECANCELED: 0x07,
  /** The receiver had no buffer for a typed item. */
  SEMSGCUT: 0x08,
  REMSGCUT: 0x09,
  /** Page-fault timeouts during a transfer (reserved until string items exist). */
  SESNDPFTO: 0x0a,
  RESNDPFTO: 0x0b,
  SERCVPFTO: 0x0c,
  RERCVPFTO: 0x0d,
  /** The gate the thread was queued through was deleted or rebound to another thread. */
  SEABORTED: 0x0e,
  REABORTED: 0x0f,
  /** A typed item could not be mapped. */
  SEMAPFAILED: 0x10,
  REMAPFAILED: 0x11,
  /** A reply was attempted without a reply capability. */
  ENOREPLY: 0x13,
  /**
   * Pecan extension: the invoked capability slot is empty or does not name an object
   * that can be invoked this way. Fiasco folds this into ENOT_EXISTENT; see
   * docs/design/errors.md for why Pecan keeps it distinct.
   */
  EINVALCAP: 0x14,
  REINVALCAP: 0x15,
} as const;
export type IpcError = (typeof IpcError)[keyof typeof IpcError];

/** Set in an IPC error code when the error happened in the receive phase. */
export const IPC_RECEIVE_PHASE = 1;

const errnoNames = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));
const ipcErrorNames = new Map<number, string>(
  Object.entries(IpcError)
    .filter(([k]) => k !== 'NONE')
    .map(([k, v]) => [v, k]),
);

/** The symbolic name of an errno value (positive or negative), e.g. `EPERM`. */
export function errnoName(code: number): string {
  return errnoNames.get(Math.abs(code)) ?? `E${Math.abs(code)}`;
}

/** The symbolic name of an IPC error code from the error TCR, e.g. `RETIMEOUT`. */
export function ipcErrorName(code: number): string {
  return ipcErrorNames.get(code) ?? `IPC_0x${code.toString(16)}`;
}

/**
 * Describes the result of {@link l4Error} in words: `"ok"`, `"EPERM"`, or
 * `"IPC RETIMEOUT"`.
 */
export function describeError(err: number): string {
  if (err >= 0) return 'ok';
  const code = -err;
  if (code >= EIPC_LO && code <= EIPC_HI) return `IPC ${ipcErrorName(code - EIPC_LO)}`;
  return errnoName(code);
}
