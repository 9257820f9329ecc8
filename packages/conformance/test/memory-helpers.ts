/**
 * Shared set-up for the memory suites: a kernel on a back end with sigma0, where its
 * RAM is, and probe threads that make one memory access each and report what happened.
 */
import {
  CapRights,
  capIndex,
  Kernel,
  type Main,
  type MemMapping,
  type MemoryRegion,
  program,
  type RunResult,
  type Task,
  type Thread,
  type ThreadOptions,
} from '@pecan/kernel';
import { checkInvariants, checkMemoryInvariants } from '@pecan/kernel/testing';
import { expect } from 'vitest';
import type { Backend } from './backends';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** A booted machine: the kernel, sigma0 (the 1:1 owner of all memory) and its biggest RAM region. */
export interface MemorySystem {
  readonly k: Kernel;
  readonly s0: Task;
  readonly ram: MemoryRegion;
  /** The i-th 2 MiB-aligned RAM frame that sigma0 holds as one 2 MiB page. */
  big(i: number): number;
}

/** Boots `backend` with sigma0; `ramSize` in bytes (default: the back end's suite default). */
export function bootMemory(backend: Backend, options: { ramSize?: number } = {}): MemorySystem {
  const k = new Kernel({ platform: backend.create(options.ramSize) });
  const s0 = k.createTask('sigma0', { sigma0: true });
  const ram = k.memory!.regions.filter((r) => r.kind === 'ram').sort((a, b) => b.size - a.size)[0]!;
  const first = Math.ceil(ram.base / (2 * MiB)) * 2 * MiB;
  return {
    k,
    s0,
    ram,
    big(i) {
      const pa = first + i * 2 * MiB;
      const m = s0.space!.mappingAt(pa);
      if (!m || m.index !== pa || m.payload.order !== 21)
        throw new Error(`no 2 MiB sigma0 page at 0x${pa.toString(16)}`);
      return pa;
    },
  };
}

/** Gives `task` a capability to task `other` in `slot`, with all rights; returns its index. */
export function taskCap(k: Kernel, task: Task, slot: number, other: Task): number {
  k.mapCap(task, slot, other, CapRights.ALL);
  return capIndex(slot);
}

/** Starts `main` in `task`. */
export function spawn(k: Kernel, task: Task, main: Main, options: ThreadOptions = {}): Thread {
  return k.createThread(task, program(main), options);
}

export type Access = 'read' | 'write' | 'fetch';

/** A thread that made one access: `value` is what it read (or 'written'), undefined until then. */
export interface Probe {
  readonly name: string;
  value: number | 'written' | undefined;
  /** Filled in when the probe starts (for its IP). */
  thread: Thread | null;
}

/**
 * Starts a thread in `task` that makes one 32-bit access at `va` (a write stores
 * `value`; a fetch reads four bytes as an instruction fetch) and records the result.
 * Without a pager, a fault stops it with an exception the run reports.
 */
export function probe(
  k: Kernel,
  task: Task,
  access: Access,
  va: number,
  options: ThreadOptions & { value?: number } = {},
): Probe {
  const p: Probe = {
    name: options.name ?? `${task.name} ${access} 0x${va.toString(16)}`,
    value: undefined,
    thread: null,
  };
  p.thread = spawn(
    k,
    task,
    function* (env) {
      if (access === 'read') p.value = yield* env.mem.readU32(va);
      else if (access === 'write') {
        yield* env.mem.writeU32(va, options.value ?? 0);
        p.value = 'written';
      } else {
        const b = yield* env.mem.fetch(va, 4);
        p.value = new DataView(b.buffer).getUint32(0, true);
      }
    },
    { ...options, name: p.name },
  );
  return p;
}

/** What each probe got, or `died: <exception>` for one the run reports dead. */
export function outcomes(
  r: RunResult,
  probes: readonly Probe[],
): Record<string, number | string | undefined> {
  const out: Record<string, number | string | undefined> = {};
  for (const p of probes) {
    const dead = r.dead.find((d) => d.thread === p.name);
    out[p.name] = dead ? `died: ${dead.exception}` : p.value;
  }
  return out;
}

/** Runs `k` to its end and checks the kernel and memory invariants afterwards. */
export function runChecked(k: Kernel): RunResult {
  const r = k.run();
  expect(checkInvariants(k)).toEqual([]);
  checkMemoryInvariants(k);
  return r;
}

/** `0x…` for messages. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** The text the kernel reports for an access that faulted without anybody to resolve it. */
export function unresolved(
  access: Access,
  va: number,
  fault: 'not mapped' | 'no right',
  why: string,
): string {
  const what = access === 'fetch' ? 'instruction fetch' : access;
  const f = fault === 'not mapped' ? 'page not mapped' : 'page mapped without that right';
  return `died: ${what} at ${hex(va)}: ${f} — unresolved: ${why}`;
}

/** A compact view of a mapping for exact comparisons. */
export function describeMapping(m: MemMapping | undefined): string {
  if (!m) return 'none';
  return `va ${hex(m.index)} pa ${hex(m.payload.pa)} 2^${m.payload.order} r${m.rights}`;
}
