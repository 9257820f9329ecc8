import type { Utcb } from '../abi/utcb';
import type { MemoryPort } from '../mem/memory-port';

/**
 * The registers a user thread loads before entering the kernel, and finds results in
 * afterwards: the invoke syscall ABI of brief §2. A back end names them after its
 * architecture's registers (see `Platform.registers.syscall`).
 */
export class SyscallRegisters {
  /** Capability index | invoke flags. */
  cap = 0;
  /** Message tag in; result tag out. */
  tag = 0;
  /** Send/receive timeouts word. */
  timeouts = 0;
  /** Out: label of the gate an open wait received through. */
  label = 0;
  /** Argument of the compute pseudo-instruction. */
  arg = 0;
  /** The virtual address of a memory access that missed the TLB (CR2 / FAR). */
  addr = 0;
  /** The {@link MemAccess} bit of that access. */
  access = 0;
  /** Its width in bytes (1, 2, 4 or 8) when it may reach a device register. */
  width = 1;
  /** The value a device access writes, or (out) the value it read. */
  value = 0;
}

/**
 * Everything a user thread can touch of its CPU: its registers and its UTCB, plus
 * the memory its task shares between threads. It is the only thing the kernel hands
 * to user code.
 */
export interface ThreadPort {
  readonly regs: SyscallRegisters;
  readonly utcb: Utcb;
  /** The task's own memory, shared by its threads (the libl4 runtime keeps state here). */
  readonly taskMemory: Record<string, unknown>;
  /** Capability index of this thread in its task. */
  readonly self: number;
  /** The load/store unit of the task's address space; null without memory. */
  readonly mem: MemoryPort | null;
  /** Where the kernel mapped the Kernel Interface Page (0 without memory). */
  readonly kipAddress: number;
  /** Virtual address of this thread's UTCB in its task (0 without memory). */
  readonly utcbAddress: number;
  /**
   * The code address of an entry point: the stand-in for the address a linker would
   * have given a function, for ex_regs and exception frames.
   */
  readonly addressOf: (entry: EntryPoint) => number;
}

/**
 * The token a thread yields to enter the kernel with the invoke syscall. The tokens are
 * registered symbols (`Symbol.for`), part of the kernel ABI like a trap number: a
 * program built against another copy of these bindings (a bundled system image, say)
 * enters the same kernel.
 */
export const SYSCALL: unique symbol = Symbol.for('pecan.syscall');
/** The token a thread yields to run `regs.arg` cycles of modelled user work. */
export const COMPUTE: unique symbol = Symbol.for('pecan.compute');
/**
 * The token a thread yields when a memory access missed the TLB: the kernel walks the
 * page table for `regs.addr` and `regs.access`, fills the TLB, or raises a page fault.
 * The access is retried when the thread resumes.
 */
export const MEMORY: unique symbol = Symbol.for('pecan.memory');
/**
 * The token a thread yields for an x86 `in`/`out`: port `regs.addr`, `regs.width`
 * bytes, `regs.access` READ (in) or WRITE (out) of `regs.value`.
 */
export const PORT_IO: unique symbol = Symbol.for('pecan.port-io');
/** What a user thread may yield. */
export type KernelEntry = typeof SYSCALL | typeof COMPUTE | typeof MEMORY | typeof PORT_IO;

/**
 * The value the kernel resumes a thread with after MEMORY or PORT_IO when it performed
 * the access itself (a device register): the result is in `regs.value`. 0 means "retry
 * through the TLB".
 */
export const ACCESS_DONE = 1;

/**
 * An entry point: what a code address in the CodeRegistry stands for. The kernel calls
 * it with the thread's port and the thread's stack pointer (the start argument).
 */
export type EntryPoint = (port: ThreadPort, arg: number) => Generator<KernelEntry, unknown, number>;
