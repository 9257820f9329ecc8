/**
 * Validates a system description as a whole before anything boots. Every mistake is
 * reported, each with the path of the offending field (`programs.client.caps.fs.gate`)
 * and what to fix; validation never stops at the first.
 */
import { LOADER_SLOTS } from '@pecan/kernel';
import type { ProgramDescription, SystemDescription } from './description';

/** One problem in a description. */
export interface SystemIssue {
  /** Dotted path of the field, e.g. `programs.client.priority`. */
  readonly path: string;
  /** What is wrong and what to do about it. */
  readonly message: string;
}

/** Thrown by {@link assertValidSystem}: carries every issue found. */
export class SystemValidationError extends Error {
  constructor(readonly issues: readonly SystemIssue[]) {
    super(
      `the system description has ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
    );
    this.name = 'SystemValidationError';
  }
}

/** What validation needs to know about the machines it may run on. */
export interface MachineFacts {
  /** The device names each architecture offers to capabilities (`uart`, `rtc`, …). */
  readonly devices: Readonly<Record<string, readonly string[]>>;
  /** Largest RAM a machine may have, in bytes. */
  readonly maxRam: number;
  /** RAM a system cannot give to programs (the kernel's, sigma0's and the root task's). */
  readonly reservedRam: (ram: number) => number;
  /**
   * Kernel memory the programs' quotas may add up to: the kernel's root factory less
   * what sigma0 and the root task keep, and what each program's factory costs.
   */
  readonly kernelMemory: (programs: number) => number;
  /** How many disks each architecture's machine takes (its virtio-mmio transports). */
  readonly maxDisks: Readonly<Record<string, number>>;
}

/** Kernel memory of the root factory of `pecan run`'s kernel (the kernel's default). */
const ROOT_FACTORY_MEMORY = 64 * 1024 * 1024;
/**
 * What boot takes from it before the programs: sigma0's task (the kernel's default task
 * quota) and the boot objects around it and the root task (tasks, threads, gates).
 */
const BOOT_KERNEL_MEMORY = 1024 * 1024 + 256 * 1024;
/** Kernel memory the root task keeps for itself, besides its programs' quotas. */
export const ROOT_TASK_KERNEL_MEMORY = 4 * 1024 * 1024;
/** Kernel memory a program's factory costs its parent, besides the quota in it. */
export const PROGRAM_FACTORY_KERNEL_MEMORY = 64 * 1024;
/** A program's kernel-memory quota when its description gives none. */
export const DEFAULT_PROGRAM_KERNEL_MEMORY = 256 * 1024;

/** The machines Pecan ships: the PC and QEMU `virt`. */
export const PECAN_MACHINES: MachineFacts = {
  devices: { x86_64: ['uart', 'rtc', 'disk'], aarch64: ['uart', 'rtc', 'disk'] },
  maxRam: 0xe000_0000,
  reservedRam: (ram) => Math.floor(ram / 8) + 4 * 1024 * 1024,
  kernelMemory: (programs) =>
    ROOT_FACTORY_MEMORY -
    BOOT_KERNEL_MEMORY -
    ROOT_TASK_KERNEL_MEMORY -
    programs * PROGRAM_FACTORY_KERNEL_MEMORY,
  maxDisks: { x86_64: 8, aarch64: 32 },
};

const MEMORY = /^(\d+)\s*([KMG]?)i?B?$/i;
const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const NAME = /^[a-z][a-z0-9-]*$/;
const RIGHTS = /^[rwsd]+$/;

/** Bytes of a MemorySize, or null when it is not one. */
export function parseMemorySize(v: unknown): number | null {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = MEMORY.exec(v.trim());
  if (!m) return null;
  const n = Number(m[1]) * UNITS[(m[2] ?? '').toUpperCase()]!;
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Returns every issue of `system` (an empty array when it is valid). `system` may be
 * anything — a parsed JSON file, say — and is checked field by field.
 */
export function validateSystem(system: unknown, facts: MachineFacts = PECAN_MACHINES): SystemIssue[] {
  const issues: SystemIssue[] = [];
  const add = (path: string, message: string) => issues.push({ path, message });
  const unknownFields = (o: Record<string, unknown>, path: string, known: readonly string[]) => {
    for (const k of Object.keys(o)) {
      if (!known.includes(k))
        add(`${path}${path ? '.' : ''}${k}`, `unknown field; expected one of ${known.join(', ')}`);
    }
  };
  if (!isObject(system)) {
    add('', 'a system description must be an object with `machine` and `programs`');
    return issues;
  }
  unknownFields(system, '', ['name', 'machine', 'programs']);

  // The machine.
  let arch = '';
  let ram = 128 * 1024 * 1024;
  let cpus = 1;
  const machine = system.machine;
  if (!isObject(machine)) {
    add('machine', 'missing: give the machine, e.g. { arch: "x86_64", ram: "64M" }');
  } else {
    unknownFields(machine, 'machine', ['arch', 'ram', 'cpus', 'console', 'disks']);
    if (typeof machine.arch !== 'string' || !(machine.arch in facts.devices)) {
      add(
        'machine.arch',
        `must be one of ${Object.keys(facts.devices).join(', ')}; got ${JSON.stringify(machine.arch)}`,
      );
    } else {
      arch = machine.arch;
    }
    if (machine.ram !== undefined) {
      const r = parseMemorySize(machine.ram);
      if (r === null || r % 4096 !== 0 || r > facts.maxRam) {
        add(
          'machine.ram',
          `must be a multiple of 4K up to ${facts.maxRam / 1024 ** 2}M (bytes or "64M"); got ${JSON.stringify(machine.ram)}`,
        );
      } else {
        ram = r;
      }
    }
    if (machine.cpus !== undefined) {
      if (!Number.isInteger(machine.cpus) || (machine.cpus as number) < 1 || (machine.cpus as number) > 32) {
        add('machine.cpus', `must be an integer from 1 to 32; got ${JSON.stringify(machine.cpus)}`);
      } else {
        cpus = machine.cpus as number;
      }
    }
    if (machine.console !== undefined) {
      if (!isObject(machine.console)) {
        add('machine.console', 'must be an object { sink?, source? }');
      } else {
        unknownFields(machine.console, 'machine.console', ['sink', 'source']);
        const { sink, source } = machine.console;
        if (sink !== undefined && sink !== 'stdout' && sink !== 'none' && !isFileRef(sink))
          add('machine.console.sink', 'must be "stdout", "none" or { file: "<path>" }');
        if (
          source !== undefined &&
          source !== 'stdin' &&
          source !== 'none' &&
          !isFileRef(source) &&
          !(isObject(source) && typeof source.text === 'string' && Object.keys(source).length === 1)
        )
          add('machine.console.source', 'must be "stdin", "none", { file: "<path>" } or { text: "<input>" }');
      }
    }
    if (machine.disks !== undefined) {
      if (!Array.isArray(machine.disks)) {
        add('machine.disks', 'must be an array of { file?, size?, readOnly? }');
      } else {
        machine.disks.forEach((d: unknown, i: number) => {
          const path = `machine.disks.${i}`;
          if (!isObject(d)) {
            add(path, 'must be an object { file?, size?, readOnly? }');
            return;
          }
          unknownFields(d, path, ['file', 'size', 'readOnly']);
          if (d.file === undefined && d.size === undefined)
            add(path, 'give a `file` (a disk image) or a `size` (an empty in-memory disk)');
          if (d.file !== undefined && (typeof d.file !== 'string' || d.file === ''))
            add(`${path}.file`, 'must be a path');
          if (d.size !== undefined) {
            const size = parseMemorySize(d.size);
            if (size === null)
              add(`${path}.size`, `must be bytes or a size like "16M"; got ${JSON.stringify(d.size)}`);
            else if (size % 512 !== 0) add(`${path}.size`, 'must be a whole number of 512-byte sectors');
          }
          if (d.readOnly !== undefined && typeof d.readOnly !== 'boolean')
            add(`${path}.readOnly`, 'must be true or false');
        });
        const most = typeof machine.arch === 'string' ? facts.maxDisks[machine.arch] : undefined;
        if (most !== undefined && machine.disks.length > most)
          add(
            'machine.disks',
            `the ${machine.arch} machine takes at most ${most} disks (its virtio-mmio transports); got ${machine.disks.length}`,
          );
      }
    }
  }

  // The programs.
  const programs = system.programs;
  if (!isObject(programs) || Object.keys(programs).length === 0) {
    add('programs', 'give at least one program: { name: { module: "./file.ts" } }');
    return issues;
  }
  const serves = new Map<string, Set<string>>();
  for (const [name, p] of Object.entries(programs)) {
    if (isObject(p) && Array.isArray(p.serves))
      serves.set(name, new Set(p.serves.filter((g) => typeof g === 'string')));
    else serves.set(name, new Set());
  }
  const disks = isObject(machine) && Array.isArray(machine.disks) ? machine.disks.length : 0;
  const deviceNames = arch ? facts.devices[arch]! : [];
  /** Device name → the program it was given to. */
  const deviceHolder = new Map<string, string>();
  let ramTotal = 0;
  let kernelTotal = 0;
  const dependsOn = new Map<string, Set<string>>();
  for (const [name, p] of Object.entries(programs)) {
    const path = `programs.${name}`;
    const deps = new Set<string>();
    dependsOn.set(name, deps);
    if (!NAME.test(name))
      add(path, 'program names are lower-case letters, digits and dashes, starting with a letter');
    if (!isObject(p)) {
      add(path, 'must be an object with at least `module`');
      continue;
    }
    unknownFields(p, path, [
      'module',
      'export',
      'priority',
      'cpu',
      'ram',
      'kernelMemory',
      'serves',
      'caps',
      'restart',
    ]);
    if (typeof p.module !== 'string' || p.module === '')
      add(`${path}.module`, 'give the module that exports the program, e.g. "./server.ts"');
    if (p.export !== undefined && (typeof p.export !== 'string' || p.export === ''))
      add(`${path}.export`, 'must name an export of the module');
    if (
      p.priority !== undefined &&
      (!Number.isInteger(p.priority) || (p.priority as number) < 1 || (p.priority as number) > 254)
    ) {
      add(`${path}.priority`, `must be an integer from 1 to 254; got ${JSON.stringify(p.priority)}`);
    }
    if (
      p.cpu !== undefined &&
      (!Number.isInteger(p.cpu) || (p.cpu as number) < 0 || (p.cpu as number) >= cpus)
    ) {
      add(
        `${path}.cpu`,
        `the machine has ${cpus} CPU${cpus === 1 ? '' : 's'} (0–${cpus - 1}); got ${JSON.stringify(p.cpu)}`,
      );
    }
    const pRam = p.ram === undefined ? 4 * 1024 * 1024 : parseMemorySize(p.ram);
    if (pRam === null || pRam % 4096 !== 0)
      add(`${path}.ram`, `must be a multiple of 4K (bytes or "4M"); got ${JSON.stringify(p.ram)}`);
    else ramTotal += pRam;
    const pKernel =
      p.kernelMemory === undefined ? DEFAULT_PROGRAM_KERNEL_MEMORY : parseMemorySize(p.kernelMemory);
    if (pKernel === null) {
      add(
        `${path}.kernelMemory`,
        `must be bytes or a size like "256K"; got ${JSON.stringify(p.kernelMemory)}`,
      );
    } else {
      kernelTotal += pKernel;
    }
    if (p.serves !== undefined) {
      if (!Array.isArray(p.serves)) add(`${path}.serves`, 'must be an array of gate names');
      else
        p.serves.forEach((g: unknown, i: number) => {
          if (typeof g !== 'string' || !NAME.test(g))
            add(`${path}.serves.${i}`, 'gate names are lower-case letters, digits and dashes');
        });
    }
    if (p.restart !== undefined) validateRestart(p.restart, `${path}.restart`, add);
    if (p.caps !== undefined) {
      if (!isObject(p.caps)) {
        add(`${path}.caps`, 'must map capability names to { gate } or { device }');
      } else {
        const count = Object.keys(p.caps).length;
        if (count > LOADER_SLOTS.count)
          add(
            `${path}.caps`,
            `a program can have at most ${LOADER_SLOTS.count} named capabilities; got ${count}`,
          );
        for (const [capName, c] of Object.entries(p.caps)) {
          const cpath = `${path}.caps.${capName}`;
          if (!isObject(c)) {
            add(cpath, 'must be { gate: "program/gate" } or { device: "uart" }');
            continue;
          }
          unknownFields(c, cpath, ['gate', 'device', 'rights']);
          if (c.rights !== undefined && (typeof c.rights !== 'string' || !RIGHTS.test(c.rights))) {
            add(`${cpath}.rights`, `must be letters of "rwsd"; got ${JSON.stringify(c.rights)}`);
          }
          if ((c.gate === undefined) === (c.device === undefined)) {
            add(cpath, 'give exactly one of `gate` and `device`');
          } else if (c.gate !== undefined) {
            const [prog, gate, ...rest] = typeof c.gate === 'string' ? c.gate.split('/') : [];
            if (!prog || !gate || rest.length > 0) {
              add(`${cpath}.gate`, `must be "<program>/<gate>"; got ${JSON.stringify(c.gate)}`);
            } else if (!serves.has(prog)) {
              add(
                `${cpath}.gate`,
                `unknown program "${prog}"; the system has ${[...serves.keys()].join(', ')}`,
              );
            } else if (!serves.get(prog)!.has(gate)) {
              add(`${cpath}.gate`, `nobody serves gate "${gate}": add it to programs.${prog}.serves`);
            } else if (prog !== name) {
              deps.add(prog);
            }
          } else {
            const dev = typeof c.device === 'string' ? c.device : '';
            // Disks are numbered without leading zeros, so that one disk has one name.
            const m = /^(disk)(0|[1-9]\d*)$/.exec(dev);
            const base = m ? m[1]! : dev;
            if (arch && !deviceNames.includes(base)) {
              add(
                `${cpath}.device`,
                `the ${arch} machine has no device "${dev}"; it has ${deviceNames.map((d) => (d === 'disk' ? 'disk<N> (N from 0, one per machine.disks entry)' : d)).join(', ')}`,
              );
            } else if (deviceHolder.has(dev)) {
              const holder = deviceHolder.get(dev);
              add(
                `${cpath}.device`,
                holder === name
                  ? `device "${dev}" is already one of this program's capabilities; name it once`
                  : `device "${dev}" is already given to programs.${holder}: a device has one driver; give the others a gate to it`,
              );
            } else if (m && Number(m[2]) >= disks) {
              add(
                `${cpath}.device`,
                `there is no ${dev}: the machine has ${disks} disk${disks === 1 ? '' : 's'} (machine.disks)`,
              );
            } else {
              deviceHolder.set(dev, name);
            }
          }
        }
      }
    }
  }
  const available = ram - facts.reservedRam(ram);
  if (ramTotal > available) {
    add(
      'programs',
      `the programs' RAM quotas add up to ${fmt(ramTotal)}, more than the ${fmt(available)} the machine (ram ${fmt(ram)}) can give them: lower the quotas or raise machine.ram`,
    );
  }
  const kernelAvailable = facts.kernelMemory(Object.keys(programs).length);
  if (kernelTotal > kernelAvailable) {
    add(
      'programs',
      `the programs' kernel-memory quotas add up to ${fmt(kernelTotal)}, more than the ${fmt(kernelAvailable)} the kernel can give them: lower the quotas`,
    );
  }
  const cycle = findCycle(dependsOn);
  if (cycle) {
    add(
      `programs.${cycle[0]}.caps`,
      `cyclic start dependency ${cycle.join(' → ')}: each waits for a gate of the next; break the cycle with a name looked up at run time`,
    );
  }
  return issues;
}

function validateRestart(r: unknown, path: string, add: (p: string, m: string) => void): void {
  if (r === 'never' || r === 'on-failure' || r === 'always') return;
  if (
    isObject(r) &&
    (r.policy === 'on-failure' || r.policy === 'always') &&
    Number.isInteger(r.maxRestarts) &&
    (r.maxRestarts as number) >= 0
  )
    return;
  add(path, 'must be "never", "on-failure", "always" or { policy, maxRestarts }');
}

function isFileRef(v: unknown): boolean {
  return isObject(v) && typeof v.file === 'string' && v.file !== '' && Object.keys(v).length === 1;
}

function fmt(bytes: number): string {
  if (bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2}M`;
  return bytes % 1024 === 0 ? `${bytes / 1024}K` : `${bytes} bytes`;
}

/** A cycle in the dependency graph, as the list of programs around it, or null. */
function findCycle(deps: Map<string, Set<string>>): string[] | null {
  const state = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      const s = state.get(d) ?? 0;
      if (s === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (s === 0) {
        const c = visit(d);
        if (c) return c;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of [...deps.keys()].sort()) {
    if ((state.get(n) ?? 0) === 0) {
      const c = visit(n);
      if (c) return c;
    }
  }
  return null;
}

/** The programs in an order that starts every program after those whose gates it uses. */
export function startOrder(system: SystemDescription): string[] {
  const order: string[] = [];
  const done = new Set<string>();
  const visit = (name: string, p: ProgramDescription) => {
    if (done.has(name)) return;
    done.add(name);
    for (const c of Object.values(p.caps ?? {})) {
      if ('gate' in c) {
        const prog = c.gate.split('/')[0]!;
        const dep = system.programs[prog];
        if (dep && prog !== name) visit(prog, dep);
      }
    }
    order.push(name);
  };
  for (const name of Object.keys(system.programs).sort()) visit(name, system.programs[name]!);
  return order;
}

/** Throws a {@link SystemValidationError} listing every issue, or returns the description typed. */
export function assertValidSystem(system: unknown, facts: MachineFacts = PECAN_MACHINES): SystemDescription {
  const issues = validateSystem(system, facts);
  if (issues.length > 0) throw new SystemValidationError(issues);
  return system as SystemDescription;
}
