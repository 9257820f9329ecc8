import { IpcError, memFpage, objFpage, type ThreadEnv, type UserCode } from '@pecan/kernel';

/** Where received fpages may land by default: the whole address space, as in L4 X.2. */
export const WHOLE_SPACE_WINDOW = memFpage(0, 63, 0);

const C = 99; // 'c'

/**
 * The receive windows (buffer registers) of one stub. Typed items land in windows in
 * order, one per item, so the stub arms one window per item position the next message
 * may carry: a free capability slot for a `c`, the memory window for an `f`.
 *
 * Slots that received a capability are handed to the program; the rest stay armed for
 * the next message, so a stub allocates slots only as capabilities arrive.
 */
export class ReceiveWindows {
  private readonly free: number[] = [];
  /** Per item position of the last armed set: the cap index armed there, or -1. */
  private readonly armed: number[] = [];
  private armedCount = 0;
  /** The UTCB's `brVersion` right after this object cleared BR0; -1 when it has not. */
  private clearedAt = -1;

  constructor(
    private readonly env: ThreadEnv,
    private readonly memoryWindow: number = WHOLE_SPACE_WINDOW,
  ) {}

  /** Sets the buffer registers for a message whose items have the kinds `kinds` (`"cf"`). */
  arm(kinds: string): void {
    const u = this.env.utcb;
    if (kinds.length === 0) {
      // The common case, a message without typed items: no window at all. BR0 is still
      // clear when no buffer register was written since this object cleared it.
      this.armedCount = 0;
      if (this.clearedAt === u.brVersion) return;
      u.setBr(0, 0);
      this.clearedAt = u.brVersion;
      return;
    }
    let next = 0;
    for (let i = 0; i < kinds.length; i++) {
      if (kinds.charCodeAt(i) === C) {
        let cap = this.free[next];
        if (cap === undefined) {
          cap = this.env.caps.alloc();
          this.free.push(cap);
        }
        next++;
        this.armed[i] = cap;
        u.setBr(i, objFpage(cap / 4096, 0, 0));
      } else {
        this.armed[i] = -1;
        u.setBr(i, this.memoryWindow);
      }
    }
    u.setBr(kinds.length, 0);
    this.armedCount = kinds.length;
  }

  /**
   * Records that a message with `items` typed items arrived: the capability windows it
   * used are now occupied. Returns how many capability slots that was.
   */
  landed(items: number): number {
    let used = 0;
    for (let i = 0; i < items && i < this.armedCount; i++) {
      const cap = this.armed[i]!;
      if (cap < 0) continue;
      const k = this.free.indexOf(cap);
      if (k >= 0) this.free.splice(k, 1);
      used++;
    }
    return used;
  }

  /**
   * After a receive that failed while mapping (message cut, map failed), some windows
   * may be occupied and the kernel does not say which: stop using all of them. The
   * slots leak, which beats a later sender failing on an occupied window.
   */
  failed(ipcError: number): void {
    // Only a failure while receiving touched our windows; a failed send did not.
    if (ipcError !== IpcError.REMSGCUT && ipcError !== IpcError.REMAPFAILED) return;
    for (let i = 0; i < this.armedCount; i++) {
      const cap = this.armed[i]!;
      const k = cap < 0 ? -1 : this.free.indexOf(cap);
      if (k >= 0) this.free.splice(k, 1);
    }
  }

  /**
   * Drops capabilities that arrived with a message that was then rejected, and makes
   * their slots receive windows again: a malformed request must not leak slots.
   */
  *release(items: number): UserCode {
    for (let i = 0; i < items && i < this.armedCount; i++) {
      const cap = this.armed[i]!;
      if (cap < 0) continue;
      yield* this.env.task.release(cap);
      if (!this.free.includes(cap)) this.free.push(cap);
    }
  }
}
