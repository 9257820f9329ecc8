/**
 * The debugger protocol (label −23), which every kernel object answers: name the
 * object (NAME_SET, MR1… its UTF-8 name, NUL-padded, eight bytes per word) or return
 * its global id in MR0 (GLOBAL_ID). As with Fiasco's `l4_debugger_set_object_name`,
 * this is a debugging aid, not policy: names only show in traces and reports, so that
 * a loader can say which program a thread belongs to. Holding the capability is
 * enough, as in Fiasco; on an IPC gate the S right is needed as well, because without
 * it the label belongs to the gate's server.
 */
import { Errno } from '../abi/errors';
import { DebuggerOp, OBJECT_NAME_MAX } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import { inRange, replyError, replyOk } from './decode';
import type { Thread } from './thread';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Invokes `cap` with the debugger protocol; returns the reply tag. */
export function invokeDebugger(caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const u = caller.utcb;
  const op = u.mr(0);
  if (op === DebuggerOp.GLOBAL_ID) {
    u.setMr(0, cap.payload.id);
    return replyOk(1);
  }
  if (op !== DebuggerOp.NAME_SET) return replyError(Errno.ENOSYS);
  const name = decodeName(caller, words);
  if (name === null) return replyError(Errno.EINVAL);
  cap.payload.name = name;
  return replyOk();
}

/**
 * The name in MR1…: bytes up to the first NUL, at most {@link OBJECT_NAME_MAX}, valid
 * UTF-8 and not empty; null otherwise.
 */
function decodeName(caller: Thread, words: number): string | null {
  const u = caller.utcb;
  const all = new Uint8Array(u.u32.buffer, u.u32.byteOffset + 8, (words - 1) * 8);
  const nul = all.indexOf(0);
  const length = nul < 0 ? all.length : nul;
  if (!inRange(length, 1, OBJECT_NAME_MAX)) return null;
  try {
    return decoder.decode(all.subarray(0, length));
  } catch {
    return null;
  }
}
