/**
 * sigma0: the first user task. At boot the kernel gives its address space the root
 * mappings of all RAM (except the kernel's own) and all device MMIO, one to one, and
 * its I/O space every I/O port (`createTask(name, { sigma0: true })`). sigma0 hands
 * them out over the sigma0 protocol (./protocol.ts), each frame once, and pagers build
 * every other address space from what it gives.
 *
 * Its policy is the classic one and nothing more: first come, first served; no
 * reclaiming. Anything smarter belongs in the pagers above it.
 */
import {
  Errno,
  FpageType,
  fpageBase,
  fpageOrder,
  fpageType,
  IO_RIGHTS,
  ioFpage,
  MemRights,
  memFpage,
  memMapControl,
  msgtag,
  Proto,
  program,
  type ThreadEnv,
  tagHasError,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { FrameKind, FrameTable } from './frame-table';
import { Sigma0Op } from './protocol';

const PAGE = 4096;
/** The largest block sigma0 hands out in one request: 1 GiB. */
const MAX_ORDER = 30;

/** Rights of what sigma0 gives: RAM may be executed, device memory never. */
const RAM_RIGHTS = MemRights.RWX;
const DEVICE_RIGHTS = MemRights.RW;

/** The reply sigma0 sends, as a tag; the MRs are set by the handler. */
type Reply = number;

/** Sets the MRs of a reply that maps `[pa, pa + 2^order)` and carries `pa` in MR0. */
function giveMemory(env: ThreadEnv, pa: number, order: number, rights: number, hotSpot: number): Reply {
  const u = env.utcb;
  u.setMr(0, pa);
  u.setMr(1, memMapControl(hotSpot));
  u.setMr(2, memFpage(pa, order, rights));
  return msgtag(0, 1, 1);
}

function refuse(errno: number): Reply {
  return msgtag(-errno, 0);
}

/** Answers one sigma0-protocol request (label −6). */
function request(env: ThreadEnv, frames: FrameTable): Reply {
  const u = env.utcb;
  const op = u.mr(0);
  const fp = u.mr(1);
  if (!Number.isSafeInteger(fp) || fp < 0) return refuse(Errno.EINVAL);
  const type = fpageType(fp);
  const order = fpageOrder(fp);
  if (type !== FpageType.MEMORY || order < 12 || order > MAX_ORDER) return refuse(Errno.EINVAL);
  const size = 2 ** order;
  const pa = fpageBase(fp);
  switch (op) {
    case Sigma0Op.FPAGE_RAM: {
      if (pa % size !== 0) return refuse(Errno.EINVAL);
      const err = frames.take(pa, size, FrameKind.RAM);
      return err ? refuse(err) : giveMemory(env, pa, order, RAM_RIGHTS, pa);
    }
    case Sigma0Op.FPAGE_IOMEM:
    case Sigma0Op.FPAGE_IOMEM_CACHED: {
      if (pa % size !== 0) return refuse(Errno.EINVAL);
      const err = frames.take(pa, size, FrameKind.DEVICE);
      return err ? refuse(err) : giveMemory(env, pa, order, DEVICE_RIGHTS, pa);
    }
    case Sigma0Op.FPAGE_ANY: {
      const got = frames.takeAny(size);
      return got < 0 ? refuse(Errno.ENOMEM) : giveMemory(env, got, order, RAM_RIGHTS, got);
    }
    default:
      return refuse(Errno.ENOSYS);
  }
}

/**
 * Answers a page fault (label −2) of a thread whose pager sigma0 is: gives the page one
 * to one if it is RAM or device memory nobody has, else declines.
 */
function pageFault(env: ThreadEnv, frames: FrameTable): Reply {
  const addr = env.utcb.mr(0);
  const page = addr - (addr % PAGE);
  const kind = frames.kindOf(page, PAGE);
  if (kind === FrameKind.NONE) return refuse(Errno.ENOENT);
  const err = frames.take(page, PAGE, kind);
  if (err) return refuse(err);
  return giveMemory(env, page, 12, kind === FrameKind.RAM ? RAM_RIGHTS : DEVICE_RIGHTS, addr);
}

/** Sets the MRs of a reply that maps the I/O ports `[base, base + 2^order)`. */
function givePorts(env: ThreadEnv, base: number, order: number): Reply {
  const u = env.utcb;
  u.setMr(0, base);
  u.setMr(1, memMapControl(0));
  u.setMr(2, ioFpage(base, order, IO_RIGHTS));
  return msgtag(0, 1, 1);
}

/** The server loop: serve requests forever. */
function* serve(env: ThreadEnv): UserCode<never> {
  const kip = yield* env.kernelInterface();
  const frames = new FrameTable(kip.memory);
  const givenPorts = new Uint8Array(kip.ioPorts);
  let tag: number = yield env.wait();
  for (;;) {
    if (tagHasError(tag)) {
      // The last reply failed (its caller is gone, or the map did not fit), which ends
      // replyAndWait before its wait: there is no request to answer, so just wait.
      tag = yield env.wait();
      continue;
    }
    const label = tagLabel(tag);
    let reply: Reply;
    if (label === Proto.SIGMA0) {
      const fp = env.utcb.mr(1);
      if (
        env.utcb.mr(0) === Sigma0Op.FPAGE_IOMEM &&
        Number.isSafeInteger(fp) &&
        fpageType(fp) === FpageType.IO
      ) {
        reply = portsOnce(env, fp, givenPorts);
      } else {
        reply = request(env, frames);
      }
    } else if (label === Proto.PAGE_FAULT) {
      reply = pageFault(env, frames);
    } else if (label === Proto.IO_PAGE_FAULT) {
      // An I/O page fault: give the one port (MR0 is its I/O flexpage), once.
      reply = portsOnce(env, ioFpage(Math.floor(env.utcb.mr(0) / 4096), 0), givenPorts);
    } else {
      reply = refuse(Errno.EBADPROTO);
    }
    tag = yield env.replyAndWait(reply);
  }
}

/** Gives the ports of `fp` unless some were given before (each port goes once, too). */
function portsOnce(env: ThreadEnv, fp: number, given: Uint8Array): Reply {
  const base = fpageBase(fp);
  const order = fpageOrder(fp);
  const count = 2 ** order;
  if (order > 16 || base % count !== 0 || base + count > given.length) return refuse(Errno.EINVAL);
  for (let p = base; p < base + count; p++) if (given[p]) return refuse(Errno.EBUSY);
  given.fill(1, base, base + count);
  return givePorts(env, base, order);
}

/** The sigma0 program: run it as the first thread of the task created with `sigma0: true`. */
export const sigma0 = program(serve);
