import createDebug from 'debug';

/**
 * Diagnostics namespaces (enable with `DEBUG=pecan:*`). `debug`'s `enabled` is a
 * getter; hot paths read the kernel's cached flags ({@link debugFlags}) instead.
 */
export const dbg = {
  ipc: createDebug('pecan:ipc'),
  sched: createDebug('pecan:sched'),
  exc: createDebug('pecan:exc'),
  obj: createDebug('pecan:obj'),
  log: createDebug('pecan:log'),
} as const;

/** Which namespaces are enabled, read once (the kernel caches this at construction). */
export function debugFlags(): { ipc: boolean; sched: boolean } {
  return { ipc: dbg.ipc.enabled, sched: dbg.sched.enabled };
}
