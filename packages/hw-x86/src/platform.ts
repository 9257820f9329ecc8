import {
  type ClockOptions,
  type CostModel,
  type ExceptionCause,
  type ExceptionState,
  FIASCO_AMD64_UTCB,
  MemAccess,
  type MemoryRegion,
  type Platform,
  type PlatformMemory,
  type RegisterLayout,
  readRegisterFile,
  resolveClock,
  WalkFault,
  type WordSink,
  type WordSource,
  writeRegisterFile,
} from '@pecan/kernel';
import { createPcDevices, type PcDeviceOptions, type PcDevices } from './devices';
import { createPcInterruptController } from './interrupts/controller';
import { createPcRam, PC_DEFAULT_RAM_SIZE, pcMemoryMap } from './memory-map';
import { createX86PageTables, X86_USER_LIMIT } from './paging/x86-page-table';

/**
 * x86 exception vectors 0–19 (Intel SDM Vol. 3A, §6.3.1, "Exceptions and Interrupts";
 * vectors 9 and 15 are reserved). Only the ones Pecan raises are produced by the back
 * end (#UD, #BP, #GP, #PF); the rest are here so handlers can name what they decode.
 */
export const X86Vector = {
  /** Divide error. */
  DE: 0,
  /** Debug. */
  DB: 1,
  /** Non-maskable interrupt. */
  NMI: 2,
  /** Breakpoint (`int3`). */
  BP: 3,
  /** Overflow (`into`). */
  OF: 4,
  /** BOUND range exceeded. */
  BR: 5,
  /** Invalid opcode. */
  UD: 6,
  /** Device (FPU) not available. */
  NM: 7,
  /** Double fault. */
  DF: 8,
  /** Invalid TSS. */
  TS: 10,
  /** Segment not present. */
  NP: 11,
  /** Stack-segment fault. */
  SS: 12,
  /** General protection. */
  GP: 13,
  /** Page fault. */
  PF: 14,
  /** x87 floating-point error. */
  MF: 16,
  /** Alignment check. */
  AC: 17,
  /** Machine check. */
  MC: 18,
  /** SIMD floating-point exception. */
  XM: 19,
} as const;

const VECTOR_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(X86Vector).map(([k, v]) => [v, k === 'NMI' ? 'NMI' : `#${k}`]),
);

/** The mnemonic of an x86 exception vector (`'#UD'`, `'#PF'`, `'NMI'`), or `'vector N'`. */
export function x86VectorName(vector: number): string {
  return VECTOR_NAMES.get(vector) ?? `vector ${vector}`;
}

/**
 * Page-fault error-code bits (Intel SDM Vol. 3A, §4.7): P = the fault was a protection
 * violation (0: the page was not present), W = a write, U = a user-mode access,
 * RSVD = a reserved bit was set, I = an instruction fetch.
 */
export const X86PfError = { P: 0x1, W: 0x2, U: 0x4, RSVD: 0x8, I: 0x10 } as const;

/**
 * The RFLAGS a real user thread starts with: IF (bit 9) set and the always-one bit 1.
 * Pecan's kernel starts a thread's flags at 0 and the exception frame reports exactly
 * what the thread's state holds, so this is informational, for handlers and debuggers.
 */
export const X86_RFLAGS_USER_INITIAL = 0x202;

/**
 * Word layout of the x86-64 back end's exception IPC (label −5, a call to the thread's
 * exception handler). It is the `UserException` shape of seL4's fault messages and the
 * fields of Fiasco's trap state, reduced to what Pecan's threads have:
 *
 * | MR | field | contents |
 * | --- | --- | --- |
 * | 0 | `VECTOR` | trap number, an {@link X86Vector} |
 * | 1 | `ERROR_CODE` | the CPU's error code (0 for vectors without one) |
 * | 2 | `CR2` | the fault address of a #PF, 0 otherwise |
 * | 3 | `RIP` | instruction pointer at the fault |
 * | 4 | `RSP` | stack pointer |
 * | 5 | `RFLAGS` | flags |
 *
 * | 6 … 23 | `REGS` | the register file: RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8–R15, RIP, RFLAGS ({@link X86_REGISTERS} order) |
 *
 * A reply with label 0 and at least {@link X86ExceptionMr.WORDS} words writes RIP, RSP
 * and RFLAGS back from MR3–MR5 before the thread resumes; a shorter reply leaves them.
 * A reply of {@link X86ExceptionMr.FULL} words also writes the register file back (the
 * dedicated RIP/RSP/RFLAGS words win over their copies in it), as Fiasco's handlers
 * change a thread's trap state.
 */
export const X86ExceptionMr = {
  VECTOR: 0,
  ERROR_CODE: 1,
  CR2: 2,
  RIP: 3,
  RSP: 4,
  RFLAGS: 5,
  WORDS: 6,
  /** First word of the register file. */
  REGS: 6,
  /** Words of a full frame: the fixed words and the 18 registers. */
  FULL: 24,
} as const;

/** First canonical upper-half (kernel) address as a 64-bit value: 0xFFFF_8000_0000_0000. */
const KERNEL_HALF_START = 2 ** 64 - 2 ** 47;

/**
 * True when `address`, the numeric value of a 64-bit linear address, is canonical
 * (bits 63:47 all equal): an integer below 2^47, or one in [2^64 − 2^47, 2^64] (the top
 * of the upper half rounds to 2^64 as a double). Negative, fractional, NaN and infinite
 * values, and values above 2^64, are no 64-bit address and count as non-canonical.
 */
function isCanonical(address: number): boolean {
  return (
    (address >= 0 && address < X86_USER_LIMIT && Number.isInteger(address)) ||
    (address >= KERNEL_HALF_START && address <= 2 ** 64)
  );
}

/**
 * Vector, error code and CR2 the back end reports for each kind of {@link ExceptionCause}
 * (the table at {@link createX86Platform}).
 *
 * A `memory` cause is what the CPU would raise for the access: a non-canonical address
 * faults before paging as #GP(0) (Intel SDM Vol. 3A §6.15, "Interrupt 13"; a
 * general-protection fault reports no address, so CR2 is 0); every other one is a #PF
 * (§4.7) with CR2 = the address, U = 1 (user mode), W for a write, I for an instruction
 * fetch, and P = 0 for `NOT_MAPPED`, else 1: a `PROTECTION` fault, or a `BAD_ADDRESS`
 * at a canonical address, which is in the upper half (a user access to a present
 * supervisor page is a protection violation). `level` has no x86 encoding and is not
 * reported. The address is the numeric value of the 64-bit address: a kernel address
 * in the 48-bit form [2^47, 2^48) is non-canonical as a 64-bit value, reported as #GP.
 */
export function x86ExceptionCode(cause: ExceptionCause): { vector: number; errorCode: number; cr2: number } {
  switch (cause.kind) {
    // A thrown error or a yield that is no kernel entry is an instruction the CPU cannot
    // execute: #UD, which pushes no error code.
    case 'thrown':
    case 'bad-syscall':
      return { vector: X86Vector.UD, errorCode: 0, cr2: 0 };
    // ex_regs' trigger flag is "stop this thread and show it to its handler", what a
    // debugger does with `int3`: #BP, a trap without error code. (The same choice as BRK
    // on the AArch64 back end; Fiasco's own trigger path uses an internal trap number.)
    case 'triggered':
      return { vector: X86Vector.BP, errorCode: 0, cr2: 0 };
    // Running at an address with no code is an instruction fetch from a not-present page
    // in user mode: #PF with P=0, W=0, U=1, I=1 and CR2 = the address.
    case 'invalid-ip':
      return { vector: X86Vector.PF, errorCode: X86PfError.U | X86PfError.I, cr2: cause.ip };
    case 'memory': {
      const { address, access, fault } = cause;
      if (!isCanonical(address)) return { vector: X86Vector.GP, errorCode: 0, cr2: 0 };
      // P = 0 only for a page that is not there; a PROTECTION fault and a canonical
      // BAD_ADDRESS (a supervisor page to user code) are protection violations.
      const errorCode =
        X86PfError.U |
        (fault === WalkFault.NOT_MAPPED ? 0 : X86PfError.P) |
        ((access & MemAccess.WRITE) !== 0 ? X86PfError.W : 0) |
        ((access & MemAccess.EXEC) !== 0 ? X86PfError.I : 0);
      return { vector: X86Vector.PF, errorCode, cr2: address };
    }
    // `in`/`out` to a port the I/O permission bitmap denies: #GP(0) (SDM Vol. 1 §19.5.2).
    case 'io':
      return { vector: X86Vector.GP, errorCode: 0, cr2: 0 };
  }
}

/** An exception IPC frame decoded by {@link decodeX86Exception}. */
export interface X86ExceptionFrame {
  readonly vector: number;
  /** Mnemonic of {@link X86ExceptionFrame.vector}, e.g. `'#UD'`. */
  readonly name: string;
  readonly errorCode: number;
  readonly cr2: number;
  readonly rip: number;
  readonly rsp: number;
  readonly rflags: number;
}

/**
 * Decodes the words of an x86-64 exception IPC ({@link X86ExceptionMr}), from an array
 * of at least 6 words or from anything with `word(i)` (a handler's UTCB view).
 */
export function decodeX86Exception(words: readonly number[] | WordSource): X86ExceptionFrame {
  let w: (i: number) => number;
  if (Array.isArray(words)) {
    const arr = words as readonly number[];
    if (arr.length < X86ExceptionMr.WORDS) {
      throw new RangeError(`decodeX86Exception: need ${X86ExceptionMr.WORDS} words, got ${arr.length}`);
    }
    w = (i) => arr[i] ?? 0;
  } else {
    const src = words as WordSource;
    w = (i) => src.word(i);
  }
  const vector = w(X86ExceptionMr.VECTOR);
  return {
    vector,
    name: x86VectorName(vector),
    errorCode: w(X86ExceptionMr.ERROR_CODE),
    cr2: w(X86ExceptionMr.CR2),
    rip: w(X86ExceptionMr.RIP),
    rsp: w(X86ExceptionMr.RSP),
    rflags: w(X86ExceptionMr.RFLAGS),
  };
}

/**
 * The x86-64 register file: the 16 general-purpose registers, RIP and RFLAGS.
 *
 * The invoke ABI is Fiasco's amd64 `l4_ipc` (l4re-core,
 * `l4sys/include/ARCH-amd64/L4API-l4f/ipc.h`): `syscall` with RDX = capability index |
 * invoke flags, RAX = message tag in and result tag out, R8 = timeouts, and RSI = the
 * send label in and the received gate label out (RDI, RCX, R11 and R15 are clobbered).
 */
export const X86_REGISTERS: RegisterLayout = {
  names: [
    'RAX',
    'RBX',
    'RCX',
    'RDX',
    'RSI',
    'RDI',
    'RBP',
    'RSP',
    'R8',
    'R9',
    'R10',
    'R11',
    'R12',
    'R13',
    'R14',
    'R15',
    'RIP',
    'RFLAGS',
  ],
  ip: 'RIP',
  sp: 'RSP',
  flags: 'RFLAGS',
  syscall: { capAndFlags: 'RDX', tag: 'RAX', timeouts: 'R8', label: 'RSI' },
};

/**
 * Cycle costs of the x86-64 back end, calibrated against seL4's sel4bench figures on a
 * Skylake i7-6700 (reference facts, "Published IPC figures"): call 718 + reply 576 =
 * 1294 cycles for a null IPC round trip between two address spaces.
 *
 * The kernel's fastpath charges each direction of a null IPC between two tasks
 * `kernelEntry + ipc + threadSwitch + spaceSwitch` cycles, so:
 *
 * ```text
 * one way    = 100 (syscall + sysretq) + 227 (cap lookup, checks, rendezvous)
 *            + 140 (thread switch)     + 180 (CR3 write, TLB refill)   =  647
 * round trip = 2 × 647                                                 = 1294  (seL4: 718 + 576 = 1294)
 * ```
 *
 * The rest are in proportion: ~2 cycles per copied word (a `rep movsq` UTCB to UTCB),
 * 70 per typed item (a mapping-database update), 100 per kernel-object operation, and
 * 450 for an exception (IDT entry, trap frame, building the exception IPC). A TLB miss
 * costs 25 per page-table level the walker reads (4 for a 4 KiB page: each an L2 hit,
 * about 12 cycles on Skylake, plus the walker's own work), and an uncached device
 * register access 150 (an UC load or store round trip to the I/O hub).
 */
export const X86_COSTS: CostModel = {
  kernelEntry: 100,
  ipc: 227,
  perWord: 2,
  perItem: 70,
  threadSwitch: 140,
  spaceSwitch: 180,
  kernelObjectOp: 100,
  exception: 450,
  pageWalkLevel: 25,
  deviceAccess: 150,
};

/**
 * Number of I/O ports of a PC: the 16-bit port space of `in`/`out` (Intel SDM Vol. 1
 * §18.3, "I/O Address Space"). sigma0 holds them all at boot and maps them with I/O
 * flexpages.
 */
export const X86_IO_PORTS = 65_536;

/** Simulated core clock: 2 GHz (a round figure; Skylake desktop parts run 3–4 GHz). */
export const X86_DEFAULT_CPU_HZ = 2_000_000_000;

/** Default time slice in milliseconds: Fiasco's default round-robin quantum of 10 ms. */
export const X86_DEFAULT_TIME_SLICE_MS = 10;

/** Options for {@link createX86Platform}. */
export type X86PlatformOptions = ClockOptions &
  PcDeviceOptions & {
    /**
     * RAM size in bytes (default {@link PC_DEFAULT_RAM_SIZE}, 128 MiB): a multiple of
     * 4 KiB, above 1 MiB and at most `PC_MAX_LOW_RAM` (3.5 GiB). Anything else throws a
     * RangeError.
     */
    readonly ramSize?: number;
  };

/**
 * The x86-64 PC back end's {@link Platform}: Fiasco's amd64 UTCB layout, the real
 * register file ({@link X86_REGISTERS}), exceptions as x86 vectors with error code and
 * CR2 ({@link X86ExceptionMr}), the Skylake-calibrated {@link X86_COSTS}, the
 * {@link X86_IO_PORTS} I/O ports, and `memory`:
 * `ramSize` bytes of RAM at physical 0 ({@link createPcRam}), 4-level paging over it
 * ({@link createX86PageTables}) and the PC memory map ({@link pcMemoryMap}).
 *
 * | cause | vector | error code | CR2 |
 * | --- | --- | --- | --- |
 * | `thrown`, `bad-syscall` | #UD (6) | 0 | 0 |
 * | `triggered` (ex_regs) | #BP (3) | 0 | 0 |
 * | `invalid-ip` | #PF (14) | 0x14 (U, I; not present) | the IP |
 * | `memory`, any fault at a non-canonical address | #GP (13) | 0 | 0 |
 * | `memory`, `BAD_ADDRESS` at a canonical upper-half address | #PF (14) | 0x5 (P, U) + W 0x2 on a write, I 0x10 on a fetch | the address |
 * | `memory`, `NOT_MAPPED` | #PF (14) | 0x4 (U; not present) + W 0x2 on a write, I 0x10 on a fetch | the address |
 * | `memory`, `PROTECTION` | #PF (14) | 0x5 (P, U) + W 0x2 on a write, I 0x10 on a fetch | the address |
 */
export function createX86Platform(options: X86PlatformOptions = {}): Platform & PcDevices {
  const { cpuHz, defaultTimeSlice } = resolveClock(
    'createX86Platform',
    options,
    X86_DEFAULT_CPU_HZ,
    X86_DEFAULT_TIME_SLICE_MS,
  );
  const ramSize = options.ramSize ?? PC_DEFAULT_RAM_SIZE;
  // pcMemoryMap checks the size (a RangeError) before any RAM is allocated.
  const regions: readonly MemoryRegion[] = pcMemoryMap(ramSize);
  const ram = createPcRam(ramSize);
  const memory: PlatformMemory = { ram, pageTables: createX86PageTables(ram), regions };
  // Each platform object owns its controller and devices: one kernel per platform object.
  const interrupts = createPcInterruptController();
  const devices = createPcDevices(ram, interrupts, cpuHz, options);
  return {
    name: 'x86_64-pc',
    arch: 'x86_64',
    interrupts,
    bus: devices.bus,
    devices: devices.info,
    timer: devices.timer,
    hostEvents: devices.work,
    connectClock: devices.connectClock,
    uart: devices.uart,
    rtc: devices.rtc,
    virtio: devices.virtio,
    wordBits: 64,
    utcbLayout: FIASCO_AMD64_UTCB,
    cpuHz,
    defaultTimeSlice,
    cost: X86_COSTS,
    registers: X86_REGISTERS,
    memory,
    ioPorts: X86_IO_PORTS,
    writeExceptionFrame(cause: ExceptionCause, state: ExceptionState, out: WordSink): number {
      const { vector, errorCode, cr2 } = x86ExceptionCode(cause);
      out.setWord(X86ExceptionMr.VECTOR, vector);
      out.setWord(X86ExceptionMr.ERROR_CODE, errorCode);
      out.setWord(X86ExceptionMr.CR2, cr2);
      out.setWord(X86ExceptionMr.RIP, state.ip);
      out.setWord(X86ExceptionMr.RSP, state.sp);
      out.setWord(X86ExceptionMr.RFLAGS, state.flags);
      return writeRegisterFile(state.gprs, out, X86ExceptionMr.REGS);
    },
    readExceptionReply(words: number, reply: WordSource, state: ExceptionState): void {
      if (words < X86ExceptionMr.WORDS) return;
      if (words >= X86ExceptionMr.FULL) readRegisterFile(state.gprs, reply, X86ExceptionMr.REGS);
      state.ip = reply.word(X86ExceptionMr.RIP);
      state.sp = reply.word(X86ExceptionMr.RSP);
      state.flags = reply.word(X86ExceptionMr.RFLAGS);
    },
  };
}
