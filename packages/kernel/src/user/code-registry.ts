import type { EntryPoint } from './registers';

/** First code address handed out; page-aligned like a text segment. */
const TEXT_BASE = 0x40_0000;
/** Distance between entry points. */
const ENTRY_STRIDE = 0x10;

/**
 * The simulated text segment. A generator function has no numeric address, so each
 * entry point is registered once and gets one; instruction pointers (ex_regs,
 * exception frames) carry these addresses. Registration order fixes the addresses,
 * so a given system image always gets the same ones.
 */
export class CodeRegistry {
  private readonly byAddress = new Map<number, EntryPoint>();
  private readonly byFunction = new Map<EntryPoint, number>();
  private next = TEXT_BASE;

  /** The address of `entry`, registering it on first use. */
  addressOf(entry: EntryPoint): number {
    let addr = this.byFunction.get(entry);
    if (addr === undefined) {
      addr = this.next;
      this.next += ENTRY_STRIDE;
      this.byFunction.set(entry, addr);
      this.byAddress.set(addr, entry);
    }
    return addr;
  }

  /** The entry point at `address`, or undefined when nothing was registered there. */
  lookup(address: number): EntryPoint | undefined {
    return this.byAddress.get(address);
  }
}
