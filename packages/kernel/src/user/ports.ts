/**
 * `env.io`: x86 `in` and `out` (brief §5). A port access is a CPU operation: it enters
 * the kernel only in the simulator, which checks the task's I/O space (the TSS I/O
 * bitmap on hardware) and performs the access on the device. A port the task has not
 * been given raises an I/O page fault (label −8) to its pager, whose reply maps an I/O
 * flexpage; the access is then retried. Without a pager it is #GP, as on hardware.
 *
 * ```ts
 * yield* env.io.out8(0x3f8, 0x41); // 'A' to COM1
 * const lsr = yield* env.io.in8(0x3fd);
 * ```
 */
import { MemAccess } from '../platform/page-table';
import type { UserCode } from './program';
import { ACCESS_DONE, PORT_IO, type SyscallRegisters } from './registers';

export class UserPorts {
  constructor(private readonly regs: SyscallRegisters) {}

  private *access(port: number, width: number, access: number, value: number): UserCode<number> {
    const r = this.regs;
    for (;;) {
      r.addr = port;
      r.width = width;
      r.access = access;
      r.value = value;
      if ((yield PORT_IO) === ACCESS_DONE) return r.value;
    }
  }

  *in8(port: number): UserCode<number> {
    return yield* this.access(port, 1, MemAccess.READ, 0);
  }
  *in16(port: number): UserCode<number> {
    return yield* this.access(port, 2, MemAccess.READ, 0);
  }
  *in32(port: number): UserCode<number> {
    return yield* this.access(port, 4, MemAccess.READ, 0);
  }
  *out8(port: number, value: number): UserCode<void> {
    yield* this.access(port, 1, MemAccess.WRITE, value & 0xff);
  }
  *out16(port: number, value: number): UserCode<void> {
    yield* this.access(port, 2, MemAccess.WRITE, value & 0xffff);
  }
  *out32(port: number, value: number): UserCode<void> {
    yield* this.access(port, 4, MemAccess.WRITE, value >>> 0);
  }
}
