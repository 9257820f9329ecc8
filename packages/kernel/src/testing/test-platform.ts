import { FIASCO_AMD64_UTCB } from '../abi/utcb';
import type {
  CostModel,
  ExceptionCause,
  ExceptionState,
  Platform,
  WordSink,
  WordSource,
} from '../platform/platform';

/**
 * Exception numbers of the test platform's exception frame. Real back ends use their
 * CPU's encoding (x86 vectors, ARM ESR classes); this one keeps them abstract.
 */
export const TestTrap = { THROWN: 1, BAD_SYSCALL: 2, TRIGGERED: 3, INVALID_IP: 4 } as const;

/**
 * Word layout of the test platform's exception IPC:
 * MR0 trap number, MR1 error code, MR2 IP, MR3 SP, MR4 flags.
 * A handler's reply of 5 words writes IP, SP and flags back from MR2–MR4.
 */
export const TestExceptionMr = { TRAP: 0, CODE: 1, IP: 2, SP: 3, FLAGS: 4, WORDS: 5 } as const;

/** A cost model in the range of the published seL4 x86-64 figures. */
export const TEST_COSTS: CostModel = {
  kernelEntry: 100,
  ipc: 250,
  perWord: 2,
  perItem: 60,
  threadSwitch: 150,
  spaceSwitch: 120,
  kernelObjectOp: 80,
  exception: 400,
};

/** Options for {@link createTestPlatform}. */
export interface TestPlatformOptions {
  readonly cpuHz?: number;
  readonly timeSlice?: number;
  readonly cost?: Partial<CostModel>;
}

/**
 * A minimal, architecture-neutral platform for kernel tests and for unit-testing
 * user-level servers without a hardware back end: Fiasco's amd64 UTCB layout, a
 * 1 GHz clock (1000 cycles per µs, so timeouts come out in round numbers), generic
 * register names and an abstract exception frame.
 */
export function createTestPlatform(options: TestPlatformOptions = {}): Platform {
  return {
    name: 'test',
    arch: 'test64',
    wordBits: 64,
    utcbLayout: FIASCO_AMD64_UTCB,
    cpuHz: options.cpuHz ?? 1_000_000_000,
    defaultTimeSlice: options.timeSlice ?? 100_000,
    cost: { ...TEST_COSTS, ...options.cost },
    registers: {
      names: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'ip', 'sp', 'flags'],
      ip: 'ip',
      sp: 'sp',
      flags: 'flags',
      syscall: { capAndFlags: 'r0', tag: 'r1', timeouts: 'r2', label: 'r3' },
    },
    writeExceptionFrame(cause: ExceptionCause, state: ExceptionState, out: WordSink): number {
      const trap =
        cause.kind === 'thrown'
          ? TestTrap.THROWN
          : cause.kind === 'bad-syscall'
            ? TestTrap.BAD_SYSCALL
            : cause.kind === 'triggered'
              ? TestTrap.TRIGGERED
              : TestTrap.INVALID_IP;
      out.setWord(TestExceptionMr.TRAP, trap);
      out.setWord(TestExceptionMr.CODE, 0);
      out.setWord(TestExceptionMr.IP, state.ip);
      out.setWord(TestExceptionMr.SP, state.sp);
      out.setWord(TestExceptionMr.FLAGS, state.flags);
      return TestExceptionMr.WORDS;
    },
    readExceptionReply(words: number, reply: WordSource, state: ExceptionState): void {
      if (words < TestExceptionMr.WORDS) return;
      state.ip = reply.word(TestExceptionMr.IP);
      state.sp = reply.word(TestExceptionMr.SP);
      state.flags = reply.word(TestExceptionMr.FLAGS);
    },
  };
}
