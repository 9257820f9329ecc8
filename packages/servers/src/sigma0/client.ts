/**
 * The client side of the sigma0 protocol, for pagers and root tasks:
 *
 * ```ts
 * const s0 = new Sigma0Client(env, capIndex(FixedSlot.PAGER));
 * const pa = yield* s0.any(12, 0x4000_0000); // any 4 KiB frame, mapped at 0x4000_0000
 * ```
 *
 * Each request maps what sigma0 gives at `dst` in the caller's address space (a receive
 * window of the requested size) and returns the physical address, or −errno (see
 * ./protocol.ts for the errors).
 */
import { ioFpage, memFpage, msgtag, Proto, type ThreadEnv, tagLabel, type UserCode } from '@pecan/kernel';
import { Sigma0Op } from './protocol';

export class Sigma0Client {
  constructor(
    private readonly env: ThreadEnv,
    /** Capability index of sigma0 (a gate to it, or its thread). */
    readonly cap: number,
  ) {}

  private *ask(op: number, fpage: number, window: number): UserCode<number> {
    const env = this.env;
    const u = env.utcb;
    u.setBr(0, window);
    u.setBr(1, 0);
    u.setMr(0, op);
    u.setMr(1, fpage);
    const tag = yield env.call(this.cap, msgtag(Proto.SIGMA0, 2));
    const err = env.error(tag);
    if (err < 0) return err;
    const label = tagLabel(tag);
    if (label < 0) return label;
    return u.mr(0);
  }

  /** Gives the RAM frame(s) `[pa, pa + 2^order)`, mapped at `dst`. */
  *frame(pa: number, order: number, dst: number): UserCode<number> {
    return yield* this.ask(Sigma0Op.FPAGE_RAM, memFpage(pa, order, 7), memFpage(dst, order, 0));
  }

  /** Gives any free, aligned block of 2^`order` bytes of RAM, mapped at `dst`. */
  *any(order: number, dst: number): UserCode<number> {
    return yield* this.ask(Sigma0Op.FPAGE_ANY, memFpage(0, order, 7), memFpage(dst, order, 0));
  }

  /** Gives the device registers `[pa, pa + 2^order)` as uncached memory, mapped at `dst`. */
  *mmio(pa: number, order: number, dst: number): UserCode<number> {
    return yield* this.ask(Sigma0Op.FPAGE_IOMEM, memFpage(pa, order, 6), memFpage(dst, order, 0));
  }

  /** Gives the I/O ports `[port, port + 2^order)` (x86 only); returns the first port. */
  *ports(port: number, order: number): UserCode<number> {
    return yield* this.ask(Sigma0Op.FPAGE_IOMEM, ioFpage(port, order), ioFpage(port, order));
  }
}
