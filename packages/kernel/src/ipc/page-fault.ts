/**
 * Memory accesses that miss the TLB, and page faults (brief §2, reference facts
 * "Page-fault IPC").
 *
 * A miss walks the back end's page table. A walk that succeeds fills the TLB and the
 * access is retried. One that fails raises a page fault: the kernel calls the thread's
 * pager with label −2, MR0 = the fault address with the access in its low three bits
 * (r 4, w 2, x 1) and MR1 = the IP. The pager answers with a map item; the kernel maps
 * it with the whole address space as the receive window and the item's send base as
 * the hot spot (X.2), and the thread retries the access. The faulting code never sees any of
 * it: the two MRs the message borrowed, the result tag and the error TCR are restored.
 *
 * A fault nobody may resolve becomes an exception in the architecture's encoding
 * (x86 #PF/#GP, ARM data/instruction abort), delivered as exception IPC: an address
 * that is not a user address, a thread without a pager or whose pager is gone, a
 * failed page-fault IPC, and a pager that declines by replying with a non-zero label.
 */
import { alignDown, ioFpage, pow2 } from '../abi/fpage';
import { msgtag, tagHasError, tagLabel } from '../abi/msgtag';
import { Proto } from '../abi/protocols';
import { TIMEOUT_NEVER } from '../abi/timeout';
import type { Kernel } from '../kernel';
import type { AddressSpace } from '../mem/address-space';
import { IpcGate } from '../objects/ipc-gate';
import { Thread, ThreadState } from '../objects/thread';
import { MemAccess, type Translation, WalkFault } from '../platform/page-table';
import type { ExceptionCause } from '../platform/platform';
import type { Cpu } from '../sched/cpu';
import { ACCESS_DONE } from '../user/registers';
import { sendMessage } from './ipc';

/** The walk result, reused: a TLB miss allocates nothing. */
const walked: Translation = { fault: 0, frame: 0, order: 0, rights: 0, levels: 0 };

const PAGE = 4096;

function isAccess(a: number): boolean {
  return a === MemAccess.READ || a === MemAccess.WRITE || a === MemAccess.EXEC;
}

function memoryFault(address: number, access: number, fault: number, level: number): ExceptionCause {
  return { kind: 'memory', address, access, fault, level };
}

/**
 * `t` yielded MEMORY: its access to `regs.addr` with `regs.access` missed the TLB.
 * Walks the page table and fills the TLB, or raises the page fault.
 */
export function handleMemoryAccess(k: Kernel, cpu: Cpu, t: Thread): void {
  t.resumeValue = 0;
  const va = t.regs.addr;
  const access = t.regs.access;
  const space = t.task?.space;
  if (!space || typeof va !== 'number' || !isAccess(access)) {
    const address = typeof va === 'number' && Number.isFinite(va) ? va : 0;
    const why = space ? ' (not a memory access the CPU can make)' : ' (the machine has no memory)';
    k.raiseException(cpu, t, memoryFault(address, access, WalkFault.BAD_ADDRESS, 0), why);
    return;
  }
  const tr = walkAndFill(k, cpu, t, space, va, access);
  const level = tr.levels > 0 ? tr.levels - 1 : 0;
  if (tr.fault === 0) {
    if (tr.rights === 0) accessDevice(k, cpu, t, tr.frame + (va - alignDown(va, pow2(tr.order))), level);
    return;
  }
  if (tr.fault === WalkFault.BAD_ADDRESS) {
    k.raiseException(cpu, t, memoryFault(va, access, tr.fault, level));
    return;
  }
  raiseFault(k, cpu, t, false, va, access, tr.fault, level);
}

/**
 * The hardware's part of a TLB miss: walks the page table (charging each level) and, on
 * success, caches the page in the TLB. Leaves `rights` 0 in the result for a page that
 * is not RAM (device memory is never cached: each access must reach the device).
 */
function walkAndFill(
  k: Kernel,
  cpu: Cpu,
  t: Thread,
  space: AddressSpace,
  va: number,
  access: number,
): Translation {
  const tr = space.walk(va, access, walked);
  k.chargeCycles(cpu, t, tr.levels * k.cWalk);
  if (tr.fault !== 0) return tr;
  const pa = tr.frame + (va - alignDown(va, pow2(tr.order)));
  const page = alignDown(pa, PAGE);
  const mem = k.memory!;
  if (mem.isRam(page, PAGE)) space.tlb.fill(va, page - mem.ram.base, tr.rights, access === MemAccess.WRITE);
  else tr.rights = 0;
  return tr;
}

/**
 * `t`'s access went to device memory at physical `pa`: the kernel performs it on the
 * device register, with the width the thread used, and resumes the thread with
 * ACCESS_DONE (a read's value in `regs.value`). No device there is a bus error, and an
 * instruction fetch from device memory a protection fault.
 */
function accessDevice(k: Kernel, cpu: Cpu, t: Thread, pa: number, level: number): void {
  const r = t.regs;
  const width = r.width;
  const bus = k.platform.bus;
  const fault = memoryFault(r.addr, r.access, WalkFault.PROTECTION, level);
  if (r.access === MemAccess.EXEC) {
    k.raiseException(cpu, t, fault, ' (instruction fetch from device memory)');
    return;
  }
  if ((width !== 1 && width !== 2 && width !== 4 && width !== 8) || alignDown(pa, width) !== pa) {
    k.raiseException(
      cpu,
      t,
      fault,
      ` (device register access of ${String(width)} bytes at 0x${pa.toString(16)} is not naturally aligned)`,
    );
    return;
  }
  k.chargeCycles(cpu, t, k.cDev);
  let ok: boolean;
  if (r.access === MemAccess.READ) {
    const v = bus?.mmioRead(pa, width);
    ok = v !== undefined;
    if (v !== undefined) r.value = v;
  } else {
    ok = bus?.mmioWrite(pa, width, r.value) === true;
  }
  if (!ok) {
    k.raiseException(cpu, t, fault, ` (bus error: no device decodes physical 0x${pa.toString(16)})`);
    return;
  }
  t.resumeValue = ACCESS_DONE;
}

/** The value a read from an I/O port nobody decodes returns: the bus floats high. */
function floatingBus(width: number): number {
  return 2 ** (8 * width) - 1;
}

/**
 * `t` yielded PORT_IO: an `in` or `out`. Performs it when the task's I/O space holds
 * the ports, else raises an I/O page fault (label −8) to the pager, or #GP without one.
 */
export function handlePortAccess(k: Kernel, cpu: Cpu, t: Thread): void {
  t.resumeValue = 0;
  const r = t.regs;
  const port = r.addr;
  const width = r.width;
  const access = r.access;
  const io = t.task?.io;
  const valid =
    Number.isInteger(port) &&
    (width === 1 || width === 2 || width === 4) &&
    (access === MemAccess.READ || access === MemAccess.WRITE) &&
    port >= 0 &&
    port + width <= (io?.portCount ?? 0);
  if (!io || !valid) {
    const why = io ? ' (not a port access the CPU can make)' : ' (the machine has no I/O ports)';
    k.raiseException(cpu, t, { kind: 'io', port: Number.isFinite(port) ? port : 0, access }, why);
    return;
  }
  if (!io.allows(port, width)) {
    raiseFault(k, cpu, t, true, port, access, 0, 0);
    return;
  }
  k.chargeCycles(cpu, t, k.cDev);
  const bus = k.platform.bus;
  if (access === MemAccess.READ) {
    r.value = bus?.portRead?.(port, width) ?? floatingBus(width);
  } else {
    bus?.portWrite?.(port, width, r.value);
  }
  t.resumeValue = ACCESS_DONE;
}

/** The exception a fault becomes when no pager resolves it. */
function unresolved(
  io: boolean,
  address: number,
  access: number,
  fault: number,
  level: number,
): ExceptionCause {
  return io ? { kind: 'io', port: address, access } : memoryFault(address, access, fault, level);
}

/**
 * Sends `t`'s page fault (or, with `io`, its I/O page fault: label −8, MR0 the port as
 * an I/O flexpage with the access in its rights bits) to its pager, or turns it into an
 * exception when it has none.
 */
function raiseFault(
  k: Kernel,
  cpu: Cpu,
  t: Thread,
  io: boolean,
  va: number,
  access: number,
  fault: number,
  level: number,
): void {
  const pagerCap = t.pagerCap > 0 ? t.task?.caps.lookup(Math.floor(t.pagerCap / 4096)) : undefined;
  const pager = pagerCap?.payload;
  let target: Thread | null = null;
  let gate: IpcGate | null = null;
  let label = 0;
  if (pager instanceof IpcGate && pager.thread) {
    target = pager.thread;
    gate = pager;
    label = pager.label + (pagerCap!.rights & 3);
  } else if (pager instanceof Thread) {
    target = pager;
  }
  if (!target?.alive || target.state === ThreadState.DEAD || target === t) {
    const why = !pagerCap
      ? t.pagerCap === 0
        ? 'the thread has no pager'
        : `its pager capability 0x${t.pagerCap.toString(16)} is empty`
      : !target
        ? `its pager capability names ${pager instanceof IpcGate ? 'a gate bound to no thread' : `a ${pager?.kind ?? 'nothing'} object`}, not a thread or bound gate`
        : target === t
          ? 'the thread is its own pager'
          : `its pager "${target.name}" is dead`;
    k.raiseException(cpu, t, unresolved(io, va, access, fault, level), ` — unresolved: ${why}`);
    return;
  }
  savePageFaultState(t);
  const u = t.utcb;
  u.setMr(0, io ? ioFpage(va, 0, access) : va - (va % 8) + access);
  u.setMr(1, t.ip);
  t.inPageFault = true;
  t.pfIo = io;
  t.pfAddress = va;
  t.pfAccess = access;
  t.pfFault = fault;
  t.pfLevel = level;
  k.chargeCycles(cpu, t, k.cExc);
  const tag = msgtag(io ? Proto.IO_PAGE_FAULT : Proto.PAGE_FAULT, 2);
  sendMessage(k, cpu, t, target, gate, label, tag, true, false, TIMEOUT_NEVER, TIMEOUT_NEVER);
}

/** Keeps what the page-fault IPC overwrites: MR0, MR1, the error TCR, tag and label. */
function savePageFaultState(t: Thread): void {
  if (!t.pfSaved) t.pfSaved = new Float64Array(8);
  const s = t.pfSaved;
  const w = t.utcb.u32;
  s[0] = w[0]!;
  s[1] = w[1]!;
  s[2] = w[2]!;
  s[3] = w[3]!;
  s[4] = t.utcb.error;
  s[5] = t.regs.tag;
  s[6] = t.regs.label;
}

function restorePageFaultState(t: Thread): void {
  const s = t.pfSaved!;
  const w = t.utcb.u32;
  w[0] = s[0]!;
  w[1] = s[1]!;
  w[2] = s[2]!;
  w[3] = s[3]!;
  t.utcb.error = s[4]!;
  t.regs.tag = s[5]!;
  t.regs.label = s[6]!;
}

/**
 * The pager answered `t`'s page fault with `tag` (or the IPC failed). The thread runs
 * again either way: it retries the access, or raises the fault as an exception when
 * the pager declined or could not be reached. Returns true (the thread is to run).
 */
export function completePageFault(k: Kernel, t: Thread, tag: number): boolean {
  t.inPageFault = false;
  const error = t.utcb.error;
  restorePageFaultState(t);
  t.resumeValue = 0;
  if (tagHasError(tag)) {
    t.pendingFault = unresolved(t.pfIo, t.pfAddress, t.pfAccess, t.pfFault, t.pfLevel);
    t.pendingFaultNote = ` — the page-fault IPC to the pager failed (IPC error 0x${error.toString(16)})`;
  } else if (tagLabel(tag) !== 0) {
    t.pendingFault = unresolved(t.pfIo, t.pfAddress, t.pfAccess, t.pfFault, t.pfLevel);
    t.pendingFaultNote = ` — the pager declined it (reply label ${tagLabel(tag)})`;
  } else if (!t.pfIo && t.task?.space) {
    // Retry the access now, as the CPU would on return: if the pager mapped the page,
    // the thread finds it in the TLB instead of entering the kernel again to walk.
    walkAndFill(k, k.cpus[t.cpu]!, t, t.task.space, t.pfAddress, t.pfAccess);
  }
  return true;
}
