/**
 * The Log protocol (label −13): write text. MR1 holds the byte count, MR2… the UTF-8
 * bytes, eight per word, little-endian. Needs W.
 */
import { CapRights } from '../abi/caps';
import { Errno } from '../abi/errors';
import { LogOp } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import type { Kernel } from '../kernel';
import type { Cpu } from '../sched/cpu';
import { hasRights, inRange, replyError, replyOk } from './decode';
import type { Log } from './log';
import type { Thread } from './thread';

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Invokes a Log capability; returns the reply tag. */
export function invokeLog(k: Kernel, cpu: Cpu, caller: Thread, cap: Cap, words: number): number {
  if (words < 2) return replyError(Errno.EMSGTOOSHORT);
  const u = caller.utcb;
  if (u.mr(0) !== LogOp.WRITE) return replyError(Errno.ENOSYS);
  if (!hasRights(cap, CapRights.W)) return replyError(Errno.EPERM);
  const len = u.mr(1);
  if (!inRange(len, 0, (words - 2) * 8)) return replyError(Errno.EINVAL);
  const bytes = new Uint8Array(u.u32.buffer, u.u32.byteOffset + 16, len);
  const log = cap.payload as Log;
  k.emitLog({ tag: log.tag, text: decoder.decode(bytes), time: cpu.time, thread: caller });
  return replyOk();
}
