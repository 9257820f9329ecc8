/**
 * `pecan run <system.ts|system.json>`: boots a described system and streams its
 * console. A library call first (`runSystemFile`), a command second.
 *
 * The machine runs in slices of virtual time. Between slices the host hands the
 * console UART its input, waits for host work (disk I/O, standard input), keeps the
 * pace of the wall clock under `--realtime`, and redraws the status line on a
 * terminal. None of that changes what the system computes: the same description and
 * seed give the same output and the same trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BlockBackend, FileBlockBackend, MemoryBlockBackend, type SerialHost } from '@pecan/devices';
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import type { CliIo } from '@pecan/idl/cli';
import {
  exportChromeTrace,
  Kernel,
  type Platform,
  type Program,
  type RunResult,
  ThreadState,
  TraceRecorder,
} from '@pecan/kernel';
import {
  assertValidSystem,
  type BootedSystem,
  bootSystem,
  parseMemorySize,
  type SystemDescription,
  SystemValidationError,
} from '@pecan/servers';
import { ConsoleInputFeed, ConsoleOutput } from './console-host';
import { StatusLine } from './status-line';

/** Exit codes of `pecan run`. */
export const RunExit = {
  /** The system ran to completion: every program exited or waits for requests. */
  OK: 0,
  /** A file could not be loaded (description, program module, disk image, input). */
  LOAD_ERROR: 1,
  /** Bad command line or invalid system description. */
  USAGE: 2,
  /** The system deadlocked. */
  DEADLOCK: 3,
  /** A thread was stopped by an exception nobody handled, or a program crashed for good. */
  FAULT: 4,
  /** The `--until` limit was reached first. */
  TIME_LIMIT: 5,
} as const;

/** Options of {@link runSystemFile}. */
export interface RunOptions {
  readonly arch?: string;
  readonly seed?: number;
  /** Stop at this virtual time: cycles, or a duration such as `"20ms"` (units ns, us, µs, ms, s). */
  readonly until?: number | string;
  /** Write a Chrome trace here. */
  readonly trace?: string;
  /** Keep virtual time from running ahead of the wall clock. */
  readonly realtime?: boolean;
}

/** Where `pecan run` reads and writes; what the process offers besides {@link CliIo}. */
export interface RunIo extends CliIo {
  /** Standard input, for a console whose source is `"stdin"`. */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
  /** Standard output is a terminal: colour in the console, a live status line. */
  readonly isTty?: boolean;
  /** Wall-clock milliseconds, for `--realtime` and the status line only (default `performance.now`). */
  readonly now?: () => number;
}

const SECTOR_BYTES = 512;

/** Virtual time per slice of the run loop: 1 ms. */
const SLICE_SECONDS = 0.001;

/**
 * Imports a description or a program module: a file (TypeScript through tsx), or a
 * package name, resolved from the description's folder (`from`).
 */
async function importModule(specifier: string, from: string): Promise<Record<string, unknown>> {
  const isFile = specifier.startsWith('.') || isAbsolute(specifier);
  let mod: Record<string, unknown>;
  if (!isFile || /\.[cm]?ts$/.test(specifier)) {
    const { tsImport } = await import('tsx/esm/api');
    const target = isFile ? pathToFileURL(resolve(from, specifier)).href : specifier;
    mod = (await tsImport(target, pathToFileURL(join(from, 'system.ts')).href)) as Record<string, unknown>;
  } else {
    mod = (await import(pathToFileURL(resolve(from, specifier)).href)) as Record<string, unknown>;
  }
  // Outside a `"type": "module"` package tsx compiles TypeScript to CommonJS, and the
  // module's own exports arrive as the default export, marked __esModule.
  const inner = mod.default as Record<string, unknown> | undefined;
  return typeof inner === 'object' && inner !== null && inner.__esModule === true ? inner : mod;
}

function isProgram(v: unknown): v is Program {
  return typeof v === 'object' && v !== null && typeof (v as { entry?: unknown }).entry === 'function';
}

const UNITS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1 };

/**
 * A `--until` value in cycles at `cpuHz`: a whole number of cycles, or a duration with
 * a unit (`"20ms"`). Null when it is neither.
 */
export function parseVirtualTime(value: number | string, cpuHz: number): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  const m = /^(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s)?$/.exec(value.trim());
  if (!m) return null;
  const unit = m[2];
  if (unit === undefined) return Number.isSafeInteger(Number(m[1])) ? Number(m[1]) : null;
  return Math.round(Number(m[1]) * UNITS[unit]! * cpuHz);
}

type Loaded = { system: SystemDescription; modules: Record<string, Program> } | number;

/** Loads and validates the description in `path` and the programs' modules. */
async function load(file: string, path: string, io: CliIo): Promise<Loaded> {
  let description: unknown;
  try {
    description = path.endsWith('.json')
      ? JSON.parse(readFileSync(path, 'utf8'))
      : ((await importModule(path, dirname(path))).default ?? null);
  } catch (e) {
    io.stderr(`pecan run: cannot load ${file}: ${message(e)}\n`);
    return RunExit.LOAD_ERROR;
  }
  let system: SystemDescription;
  try {
    system = assertValidSystem(description);
  } catch (e) {
    if (e instanceof SystemValidationError) {
      io.stderr(`pecan run: ${file}: ${e.message}\n`);
      return RunExit.USAGE;
    }
    throw e;
  }
  const modules: Record<string, Program> = {};
  for (const [name, p] of Object.entries(system.programs)) {
    try {
      const mod = await importModule(p.module, dirname(path));
      const exported = mod[p.export ?? 'default'];
      if (!isProgram(exported)) {
        io.stderr(
          `pecan run: programs.${name}: ${p.module} has no program as its ${p.export ?? 'default'} export; export one made with program()\n`,
        );
        return RunExit.LOAD_ERROR;
      }
      modules[name] = exported;
    } catch (e) {
      io.stderr(`pecan run: programs.${name}: cannot load ${p.module}: ${message(e)}\n`);
      return RunExit.LOAD_ERROR;
    }
  }
  return { system, modules };
}

/** Opens the machine's disks: image files (relative to the description) or memory. */
async function openDisks(system: SystemDescription, base: string): Promise<BlockBackend[]> {
  const disks: BlockBackend[] = [];
  for (const d of system.machine.disks ?? []) {
    const size = d.size === undefined ? undefined : parseMemorySize(d.size)!;
    if (d.file === undefined)
      disks.push(new MemoryBlockBackend(size! / SECTOR_BYTES, { readOnly: d.readOnly === true }));
    else
      disks.push(
        await FileBlockBackend.open(resolve(base, d.file), {
          ...(size === undefined ? {} : { size }),
          ...(d.readOnly ? { readOnly: true } : {}),
        }),
      );
  }
  return disks;
}

/** Loads, validates, boots and runs the system in `file`; resolves to the exit code. */
export async function runSystemFile(file: string, options: RunOptions, io: RunIo): Promise<number> {
  const path = resolve(io.cwd, file);
  const loaded = await load(file, path, io);
  if (typeof loaded === 'number') return loaded;
  const arch = options.arch ?? loaded.system.machine.arch;
  if (arch !== 'x86_64' && arch !== 'aarch64') {
    io.stderr(`pecan run: unknown --arch ${arch}; choose x86_64 or aarch64\n`);
    return RunExit.USAGE;
  }
  let disks: BlockBackend[];
  try {
    disks = await openDisks(loaded.system, dirname(path));
  } catch (e) {
    io.stderr(`pecan run: machine.disks: ${message(e)}\n`);
    return RunExit.LOAD_ERROR;
  }
  try {
    return await runMachine({ ...loaded, arch, disks, base: dirname(path) }, options, io);
  } finally {
    await Promise.all(disks.map((d) => (d instanceof FileBlockBackend ? d.close() : d.flush())));
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A loaded system and its machine's parts, ready to boot. */
interface Machine {
  readonly system: SystemDescription;
  readonly modules: Readonly<Record<string, Program>>;
  readonly arch: 'x86_64' | 'aarch64';
  readonly disks: BlockBackend[];
  /** The description's folder: console files are relative to it. */
  readonly base: string;
}

/** Builds the machine, boots the system and runs it; the console sink is closed after. */
async function runMachine(m: Machine, options: RunOptions, io: RunIo): Promise<number> {
  const { system, modules, arch, disks, base } = m;
  const status = new StatusLine(io);
  const sink = system.machine.console?.sink ?? 'stdout';
  let output: ConsoleOutput;
  try {
    output = new ConsoleOutput(sink, base, (text) => status.print(text));
  } catch (e) {
    io.stderr(`pecan run: machine.console.sink: ${message(e)}\n`);
    return RunExit.LOAD_ERROR;
  }
  try {
    const ramSize = parseMemorySize(system.machine.ram ?? '128M')!;
    const onSerialOutput = output.byte;
    const platform: Platform & { readonly uart: SerialHost } =
      arch === 'x86_64'
        ? createX86Platform({ ramSize, disks, onSerialOutput })
        : createArmPlatform({ ramSize, disks, onSerialOutput });
    const until = options.until === undefined ? Infinity : parseVirtualTime(options.until, platform.cpuHz);
    if (until === null) {
      io.stderr(`pecan run: --until needs cycles or a duration like 20ms; got ${options.until}\n`);
      return RunExit.USAGE;
    }
    let input: ConsoleInputFeed;
    try {
      input = new ConsoleInputFeed(system.machine.console?.source, base, platform.uart, io.stdin);
    } catch (e) {
      io.stderr(`pecan run: machine.console.source: ${message(e)}\n`);
      return RunExit.LOAD_ERROR;
    }
    const kernel = new Kernel({
      platform,
      cpus: system.machine.cpus ?? 1,
      seed: options.seed ?? 0,
      logSink: (e) => status.print(`${e.text}\n`),
    });
    const counters = { pageFaults: 0 };
    kernel.events.on('ipc', (e) => {
      if (e.kind === 'page-fault') counters.pageFaults++;
    });
    /** The last exception of each task (handled or not), for the report. */
    const exceptions = new Map<string, string>();
    kernel.events.on('exception', (e) => exceptions.set(e.thread.task?.name ?? e.thread.name, e.description));
    const recorder = options.trace ? new TraceRecorder(kernel) : null;
    let booted: BootedSystem;
    try {
      // Colour only where it is seen: on the terminal the console's output goes to.
      booted = bootSystem(kernel, system, modules, { consoleIsTty: sink === 'stdout' && io.isTty === true });
    } catch (e) {
      io.stderr(`pecan run: cannot boot the system: ${message(e)}\n`);
      return RunExit.USAGE;
    }
    const result = await runLoop(kernel, platform, input, {
      until,
      realtime: options.realtime === true,
      status,
      pageFaults: () => counters.pageFaults,
      now: io.now ?? (() => performance.now()),
    });
    status.clear();
    input.close();
    if (recorder && options.trace)
      writeFileSync(resolve(io.cwd, options.trace), exportChromeTrace(recorder.finish()));
    return report(kernel, platform, booted, result, counters.pageFaults, exceptions, io);
  } finally {
    output.close();
  }
}

interface LoopOptions {
  readonly until: number;
  readonly realtime: boolean;
  readonly status: StatusLine;
  readonly pageFaults: () => number;
  readonly now: () => number;
}

/**
 * Runs the kernel to its end: in slices of virtual time, handing over console input
 * and waiting for host work whenever the system has nothing to do.
 */
async function runLoop(
  kernel: Kernel,
  platform: Platform,
  input: ConsoleInputFeed,
  o: LoopOptions,
): Promise<RunResult> {
  const slice = Math.max(1, Math.round(platform.cpuHz * SLICE_SECONDS));
  const started = o.now();
  for (;;) {
    const r = kernel.run({ maxTime: Math.min(o.until, kernel.now() + slice) });
    if (r.reason === 'time-limit' && r.time < o.until) {
      if (input.live) input.deliver();
      o.status.update(r, o.pageFaults(), platform.cpuHz);
      if (o.realtime) await keepPace(r.time / platform.cpuHz, (o.now() - started) / 1000);
      else await yieldToHost();
      continue;
    }
    const quiet = r.reason === 'idle' || r.reason === 'deadlock' || r.reason === 'exited';
    if (!quiet) return r;
    if (input.deliver() > 0) continue;
    const work = platform.hostEvents;
    if (work && work.pending > 0) {
      await work.settled();
      continue;
    }
    // Standard input is worth waiting for while some thread waits for an interrupt (a
    // reader of the console sleeps on its Irq); otherwise nothing would take it.
    if (input.live && input.open && someoneAwaitsInterrupt(kernel)) {
      o.status.update(r, o.pageFaults(), platform.cpuHz);
      await input.more();
      continue;
    }
    return r;
  }
}

/** Whether some thread is in a closed receive from an Irq. */
function someoneAwaitsInterrupt(kernel: Kernel): boolean {
  for (const t of kernel.threads) if (t.state === ThreadState.RECV_WAIT && t.partnerIrq !== null) return true;
  return false;
}

/** Sleeps until the wall clock catches up with virtual time (both in seconds). */
async function keepPace(virtualSeconds: number, wallSeconds: number): Promise<void> {
  const ahead = virtualSeconds - wallSeconds;
  await new Promise<void>((done) => setTimeout(done, ahead > 0 ? ahead * 1000 : 0));
}

/** Lets the host's own events (standard input, output streams) in between slices. */
function yieldToHost(): Promise<void> {
  return new Promise<void>((done) => setImmediate(done));
}

/** Prints the exit summary and returns the exit code. */
function report(
  kernel: Kernel,
  platform: Platform,
  booted: BootedSystem,
  result: RunResult,
  pageFaults: number,
  exceptions: ReadonlyMap<string, string>,
  io: CliIo,
): number {
  const crashed = [...booted.state.programs].filter(([, p]) => p.status === 'crashed');
  const stopped =
    crashed.length > 0 && result.reason !== 'deadlock'
      ? `${crashed
          .map(
            ([name, p]) =>
              `program "${name}" crashed${p.crashes > 1 ? ` ${p.crashes} times` : ''} (${exceptions.get(name) ?? 'exception'}) and was not restarted`,
          )
          .join('; ')}`
      : result.message;
  io.stdout(`\nstopped:      ${result.reason} — ${stopped}\n`);
  io.stdout(
    `virtual time: ${result.time} cycles (${((result.time * 1e6) / platform.cpuHz).toFixed(3)} µs)\n`,
  );
  io.stdout(`IPC count:    ${result.ipcCount}\n`);
  io.stdout(`page faults:  ${pageFaults}\n`);
  io.stdout(`programs:     ${programStates(booted)}\n`);
  io.stdout(`CPU share:    ${cpuShare(kernel)}\n`);
  if (result.reason === 'deadlock') return RunExit.DEADLOCK;
  if (crashed.length > 0 || result.dead.some((d) => d.reason === 'exception')) return RunExit.FAULT;
  if (result.reason === 'time-limit' || result.reason === 'step-limit') return RunExit.TIME_LIMIT;
  return RunExit.OK;
}

/** Each program as the root task last saw it: running, exited or crashed, and its restarts. */
function programStates(booted: BootedSystem): string {
  return [...booted.state.programs]
    .map(([name, p]) => `${name} ${p.status}${p.starts > 1 ? ` (restarted ${p.starts - 1}×)` : ''}`)
    .join(', ');
}

/** CPU time per task (per program, as the root task names them), largest first. */
function cpuShare(kernel: Kernel): string {
  const perTask = new Map<string, number>();
  let total = 0;
  for (const t of kernel.threads) {
    const name = t.task?.name ?? t.name;
    perTask.set(name, (perTask.get(name) ?? 0) + t.cyclesUsed);
    total += t.cyclesUsed;
  }
  return [...perTask]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([name, cycles]) => `${name} ${((100 * cycles) / (total || 1)).toFixed(1)}%`)
    .join(', ');
}
