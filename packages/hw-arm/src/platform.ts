import {
  type ClockOptions,
  type CostModel,
  type ExceptionCause,
  type ExceptionState,
  FIASCO_AMD64_UTCB,
  MemAccess,
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
import { createVirtDevices, type VirtDeviceOptions, type VirtDevices } from './devices';
import { createGicInterruptController } from './gic/controller';
import { createVirtRam, VIRT_RAM_DEFAULT_SIZE, virtMemoryMap } from './memory-map';
import { createArmPageTables } from './mmu/arm-page-table';

/**
 * ESR_EL1 exception classes (EC, bits 31:26) that an EL0 thread can cause, as the Arm
 * ARM (DDI 0487, "ESR_EL1, Exception Syndrome Register (EL1)") numbers them — the same
 * values as Linux's `arch/arm64/include/asm/esr.h`. `_LOW` means "from a lower
 * exception level" (EL0 here), `_CUR` "taken without a change in exception level".
 * The back end produces UNKNOWN, IABT_LOW, DABT_LOW and BRK64.
 */
export const ArmEc = {
  /** Unknown reason: an undefined or unallocated instruction. */
  UNKNOWN: 0x00,
  /** Trapped WFI or WFE. */
  WFX: 0x01,
  /** Access to SVE, Advanced SIMD or floating point trapped by CPACR_EL1. */
  FP_ASIMD: 0x07,
  /** Branch Target Identification. */
  BTI: 0x0d,
  /** Illegal execution state. */
  ILL: 0x0e,
  /** SVC instruction in AArch64 state: a system call. */
  SVC64: 0x15,
  /** Trapped MSR, MRS or system instruction in AArch64 state. */
  SYS64: 0x18,
  /** Access to SVE trapped. */
  SVE: 0x19,
  /** Instruction abort from a lower exception level. */
  IABT_LOW: 0x20,
  /** Instruction abort without a change in exception level. */
  IABT_CUR: 0x21,
  /** PC alignment fault. */
  PC_ALIGN: 0x22,
  /** Data abort from a lower exception level. */
  DABT_LOW: 0x24,
  /** Data abort without a change in exception level. */
  DABT_CUR: 0x25,
  /** SP alignment fault. */
  SP_ALIGN: 0x26,
  /** Trapped floating-point exception, AArch64. */
  FP_EXC64: 0x2c,
  /** SError interrupt. */
  SERROR: 0x2f,
  /** Breakpoint exception from a lower exception level. */
  BREAKPT_LOW: 0x30,
  /** Breakpoint exception without a change in exception level. */
  BREAKPT_CUR: 0x31,
  /** Software step from a lower exception level. */
  SOFTSTP_LOW: 0x32,
  /** Software step without a change in exception level. */
  SOFTSTP_CUR: 0x33,
  /** Watchpoint from a lower exception level. */
  WATCHPT_LOW: 0x34,
  /** Watchpoint without a change in exception level. */
  WATCHPT_CUR: 0x35,
  /** BRK instruction in AArch64 state. */
  BRK64: 0x3c,
} as const;

const EC_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ArmEc).map(([k, v]) => [v, k]));

/** The name of an exception class (`'UNKNOWN'`, `'IABT_LOW'`, …), or `'EC 0xNN'`. */
export function armEcName(ec: number): string {
  return EC_NAMES.get(ec) ?? `EC 0x${ec.toString(16).padStart(2, '0')}`;
}

/**
 * Fault status codes of the IFSC/DFSC field (ISS bits 5:0) of instruction and data
 * aborts (DDI 0487, ESR_EL1, "ISS encoding for an exception from an Instruction Abort"
 * and "... from a Data Abort"): translation (0b0001LL), access-flag (0b0010LL) and
 * permission (0b0011LL) faults at lookup level LL (add the level 0–3 to the base code;
 * there is no level-0 access-flag or permission fault with a 4 KiB granule and 48-bit
 * VA, since no leaf lives at level 0).
 */
export const ArmFsc = {
  /** Translation fault, level 0; `+ n` for level n. */
  TRANSLATION: 0x04,
  /** Access flag fault, level 0; `+ n` for level n. */
  ACCESS_FLAG: 0x08,
  /** Permission fault, level 0; `+ n` for level n. */
  PERMISSION: 0x0c,
} as const;

/** ESR bit positions: EC 31:26, IL 25 (32-bit instruction), ISS 24:0. */
export const Esr = { EC_SHIFT: 26, IL: 1 << 25, ISS_MASK: 0x1ff_ffff } as const;

/**
 * Fields of the ISS of an instruction or data abort that the back end sets (DDI 0487,
 * ESR_EL1, "ISS encoding for an exception from a Data Abort" / "... from an
 * Instruction Abort"). Everything else it leaves 0: ISV = 0 (no instruction syndrome),
 * FnV = 0 (FAR is valid), EA = 0, CM = 0, S1PTW = 0 (not on a stage-2 walk).
 */
export const ArmAbortIss = {
  /** IFSC/DFSC, bits 5:0: the fault status code, an {@link ArmFsc} + level. */
  FSC_MASK: 0x3f,
  /** WnR, bit 6 of a data abort: 1 when a write caused it (RES0 for instruction aborts). */
  WNR: 1 << 6,
} as const;

/** Lowest address of the TTBR1_EL1 (kernel) range with 48-bit VAs: 2^64 − 2^48 (bits 63:48 all ones). */
const TTBR1_BASE = 2 ** 64 - 2 ** 48;

/** `level` as a lookup level in [lo, 3] (an integer; anything else is `lo`). */
function clampLevel(level: number, lo: number): number {
  return Number.isInteger(level) ? Math.min(Math.max(level, lo), 3) : lo;
}

/**
 * The syndrome of a `memory` exception: an instruction abort (EC 0x20) for an
 * instruction fetch, a data abort (EC 0x24, WnR on a write) for anything else, both
 * from EL0 with IL = 1, and FAR_EL1 = the faulting address.
 *
 * The fault status code (IFSC/DFSC, ISS bits 5:0; DDI 0487, ESR_EL1, "ISS encoding for
 * an exception from a Data Abort" and "... from an Instruction Abort"):
 * - `NOT_MAPPED` (and any unknown `fault`): translation fault at `level` (0b0001LL).
 * - `PROTECTION`: permission fault at `level` (0b0011LL), level clamped to 1–3 (the
 *   leaves that carry permissions live at levels 1–3).
 * - `BAD_ADDRESS` of the kernel half (bits 63:48 all ones, [2^64 − 2^48, 2^64)): a
 *   TTBR1_EL1 address that exists but that EL0 may not touch (AP[1] = 0 on kernel
 *   leaves): permission fault at `level` clamped to 1–3.
 * - `BAD_ADDRESS` otherwise (bits 63:48 neither all zeros nor all ones, i.e. outside
 *   both the TTBR0 and the TTBR1 range; or not a 64-bit address at all: negative, NaN,
 *   a fraction, ≥ 2^64): translation fault at level 0, which is how the MMU reports a
 *   VA outside the range of both TTBRn (DDI 0487 D5.2, D8.2 in issue I and later, the
 *   VMSAv8-64 translation process: a VA outside the TTBR0 and TTBR1 ranges generates a Translation fault
 *   reported at level 0, before any table is read).
 *
 * A kernel with FEAT_E0PD (TCR_EL1.E0PD1 = 1) would report EL0 accesses to the kernel
 * half as level-0 translation faults too; Pecan reports what a kernel without it sees
 * for a kernel page, whose AP[1] = 0 denies EL0: a permission fault.
 *
 * FAR is the address rounded down to an integer, 0 when it is not a 64-bit address
 * (negative, NaN, ≥ 2^64).
 */
function memoryAbortSyndrome(address: number, access: number, fault: number, level: number) {
  const far = address >= 0 && address < 2 ** 64 ? Math.floor(address) : 0;
  let fsc: number;
  if (fault === WalkFault.PROTECTION) {
    fsc = ArmFsc.PERMISSION + clampLevel(level, 1);
  } else if (fault === WalkFault.BAD_ADDRESS) {
    const kernelHalf = address >= TTBR1_BASE && address < 2 ** 64;
    fsc = kernelHalf ? ArmFsc.PERMISSION + clampLevel(level, 1) : ArmFsc.TRANSLATION;
  } else {
    fsc = ArmFsc.TRANSLATION + clampLevel(level, 0);
  }
  if ((access & MemAccess.EXEC) !== 0) return { esr: encodeEsr(ArmEc.IABT_LOW, fsc), far };
  const wnr = (access & MemAccess.WRITE) !== 0 ? ArmAbortIss.WNR : 0;
  return { esr: encodeEsr(ArmEc.DABT_LOW, fsc | wnr), far };
}

/** Builds an ESR_EL1 value from its fields; the result is an unsigned 32-bit number. */
export function encodeEsr(ec: number, iss: number, il = true): number {
  return ((ec & 0x3f) * 2 ** Esr.EC_SHIFT + (il ? Esr.IL : 0) + (iss & Esr.ISS_MASK)) >>> 0;
}

/**
 * Word layout of the AArch64 back end's exception IPC (label −5, a call to the thread's
 * exception handler): the syndrome the CPU leaves in ESR_EL1 and FAR_EL1, and the
 * return state (ELR_EL1, SP_EL0, SPSR_EL1):
 *
 * | MR | field | contents |
 * | --- | --- | --- |
 * | 0 | `ESR` | ESR_EL1: EC (31:26), IL (25), ISS (24:0) |
 * | 1 | `FAR` | FAR_EL1: the faulting address of an abort, 0 otherwise |
 * | 2 | `PC` | the thread's PC (ELR_EL1) |
 * | 3 | `SP` | the thread's SP (SP_EL0) |
 * | 4 | `PSTATE` | the thread's PSTATE (SPSR_EL1) |
 *
 * A reply with label 0 and at least {@link ArmExceptionMr.WORDS} words writes PC, SP
 * and PSTATE back from MR2–MR4 before the thread resumes; a shorter reply leaves them.
 * (The kernel starts threads with PSTATE 0, which is EL0t with all interrupts unmasked.)
 */
export const ArmExceptionMr = {
  ESR: 0,
  FAR: 1,
  PC: 2,
  SP: 3,
  PSTATE: 4,
  WORDS: 5,
  /** First word of the register file (X0–X30, SP, PC, PSTATE). */
  REGS: 5,
  /** Words of a full frame: the fixed words and the 34 registers. */
  FULL: 39,
} as const;

/** ESR and FAR the back end reports for each kind of {@link ExceptionCause}. */
export function armExceptionSyndrome(cause: ExceptionCause): { esr: number; far: number } {
  switch (cause.kind) {
    // A thrown error or a yield that is no kernel entry is an instruction the CPU cannot
    // execute: EC 0 "Unknown reason", ISS 0; IL is RES1 for this class.
    case 'thrown':
    case 'bad-syscall':
      return { esr: encodeEsr(ArmEc.UNKNOWN, 0), far: 0 };
    // ex_regs' trigger flag is "stop this thread and show it to its handler", what a
    // debugger does with `brk #0`: EC 0x3C, ISS = the BRK immediate (0). Fiasco itself
    // reports its triggered exceptions with the unallocated class 0x3E; Pecan uses the
    // architectural BRK so that any AArch64 decoder understands the frame.
    case 'triggered':
      return { esr: encodeEsr(ArmEc.BRK64, 0), far: 0 };
    // Running at an address with no code is an instruction fetch that finds no mapping:
    // an instruction abort from EL0 with IFSC = translation fault, level 3, FAR = the IP.
    case 'invalid-ip':
      return { esr: encodeEsr(ArmEc.IABT_LOW, ArmFsc.TRANSLATION + 3), far: cause.ip };
    // A memory access no pager resolved: the abort the MMU would raise for it.
    case 'memory':
      return memoryAbortSyndrome(cause.address, cause.access, cause.fault, cause.level);
    // AArch64 has no I/O-port instructions: a port access is an instruction it cannot
    // execute, "Unknown reason" like any undefined instruction.
    case 'io':
      return { esr: encodeEsr(ArmEc.UNKNOWN, 0), far: 0 };
  }
}

/** An exception IPC frame decoded by {@link decodeArmException}. */
export interface ArmExceptionFrame {
  /** Exception class, an {@link ArmEc}. */
  readonly ec: number;
  /** Name of {@link ArmExceptionFrame.ec}, e.g. `'IABT_LOW'`. */
  readonly ecName: string;
  /** Instruction-length bit: true for a 32-bit instruction (always, in AArch64). */
  readonly il: boolean;
  /** Instruction-specific syndrome, ESR bits 24:0. */
  readonly iss: number;
  readonly esr: number;
  readonly far: number;
  readonly pc: number;
  readonly sp: number;
  readonly pstate: number;
}

/**
 * Decodes the words of an AArch64 exception IPC ({@link ArmExceptionMr}), from an array
 * of at least 5 words or from anything with `word(i)` (a handler's UTCB view).
 */
export function decodeArmException(words: readonly number[] | WordSource): ArmExceptionFrame {
  let w: (i: number) => number;
  if (Array.isArray(words)) {
    const arr = words as readonly number[];
    if (arr.length < ArmExceptionMr.WORDS) {
      throw new RangeError(`decodeArmException: need ${ArmExceptionMr.WORDS} words, got ${arr.length}`);
    }
    w = (i) => arr[i] ?? 0;
  } else {
    const src = words as WordSource;
    w = (i) => src.word(i);
  }
  const esr = w(ArmExceptionMr.ESR) >>> 0;
  const ec = esr >>> Esr.EC_SHIFT;
  return {
    ec,
    ecName: armEcName(ec),
    il: (esr & Esr.IL) !== 0,
    iss: esr & Esr.ISS_MASK,
    esr,
    far: w(ArmExceptionMr.FAR),
    pc: w(ArmExceptionMr.PC),
    sp: w(ArmExceptionMr.SP),
    pstate: w(ArmExceptionMr.PSTATE),
  };
}

/**
 * The AArch64 register file: X0–X30 (X30 is the link register), SP, PC and PSTATE.
 *
 * The invoke ABI is Fiasco's arm64 `l4_ipc` (l4re-core,
 * `l4sys/include/ARCH-arm64/L4API-l4f/ipc.h`): it calls `__l4_sys_syscall(tag, slabel,
 * dest | flags, timeout)`, an `svc #0` stub, so by the AAPCS64 X0 = message tag in and
 * result tag out, X1 = the send label in and the received gate label out, X2 =
 * capability index | invoke flags, and X3 = timeouts.
 */
export const ARM_REGISTERS: RegisterLayout = {
  names: [...Array.from({ length: 31 }, (_, i) => `X${i}`), 'SP', 'PC', 'PSTATE'],
  ip: 'PC',
  sp: 'SP',
  flags: 'PSTATE',
  syscall: { capAndFlags: 'X2', tag: 'X0', timeouts: 'X3', label: 'X1' },
};

/**
 * Cycle costs of the AArch64 back end, calibrated against seL4's sel4bench figures on a
 * Cortex-A57 (reference facts, "Published IPC figures"): call 413 + reply 426 = 839
 * cycles for a null IPC round trip between two address spaces.
 *
 * The kernel's fastpath charges each direction of a null IPC between two tasks
 * `kernelEntry + ipc + threadSwitch + spaceSwitch` cycles, so:
 *
 * ```text
 * one way    = 60 (svc + eret) + 180 (cap lookup, checks, rendezvous)
 *            + 90 (thread switch) + 90 (TTBR0_EL1 write with ASID, isb)  = 420
 * round trip = 2 × 420                                                   = 840  (seL4: 413 + 426 = 839, +0.1 %)
 * ```
 *
 * The rest are in proportion: ~2 cycles per copied word (`ldp`/`stp` pairs), 60 per
 * typed item, 80 per kernel-object operation, and 300 for an exception (vector entry,
 * saving the frame, building the exception IPC). A TLB miss costs 20 per translation
 * level the table walker reads, and a Device-nGnRE register access 100 (the A57's
 * uncached load-to-use over the interconnect).
 */
export const ARM_COSTS: CostModel = {
  kernelEntry: 60,
  ipc: 180,
  perWord: 2,
  perItem: 60,
  threadSwitch: 90,
  spaceSwitch: 90,
  kernelObjectOp: 80,
  exception: 300,
  pageWalkLevel: 20,
  deviceAccess: 100,
};

/**
 * Simulated core clock: 1 GHz. QEMU's `virt` machine defines no CPU clock (TCG runs as
 * fast as the host); 1 GHz is a round figure at the low end of Cortex-A57 parts. The
 * generic timer's 62.5 MHz (CNTFRQ_EL0 under QEMU) is the timer's counter rate, not
 * the core clock.
 */
export const ARM_DEFAULT_CPU_HZ = 1_000_000_000;

/** Default time slice in milliseconds: Fiasco's default round-robin quantum of 10 ms. */
export const ARM_DEFAULT_TIME_SLICE_MS = 10;

/** Options for {@link createArmPlatform}. */
export interface ArmPlatformOptions extends ClockOptions, VirtDeviceOptions {
  /**
   * RAM size in bytes: a positive multiple of 4 KiB, at most `VIRT_RAM_MAX_SIZE`
   * (255 GiB). Defaults to `VIRT_RAM_DEFAULT_SIZE` (128 MiB, QEMU's default `-m`).
   */
  readonly ramSize?: number;
}

/**
 * The AArch64 `virt` back end's {@link Platform}: Fiasco's UTCB layout (64-bit words,
 * the same as amd64), the real register file ({@link ARM_REGISTERS}), exceptions as
 * ESR_EL1/FAR_EL1 syndromes ({@link ArmExceptionMr}), and the Cortex-A57-calibrated
 * {@link ARM_COSTS}.
 *
 * | cause | ESR_EL1 | EC | ISS | FAR |
 * | --- | --- | --- | --- | --- |
 * | `thrown`, `bad-syscall` | 0x0200_0000 | UNKNOWN (0x00) | 0 | 0 |
 * | `triggered` (ex_regs) | 0xF200_0000 | BRK64 (0x3C) | 0 (`brk #0`) | 0 |
 * | `invalid-ip` | 0x8200_0007 | IABT_LOW (0x20) | IFSC 0b000111 (translation, level 3) | the IP |
 * | `memory`, NOT_MAPPED at level L, read | 0x9200_0004 + L | DABT_LOW (0x24) | DFSC 0b0001LL (translation, level L) | the address |
 * | `memory`, NOT_MAPPED at level L, write | 0x9200_0044 + L | DABT_LOW (0x24) | WnR, DFSC 0b0001LL | the address |
 * | `memory`, NOT_MAPPED at level L, execute | 0x8200_0004 + L | IABT_LOW (0x20) | IFSC 0b0001LL | the address |
 * | `memory`, PROTECTION at level L (1–3) | 0x9200_000C + L (write: + 0x40; execute: 0x8200_000C + L) | DABT_LOW / IABT_LOW | FSC 0b0011LL (permission, level L) | the address |
 * | `memory`, BAD_ADDRESS in the kernel half (≥ 2^64 − 2^48) | as PROTECTION, level clamped to 1–3 | DABT_LOW / IABT_LOW | FSC 0b0011LL (permission) | the address |
 * | `memory`, BAD_ADDRESS otherwise (non-canonical, negative, NaN) | 0x9200_0004 (write: 0x9200_0044; execute: 0x8200_0004) | DABT_LOW / IABT_LOW | FSC 0b000100 (translation, level 0) | the address (0 when negative, NaN or ≥ 2^64) |
 *
 * `memory` holds the machine's RAM ({@link ArmPlatformOptions.ramSize} bytes at
 * 0x4000_0000), the AArch64 stage-1 page-table format over it
 * ({@link createArmPageTables}), and the `virt` physical memory map
 * ({@link virtMemoryMap}).
 *
 * @throws RangeError for a bad clock option or RAM size.
 */
export function createArmPlatform(options: ArmPlatformOptions = {}): Platform & VirtDevices {
  const { cpuHz, defaultTimeSlice } = resolveClock(
    'createArmPlatform',
    options,
    ARM_DEFAULT_CPU_HZ,
    ARM_DEFAULT_TIME_SLICE_MS,
  );
  const ramSize = options.ramSize ?? VIRT_RAM_DEFAULT_SIZE;
  const regions = virtMemoryMap(ramSize); // validates ramSize before anything is allocated
  const ram = createVirtRam(ramSize);
  const memory: PlatformMemory = { ram, pageTables: createArmPageTables(ram), regions };
  // Each platform object owns its controller and devices: one kernel per platform object.
  const interrupts = createGicInterruptController();
  const devices = createVirtDevices(ram, interrupts, cpuHz, options);
  return {
    name: 'aarch64-virt',
    arch: 'aarch64',
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
    cost: ARM_COSTS,
    registers: ARM_REGISTERS,
    memory,
    writeExceptionFrame(cause: ExceptionCause, state: ExceptionState, out: WordSink): number {
      const { esr, far } = armExceptionSyndrome(cause);
      out.setWord(ArmExceptionMr.ESR, esr);
      out.setWord(ArmExceptionMr.FAR, far);
      out.setWord(ArmExceptionMr.PC, state.ip);
      out.setWord(ArmExceptionMr.SP, state.sp);
      out.setWord(ArmExceptionMr.PSTATE, state.flags);
      return writeRegisterFile(state.gprs, out, ArmExceptionMr.REGS);
    },
    readExceptionReply(words: number, reply: WordSource, state: ExceptionState): void {
      if (words < ArmExceptionMr.WORDS) return;
      if (words >= ArmExceptionMr.FULL) readRegisterFile(state.gprs, reply, ArmExceptionMr.REGS);
      state.ip = reply.word(ArmExceptionMr.PC);
      state.sp = reply.word(ArmExceptionMr.SP);
      state.flags = reply.word(ArmExceptionMr.PSTATE);
    },
  };
}
