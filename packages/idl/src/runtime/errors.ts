import { describeError, EIPC_HI, EIPC_LO } from '@pecan/kernel';

/**
 * A failure of the call itself rather than an outcome the interface declares: the IPC
 * failed (code −(2000 + IPC error), as L4Re's `l4_error()`), the server answered with
 * an error label (−errno: EBADPROTO, ENOSYS, EINVAL, EMSGTOOSHORT, EMSGTOOLONG, EIO), or
 * a value could not be marshalled or unmarshalled here.
 */
export class IdlError extends Error {
  /** Negative: −errno, or −(2000 + IPC error code) for an IPC failure. */
  readonly code: number;

  constructor(code: number, detail?: string) {
    super(detail ? `${describeError(code)}: ${detail}` : describeError(code));
    this.name = 'IdlError';
    this.code = code;
  }

  /** True when the IPC itself failed (timeout, partner gone, message cut, …). */
  get isIpcError(): boolean {
    return -this.code >= EIPC_LO && -this.code <= EIPC_HI;
  }
}

/**
 * Base class of the exception classes generated for IDL `exception` declarations: the
 * outcomes a method declares with `raises (…)`. A server implementation throws them; the
 * client stub rethrows them in the caller, with their fields.
 */
export abstract class IdlException extends Error {
  /** The exception's fully-qualified IDL name, `fs.NotFound`. */
  readonly idlName: string;

  protected constructor(idlName: string) {
    super(idlName);
    this.idlName = idlName;
    this.name = idlName.slice(idlName.lastIndexOf('.') + 1);
  }
}
