import type { UtcbLayout } from '../abi/utcb';
import type { InterruptController } from './interrupts';
import type { PageTableFormat, PhysicalMemory } from './page-table';

/**
 * Cycles the kernel charges for its own work. A back end calibrates these so that a
 * null IPC call + reply lands near the published figures for its architecture
 * (reference facts, "Published IPC figures").
 */
export interface CostModel {
  /** Entering and leaving the kernel once (syscall + sysret / svc + eret). */
  readonly kernelEntry: number;
  /** The fixed part of one IPC rendezvous (lookup, checks, state changes). */
  readonly ipc: number;
  /** Each untyped message word copied. */
  readonly perWord: number;
  /** Each typed item (flexpage) transferred. */
  readonly perItem: number;
  /** Switching between threads. */
  readonly threadSwitch: number;
  /** Switching between address spaces, on top of {@link CostModel.threadSwitch}. */
  readonly spaceSwitch: number;
  /** Decoding and performing one kernel-object operation. */
  readonly kernelObjectOp: number;
  /** Raising an exception and building its IPC. */
  readonly exception: number;
  /**
   * Each page-table level read by a TLB miss's walk (the hardware walker's memory
   * accesses). Default 25.
   */
  readonly pageWalkLevel?: number;
  /** One uncached device register access (MMIO or I/O port). Default 100. */
  readonly deviceAccess?: number;
}

/** Which architectural registers play which role. Names are the architecture's own. */
export interface RegisterLayout {
  /** Every register of the user-visible register file, in the back end's order. */
  readonly names: readonly string[];
  readonly ip: string;
  readonly sp: string;
  readonly flags: string;
  /** The invoke syscall's register ABI (for traces, debuggers and the cost model). */
  readonly syscall: {
    /** Capability index | invoke flags. */
    readonly capAndFlags: string;
    /** Message tag in, result tag out. */
    readonly tag: string;
    /** Send/receive timeouts word. */
    readonly timeouts: string;
    /** Received gate label out. */
    readonly label: string;
  };
}

/** What made a thread raise an exception. */
export type ExceptionCause =
  /** The thread's generator threw. */
  | { readonly kind: 'thrown'; readonly error: unknown }
  /** The thread yielded something that is not a system-call token. */
  | { readonly kind: 'bad-syscall'; readonly value: unknown }
  /** An ex_regs with the trigger-exception flag. */
  | { readonly kind: 'triggered' }
  /** The thread's IP is not the address of any registered entry point. */
  | { readonly kind: 'invalid-ip'; readonly ip: number }
  /**
   * A memory access that no pager resolved, or that no pager may resolve: `fault` is
   * the {@link WalkFault} (a `BAD_ADDRESS` is a non-canonical or kernel address),
   * `access` the {@link MemAccess} bit of the access, `level` the translation level at
   * which the walk stopped (0 = the root table).
   */
  | {
      readonly kind: 'memory';
      readonly address: number;
      readonly access: number;
      readonly fault: number;
      readonly level: number;
    }
  /**
   * An I/O-port access (`in`/`out`, `access` READ or WRITE) to a port the task has
   * not been given, that no pager resolved: x86 raises #GP(0) for it.
   */
  | { readonly kind: 'io'; readonly port: number; readonly access: number };

/** A device as the boot info describes it. */
export interface DeviceInfo {
  /** Model name, e.g. `"ns16550a"`, `"pl011"`, `"virtio-mmio"`. */
  readonly name: string;
  /** Its register window in physical memory, if it has one. */
  readonly mmio?: { readonly base: number; readonly size: number };
  /** Its I/O ports (x86), if it has them. */
  readonly ports?: { readonly base: number; readonly count: number };
  /** The interrupt line it raises (GSI or INTID), or −1 for none. */
  readonly irq: number;
  /** For a virtio-mmio transport: the virtio device id behind it (2 = block), 0 if empty. */
  readonly virtioId?: number;
}

/** The timer the kernel preempts and times out on. */
export interface TimerInfo {
  /** e.g. `"lapic-timer"`, `"generic-timer"`. */
  readonly name: string;
  /** Its counting frequency in Hz. */
  readonly frequencyHz: number;
  /** Its interrupt: a LAPIC vector or a PPI INTID. */
  readonly irq: number;
}

/** Host-side work that completes asynchronously and then raises interrupts. */
export interface HostEvents {
  /** Number of pieces of work in flight. */
  readonly pending: number;
  /** Resolves once some work in flight has completed (and raised its interrupts). */
  settled(): Promise<void>;
}

/** Access width of a device register access, in bytes. */
export type BusWidth = 1 | 2 | 4 | 8;

/**
 * The machine's devices as a CPU reaches them: device memory by physical address, and
 * (x86) I/O ports by number. The back end routes each access to the device model that
 * decodes it. Values are unsigned, at most 2^53 − 1.
 */
export interface DeviceBus {
  /** Reads a device register; undefined when no device decodes `pa` (a bus error). */
  mmioRead(pa: number, width: BusWidth): number | undefined;
  /** Writes a device register; false when no device decodes `pa`. */
  mmioWrite(pa: number, width: BusWidth, value: number): boolean;
  /** `in` from an I/O port; undefined when no device decodes it. */
  portRead?(port: number, width: BusWidth): number | undefined;
  /** `out` to an I/O port; false when no device decodes it. */
  portWrite?(port: number, width: BusWidth, value: number): boolean;
}

/** One region of the machine's physical address space, as the boot info reports it. */
export interface MemoryRegion {
  /** Physical address of the first byte. */
  readonly base: number;
  /** Size in bytes. */
  readonly size: number;
  /** `ram`: usable RAM; `reserved`: RAM or address space nobody may use; `mmio`: device registers. */
  readonly kind: 'ram' | 'reserved' | 'mmio';
  /** What lives there, e.g. `"extended memory"` or `"PL011 UART"`. */
  readonly name: string;
}

/** The machine's memory: RAM, its page-table format and the physical memory map. */
export interface PlatformMemory {
  /** The RAM, one buffer at its physical address. */
  readonly ram: PhysicalMemory;
  /** The architecture's page-table format over {@link PlatformMemory.ram}. */
  readonly pageTables: PageTableFormat;
  /**
   * The physical memory map in address order: RAM, holes the firmware reserves, and
   * device MMIO windows. Every `ram` region lies inside {@link PlatformMemory.ram}.
   */
  readonly regions: readonly MemoryRegion[];
}

/** The architectural state that an exception frame reports and a handler may change. */
export interface ExceptionState {
  ip: number;
  sp: number;
  flags: number;
  /**
   * The whole register file, in {@link RegisterLayout.names} order. The kernel fills in
   * the syscall-ABI registers and IP/SP/flags before the frame is written; a back end
   * writes it after its fixed words and reads it back from a reply that long.
   */
  readonly gprs: Float64Array;
}

/** Writes message words of an exception IPC; the kernel provides it. */
export interface WordSink {
  setWord(index: number, value: number): void;
}

/** Reads message words of an exception reply; the kernel provides it. */
export interface WordSource {
  word(index: number): number;
}

/**
 * A hardware back end, as brief §5 describes it. The kernel reaches the machine only
 * through this interface; it never knows which architecture it runs on.
 * `docs/platforms.md` documents every member.
 */
export interface Platform {
  /** Short name of the machine, e.g. `"x86_64-pc"`. */
  readonly name: string;
  /** Architecture name, e.g. `"x86_64"` or `"aarch64"`. */
  readonly arch: string;
  /** Machine word width in bits. Both Pecan back ends are 64-bit. */
  readonly wordBits: 64;
  /** Where MRs, BRs and TCRs sit inside a UTCB. */
  readonly utcbLayout: UtcbLayout;
  /** CPU clock in Hz: converts virtual cycles to time for timeouts and traces. */
  readonly cpuHz: number;
  /** Default round-robin time slice in cycles. */
  readonly defaultTimeSlice: number;
  /** Cycles charged for kernel work. */
  readonly cost: CostModel;
  /** Register names and roles. */
  readonly registers: RegisterLayout;
  /**
   * Encodes an exception the way this CPU reports it (trap number / syndrome, error
   * code, registers) into message words, and returns how many words it wrote. The
   * layout is the architecture's documented exception-IPC layout.
   */
  writeExceptionFrame(cause: ExceptionCause, state: ExceptionState, out: WordSink): number;
  /**
   * Applies a handler's reply of `words` words to the thread's state (the handler may
   * change IP, SP and flags). Fewer words than a full frame leave the state as it was.
   */
  readExceptionReply(words: number, reply: WordSource, state: ExceptionState): void;
  /** The interrupt controller, when the machine has hardware interrupt lines. */
  readonly interrupts?: InterruptController;
  /**
   * RAM and page tables. A machine without them (the kernel's own test platform)
   * runs capabilities and IPC only: tasks have no address spaces, and UTCBs live in
   * kernel-private host memory.
   */
  readonly memory?: PlatformMemory;
  /**
   * Number of x86-style I/O ports (65,536 on a PC); absent or 0 on machines that reach
   * devices through MMIO only. I/O flexpages fail to map without them.
   */
  readonly ioPorts?: number;
  /** The devices user-level drivers reach through mapped MMIO and I/O ports. */
  readonly bus?: DeviceBus;
  /** What the boot info reports about each device, for drivers to discover them. */
  readonly devices?: readonly DeviceInfo[];
  /** The timer the kernel schedules on (LAPIC timer, generic timer). */
  readonly timer?: TimerInfo;
  /**
   * Host-side work in flight (a disk backed by a file): when every thread is blocked,
   * {@link Kernel.runAsync} waits for it the way a CPU halts until an interrupt.
   */
  readonly hostEvents?: HostEvents;
  /**
   * Called once by the kernel with a reader of virtual time in cycles, for devices that
   * keep time (RTCs): the machine's clocks follow the kernel's, so runs stay
   * deterministic.
   */
  connectClock?(cycles: () => number): void;
}
