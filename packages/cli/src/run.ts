/**
 * `pecan run <system.ts|system.json>`: boots a described system and streams its
 * output. A library call first (`runSystemFile`), a command second.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MemoryBlockBackend } from '@pecan/devices';
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import type { CliIo } from '@pecan/idl/cli';
import { exportChromeTrace, Kernel, type Platform, type Program, TraceRecorder } from '@pecan/kernel';
import {
  assertValidSystem,
  bootSystem,
  parseMemorySize,
  type SystemDescription,
  SystemValidationError,
} from '@pecan/servers';

/** Exit codes of `pecan run`. */
export const RunExit = {
  /** The system ran to completion: every program exited or waits for requests. */
  OK: 0,
  /** A file could not be loaded (description or program module). */
  LOAD_ERROR: 1,
  /** Bad command line or invalid system description. */
  USAGE: 2,
  /** The system deadlocked. */
  DEADLOCK: 3,
  /** A thread was stopped by an exception nobody handled. */
  FAULT: 4,
  /** The `--until` limit was reached first. */
  TIME_LIMIT: 5,
} as const;

/** Options of {@link runSystemFile}. */
export interface RunOptions {
  readonly arch?: string;
  readonly seed?: number;
  /** Stop at this virtual time, in cycles. */
  readonly until?: number;
  /** Write a Chrome trace here. */
  readonly trace?: string;
}

async function importModule(path: string): Promise<Record<string, unknown>> {
  if (/\.[cm]?ts$/.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

function isProgram(v: unknown): v is Program {
  return typeof v === 'object' && v !== null && typeof (v as { entry?: unknown }).entry === 'function';
}

/** Loads, validates, boots and runs the system in `file`; resolves to the exit code. */
export async function runSystemFile(file: string, options: RunOptions, io: CliIo): Promise<number> {
  const path = resolve(io.cwd, file);
  let description: unknown;
  try {
    description = path.endsWith('.json')
      ? JSON.parse(readFileSync(path, 'utf8'))
      : ((await importModule(path)).default ?? null);
  } catch (e) {
    io.stderr(`pecan run: cannot load ${file}: ${e instanceof Error ? e.message : String(e)}\n`);
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
    const modPath = resolve(dirname(path), p.module);
    try {
      const mod = await importModule(modPath);
      const exported = mod[p.export ?? 'default'];
      if (!isProgram(exported)) {
        io.stderr(
          `pecan run: programs.${name}: ${p.module} has no program as its ${p.export ?? 'default'} export; export one made with program()\n`,
        );
        return RunExit.LOAD_ERROR;
      }
      modules[name] = exported;
    } catch (e) {
      io.stderr(
        `pecan run: programs.${name}: cannot load ${p.module}: ${e instanceof Error ? e.message : String(e)}\n`,
      );
      return RunExit.LOAD_ERROR;
    }
  }
  const arch = options.arch ?? system.machine.arch;
  const ramSize = parseMemorySize(system.machine.ram ?? '128M')!;
  const disks = (system.machine.disks ?? []).map(
    (d) => new MemoryBlockBackend(parseMemorySize(d.size ?? '1M')!),
  );
  let line = '';
  const onSerialOutput = (byte: number) => {
    if (byte === 0x0a) {
      io.stdout(`${line}\n`);
      line = '';
    } else line += String.fromCharCode(byte);
  };
  let platform: Platform;
  if (arch === 'x86_64') platform = createX86Platform({ ramSize, disks, onSerialOutput });
  else if (arch === 'aarch64') platform = createArmPlatform({ ramSize, disks, onSerialOutput });
  else {
    io.stderr(`pecan run: unknown --arch ${arch}; choose x86_64 or aarch64\n`);
    return RunExit.USAGE;
  }
  const kernel = new Kernel({
    platform,
    cpus: system.machine.cpus ?? 1,
    seed: options.seed ?? 0,
    logSink: (e) => io.stdout(`${e.text}\n`),
  });
  let pageFaults = 0;
  kernel.events.on('ipc', (e) => {
    if (e.kind === 'page-fault') pageFaults++;
  });
  const recorder = options.trace ? new TraceRecorder(kernel) : null;
  bootSystem(kernel, system, modules);
  const result = await kernel.runAsync(options.until === undefined ? {} : { maxTime: options.until });
  if (recorder && options.trace)
    writeFileSync(resolve(io.cwd, options.trace), exportChromeTrace(recorder.finish()));
  const total = [...kernel.threads].reduce((s, t) => s + t.cyclesUsed, 0) || 1;
  io.stdout(`\nstopped:      ${result.reason} — ${result.message}\n`);
  io.stdout(
    `virtual time: ${result.time} cycles (${((result.time * 1e6) / platform.cpuHz).toFixed(3)} µs)\n`,
  );
  io.stdout(`IPC count:    ${result.ipcCount}\n`);
  io.stdout(`page faults:  ${pageFaults}\n`);
  io.stdout(
    `CPU share:    ${[...kernel.threads]
      .map((t) => `${t.name} ${((100 * t.cyclesUsed) / total).toFixed(1)}%`)
      .join(', ')}\n`,
  );
  if (result.reason === 'deadlock') return RunExit.DEADLOCK;
  if (result.dead.some((d) => d.reason === 'exception')) return RunExit.FAULT;
  if (result.reason === 'time-limit' || result.reason === 'step-limit') return RunExit.TIME_LIMIT;
  return RunExit.OK;
}
