import type { ObjectKind } from './objects/kobject';
import { type Thread, ThreadState } from './objects/thread';
import type { ExceptionCause } from './platform/platform';

/** A one-line description of an exception cause, for reports and traces. */
export function describeException(cause: ExceptionCause): string {
  switch (cause.kind) {
    case 'thrown': {
      const e = cause.error;
      return e instanceof Error ? `threw ${e.name}: ${e.message}` : `threw ${String(e)}`;
    }
    case 'bad-syscall':
      return `invalid kernel entry (yielded ${typeof cause.value === 'symbol' ? cause.value.toString() : (JSON.stringify(cause.value) ?? String(cause.value))})`;
    case 'triggered':
      return 'exception triggered by ex_regs';
    case 'invalid-ip':
      return `no code at IP 0x${cause.ip.toString(16)}`;
    case 'memory':
      return `${ACCESS_NAMES[cause.access] ?? 'access'} at 0x${cause.address.toString(16)}: ${FAULT_NAMES[cause.fault] ?? 'fault'}`;
    case 'io':
      return `${cause.access === 2 ? 'out to' : 'in from'} I/O port 0x${cause.port.toString(16)}: the task may not use it`;
  }
}

const ACCESS_NAMES: Record<number, string> = { 4: 'read', 2: 'write', 1: 'instruction fetch' };
const FAULT_NAMES: Record<number, string> = {
  1: 'page not mapped',
  2: 'page mapped without that right',
  3: 'not a user address',
};

/** What a blocked thread waits for, in words. */
export function describeWait(t: Thread): string {
  const p = t.partner ? `"${t.partner.name}"` : null;
  switch (t.state) {
    case ThreadState.SEND_WAIT:
      return `${p} to receive${t.viaGate ? ` (through gate "${t.viaGate.name}")` : ''}`;
    case ThreadState.REPLY_WAIT:
      return `a reply from ${p}`;
    case ThreadState.RECV_WAIT:
      if (t.partnerIrq) return `interrupt "${t.partnerIrq.name}"`;
      return p ? `a message from ${p}` : 'a message from any sender';
    default:
      return t.state;
  }
}

/** A short label for an object, e.g. `thread "server"`. */
export function describeObject(o: { kind: ObjectKind; name: string }): string {
  return `${o.kind} "${o.name}"`;
}
