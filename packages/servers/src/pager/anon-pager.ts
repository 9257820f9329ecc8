/**
 * A pager for anonymous memory, the smallest useful pager above sigma0: every page a
 * client touches for the first time is backed by a fresh frame that the pager gets from
 * sigma0 ("give any frame"), maps into its own window, and maps on to the client. Its
 * own mapping is the parent of the client's, so unmapping it in the pager revokes the
 * client's too: L4's recursive address spaces in thirty lines.
 *
 * Protocol: it answers page faults (label −2) with one map item for the faulting page;
 * anything else it declines with label −EBADPROTO, and a fault it cannot back (sigma0
 * has no frame left) with −ENOMEM, which the kernel turns into an exception of the
 * faulting thread.
 *
 * Its own pager capability (slot 4) must reach sigma0 (see `attachSigma0`).
 */
import {
  capIndex,
  Errno,
  FixedSlot,
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
import { Sigma0Client } from '../sigma0/client';

/** Where in its own address space the pager keeps the frames it hands out. */
export const ANON_PAGER_WINDOW = 0x10_0000_0000;

const PAGE = 4096;

/** Options for {@link serveAnonMemory}. */
export interface AnonMemoryOptions {
  /** Where the pager keeps the frames in its own space (default {@link ANON_PAGER_WINDOW}). */
  readonly window?: number;
  /**
   * Asked before each new page with the label of the gate the fault came through (a
   * client): false declines the fault with −ENOMEM. A loader uses it for RAM quotas.
   */
  readonly admit?: (label: number) => boolean;
}

/**
 * Serves anonymous memory: the loop of {@link anonPager}, for a thread that also keeps
 * per-client policy (see {@link AnonMemoryOptions.admit}).
 */
export function* serveAnonMemory(env: ThreadEnv, options: AnonMemoryOptions = {}): UserCode<never> {
  const sigma0 = new Sigma0Client(env, capIndex(FixedSlot.PAGER));
  let window = options.window ?? ANON_PAGER_WINDOW;
  let tag: number = yield env.wait();
  for (;;) {
    if (tagHasError(tag)) {
      // A failed reply ends replyAndWait before its wait: nothing to answer, so wait.
      tag = yield env.wait();
      continue;
    }
    let reply = msgtag(-Errno.EBADPROTO, 0);
    if (tagLabel(tag) === Proto.PAGE_FAULT) {
      const fault = env.utcb.mr(0);
      const pa = options.admit && !options.admit(env.label) ? -Errno.ENOMEM : yield* sigma0.any(12, window);
      if (pa < 0) {
        reply = msgtag(-Errno.ENOMEM, 0);
      } else {
        env.utcb.setMr(0, memMapControl(fault));
        env.utcb.setMr(1, memFpage(window, 12, MemRights.RW));
        reply = msgtag(0, 0, 1);
        window += PAGE;
      }
    }
    tag = yield env.replyAndWait(reply);
  }
}

/** The anonymous-memory pager program; see the module notes. */
export const anonPager = program((env) => serveAnonMemory(env));
