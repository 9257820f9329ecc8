/**
 * System descriptions: what `pecan run` boots, in the role of L4Re's ned scripts,
 * Genode's init configuration and CAmkES assemblies (brief §6). A description is a
 * plain object — written with {@link defineSystem} in TypeScript for types, or as the
 * same structure in a JSON file — and is validated as a whole before anything boots
 * (see ./validate.ts).
 *
 * ```ts
 * export default defineSystem({
 *   machine: { arch: 'x86_64', ram: '64M' },
 *   programs: {
 *     server: { module: './server.ts', serves: ['squares'] },
 *     client: { module: './client.ts', caps: { squares: { gate: 'server/squares' } } },
 *   },
 * });
 * ```
 */

/** An amount of memory: bytes, or a string with a K, M or G suffix (`'64M'`). */
export type MemorySize = number | string;

/** Architectures a system can name. */
export type Architecture = 'x86_64' | 'aarch64';

/** A disk behind a virtio-blk device. */
export interface DiskDescription {
  /** A host file holding the disk image (created with `size` if missing). */
  readonly file?: string;
  /** Size of a new or in-memory disk. */
  readonly size?: MemorySize;
  readonly readOnly?: boolean;
}

/**
 * The host side of the machine's console UART. Output goes to `sink`: standard output
 * (the default), nowhere, or a file. Input comes from `source`: standard input, nothing
 * (the default), a file's bytes, or the given text. Input from a file or text arrives
 * whenever the system has nothing left to do, as much as the UART's receiver takes at
 * a time, so a run with it is as deterministic as one without.
 */
export interface ConsoleDescription {
  readonly sink?: 'stdout' | 'none' | { readonly file: string };
  readonly source?: 'stdin' | 'none' | { readonly file: string } | { readonly text: string };
}

/** The machine a system runs on. */
export interface MachineDescription {
  readonly arch: Architecture;
  /** RAM size (default 128M). */
  readonly ram?: MemorySize;
  /** Number of CPUs (default 1). */
  readonly cpus?: number;
  /** Where the console UART's output goes and its input comes from. */
  readonly console?: ConsoleDescription;
  readonly disks?: readonly DiskDescription[];
}

/**
 * A named capability a program receives at start: a gate another program serves
 * (`'<program>/<gate>'`), or one of the machine's devices (`'uart'`, `'rtc'`,
 * `'disk0'`, …). Rights are letters of `rwsd`: on a gate's capability (default `'rw'`),
 * or on a device's Irq (default `'rws'`: attaching to it and unmasking it need `s`).
 */
export type CapDescription =
  | { readonly gate: string; readonly rights?: string }
  | { readonly device: string; readonly rights?: string };

/**
 * What the root task does when a program crashes: never restart it, restart it (at
 * most 5 times for the plain strings), or at most `maxRestarts` times.
 */
export type RestartPolicy =
  | 'never'
  | 'on-failure'
  | 'always'
  | { readonly policy: 'on-failure' | 'always'; readonly maxRestarts: number };

/** One program of a system. */
export interface ProgramDescription {
  /**
   * Module that exports the program: a file relative to the description's folder
   * (`'./server.ts'`), or a package (`'@pecan/servers'` with `export: 'systemConsole'`).
   */
  readonly module: string;
  /** Which export is the program (default `'default'`). */
  readonly export?: string;
  /** Priority 1–254 (default 10). */
  readonly priority?: number;
  /** CPU index (default 0). */
  readonly cpu?: number;
  /** RAM quota: how much memory its pager may give it (default 4M). */
  readonly ram?: MemorySize;
  /** Kernel-memory quota of its factory (default 256K). */
  readonly kernelMemory?: MemorySize;
  /** Names of the gates this program serves. */
  readonly serves?: readonly string[];
  /** Named capabilities it gets at start. */
  readonly caps?: Readonly<Record<string, CapDescription>>;
  readonly restart?: RestartPolicy;
}

/** A whole system. */
export interface SystemDescription {
  readonly name?: string;
  readonly machine: MachineDescription;
  readonly programs: Readonly<Record<string, ProgramDescription>>;
}

/**
 * Declares a system. It only gives the object its type; {@link validateSystem} checks it
 * before boot, as it does a JSON description.
 */
export function defineSystem<const S extends SystemDescription>(system: S): S {
  return system;
}
