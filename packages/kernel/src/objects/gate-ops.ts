/**
 * The IPC gate's own protocol: a message with the kernel-object label (−10) sent
 * through a capability with the S right is for the gate itself (bind, get info);
 * any other message passes through to the bound thread.
 */
import { CapRights } from '../abi/caps';
import { Errno, IpcError } from '../abi/errors';
import { GateOp } from '../abi/protocols';
import type { Cap } from '../cap/cap-space';
import { abortIpc, failIpc } from '../ipc/ipc';
import type { Kernel } from '../kernel';
import { capArg, hasRights, inRange, replyError, replyOk } from './decode';
import type { IpcGate } from './ipc-gate';
import { ObjectKind } from './kobject';
import { Thread } from './thread';

/** Invokes the gate protocol; returns the reply tag. */
export function invokeGate(k: Kernel, caller: Thread, cap: Cap, words: number): number {
  if (words < 1) return replyError(Errno.EMSGTOOSHORT);
  const gate = cap.payload as IpcGate;
  const u = caller.utcb;
  switch (u.mr(0)) {
    case GateOp.BIND: {
      if (words < 3) return replyError(Errno.EMSGTOOSHORT);
      const tc = capArg(caller, 1);
      if (typeof tc === 'number') return replyError(-tc);
      if (tc.payload.kind !== ObjectKind.THREAD) return replyError(Errno.EINVAL);
      if (!hasRights(tc, CapRights.W)) return replyError(Errno.EPERM);
      const label = u.mr(2);
      if (!inRange(label, 0, Number.MAX_SAFE_INTEGER) || (label & 3) !== 0) return replyError(Errno.EINVAL);
      // Senders queued through the gate lose their channel only if it moves elsewhere.
      if (gate.thread !== tc.payload) abortSendersVia(k, gate);
      gate.thread = tc.payload as Thread;
      gate.label = label;
      return replyOk();
    }
    case GateOp.GET_INFO:
      u.setMr(0, gate.label);
      return replyOk(1);
    default:
      return replyError(Errno.ENOSYS);
  }
}

/** Senders queued through `gate` lose their channel when it is rebound: aborted. */
export function abortSendersVia(k: Kernel, gate: IpcGate): void {
  const server = gate.thread;
  if (!server) return;
  for (let s = server.sendersHead; s; ) {
    const next = s.qNext;
    if (s instanceof Thread && s.viaGate === gate) {
      abortIpc(k, s);
      if (failIpc(k, s, IpcError.SEABORTED)) k.makeReady(s, k.now());
    }
    s = next;
  }
}

/** Rights a gate capability needs for its own protocol. */
export const GATE_PROTOCOL_RIGHTS = CapRights.S;
