/**
 * The root task: the loader that turns a system description into running programs, in
 * the role of L4Re's moe + ned and Genode's init. It runs on top of sigma0:
 *
 * 1. for each program, a sub-factory limited to its kernel-memory quota, and from it the
 *    program's task and thread, so that everything the program costs is charged there;
 * 2. first pass, for each program: its fixed capabilities (task 1, factory 2, thread 3,
 *    pager 4, Log 5, scheduler 7, and its exception handler at 8: a watch gate of the
 *    root task labelled for the program), and its named capabilities from slot 512 —
 *    each `{ gate }` a gate of the client's own to the server's thread (so the server
 *    tells clients apart by label), and for each `{ device }` its registers, its Irq
 *    and, for a disk, DMA memory (./devices.ts);
 * 3. second pass, in dependency order (see `startOrder`): its environment page
 *    (./program-env.ts; a server's lists who is behind each client label), mapped
 *    read-only; then bind, schedule and start the thread at the program's entry.
 *
 * A second thread of the root task is every program's pager: it backs page faults with
 * frames from sigma0 and counts them against each program's RAM quota. The first thread
 * then watches: a program that crashes (its exception comes to its watch gate) is
 * restarted per its restart policy, from its entry, with the same task, gates and
 * capabilities, so its clients see the gate come back.
 */
import {
  CapRights,
  capIndex,
  FactoryRef,
  FixedSlot,
  LOADER_SLOTS,
  MemRights,
  memFpage,
  msgtag,
  nameObject,
  OBJECT_NAME_MAX,
  objFpage,
  type Program,
  Proto,
  program,
  SchedulerRef,
  TaskRef,
  type ThreadEnv,
  ThreadRef,
  tagLabel,
  type UserCode,
} from '@pecan/kernel';
import { serveAnonMemory } from '../pager/anon-pager';
import { Sigma0Client } from '../sigma0/client';
import type { RestartPolicy, SystemDescription } from '../system/description';
import { DEFAULT_PROGRAM_KERNEL_MEMORY, parseMemorySize, startOrder } from '../system/validate';
import { type DeviceAccess, DeviceBroker } from './devices';
import { type ClientOfGate, encodeProgramEnvironment, PROGRAM_ENV_ADDRESS } from './program-env';

/** Slot of a program's exception handler (the root task's watch gate). */
export const EXCEPTION_HANDLER_SLOT = 8;
/**
 * First slot of a program's named capabilities: the kernel's loader slots, which a
 * program's own capability allocator skips, low enough that the capability table
 * stays a dense array.
 */
export const NAMED_CAP_BASE = LOADER_SLOTS.first;
/** The most named capabilities a program can have (the loader slots). */
export const MAX_NAMED_CAPS = LOADER_SLOTS.count;
/** Where the root task keeps environment pages in its own space. */
const ENV_WINDOW = 0x30_0000_0000;
/** Where its pager thread keeps the frames it hands out. */
const PAGER_WINDOW = 0x40_0000_0000;
const PAGE = 4096;

/** What the root task knows of one program. */
export interface ProgramRecord {
  starts: number;
  crashes: number;
  exits: number;
  lastCrash: string | null;
  /** Running (or restarted), returned from main and not restarted, or crashed and given up on. */
  status: 'running' | 'exited' | 'crashed';
}

/** What the root task reports through its Log, and keeps for the host to inspect. */
export interface RootTaskState {
  /** Per program: how often it was started, and why it last stopped. */
  readonly programs: Map<string, ProgramRecord>;
}

function rightsOf(s: string | undefined): number {
  const r = s ?? 'rw';
  return (
    (r.includes('r') ? CapRights.R : 0) |
    (r.includes('w') ? CapRights.W : 0) |
    (r.includes('s') ? CapRights.S : 0) |
    (r.includes('d') ? CapRights.D : 0)
  );
}

/**
 * The label of the message a program's thread sends to its watch gate when its main
 * function returns: the root task starts every program through a small wrapper that
 * does this, so that it learns of exits as well as of crashes.
 */
export const PROGRAM_EXITED = 0x6578;

/** Restarts allowed by `'on-failure'` and `'always'` without a count, as init systems cap them. */
export const DEFAULT_MAX_RESTARTS = 5;

function restartsLeft(policy: RestartPolicy | undefined, crashes: number): boolean {
  if (policy === undefined || policy === 'never') return false;
  if (policy === 'on-failure' || policy === 'always') return crashes <= DEFAULT_MAX_RESTARTS;
  return crashes <= policy.maxRestarts;
}

/** Boot information the root task gets besides the description and the modules. */
export interface RootTaskOptions {
  /** Where the root task reports what it does (default: a fresh record). */
  readonly state?: RootTaskState;
  /** The console's sink is a terminal: the UART's holder is told so (colour is welcome). */
  readonly consoleIsTty?: boolean;
}

/**
 * The root task for `system`, whose programs' code is `modules` (what a boot loader
 * hands the root task as boot modules). The description must be valid
 * (`assertValidSystem`). Its task needs sigma0 as pager and the Icu (for devices).
 */
export function rootTask(
  system: SystemDescription,
  modules: Readonly<Record<string, Program>>,
  options: RootTaskOptions = {},
): Program {
  const state = options.state ?? { programs: new Map() };
  const order = startOrder(system);
  // Per program: pages its pager may still give. The pager thread and the loader share
  // it: both are threads of the root task, and this is the task's own memory.
  const pagesLeft = new Map<number, number>();
  return program(function* root(env: ThreadEnv): UserCode<void> {
    const sigma0 = new Sigma0Client(env, capIndex(FixedSlot.PAGER));
    const self = capIndex(FixedSlot.TASK);
    const pagerThread = yield* env.spawn(
      program((e) => serveAnonMemory(e, { window: PAGER_WINDOW, admit: (label) => take(pagesLeft, label) })),
      { priority: 250, pager: capIndex(FixedSlot.PAGER) },
    );
    if (pagerThread < 0) throw new Error(`root: cannot start the pager thread (${pagerThread})`);
    const me = env.self || capIndex(FixedSlot.THREAD);
    yield* nameObject(env, pagerThread, 'root.pager');
    const broker = new DeviceBroker(env, sigma0, yield* env.kernelInterface(), options.consoleIsTty ?? false);

    // Every program's thread first, so that any program's capabilities can name a gate
    // to any server's thread.
    const threads = new Map<string, number>();
    const tasks = new Map<string, number>();
    const factories = new Map<string, number>();
    for (const name of order) {
      const p = system.programs[name]!;
      const f = env.caps.alloc();
      check(
        yield* env.factory.createFactory(
          f,
          p.kernelMemory === undefined ? DEFAULT_PROGRAM_KERNEL_MEMORY : parseMemorySize(p.kernelMemory)!,
        ),
        `${name}: factory`,
      );
      const task = env.caps.alloc();
      const thread = env.caps.alloc();
      check(yield* new FactoryRef(env, f).createTask(task), `${name}: task`);
      check(yield* new FactoryRef(env, f).createThread(thread), `${name}: thread`);
      // Names for traces and reports: the program's, as in a `ps` listing.
      yield* nameObject(env, task, objectName(name));
      yield* nameObject(env, thread, objectName(name));
      factories.set(name, f);
      tasks.set(name, task);
      threads.set(name, thread);
    }

    const entries = new Map<string, number>();
    let envPage = ENV_WINDOW;
    /** Per program: its named capabilities and devices, for its environment page. */
    const wiring = new Map<string, { caps: Record<string, number>; devices: Record<string, DeviceAccess> }>();
    /** Per server: which client each of its per-client gate labels stands for. */
    const clientsOf = new Map<string, Record<string, ClientOfGate>>();
    for (const [index, name] of order.entries()) {
      const p = system.programs[name]!;
      const mod = modules[name];
      if (!mod) throw new Error(`root: no module was loaded for program "${name}"`);
      const task = tasks.get(name)!;
      const thread = threads.get(name)!;
      const into = new TaskRef(env, task);
      const give = function* (src: number, slot: number, rights: number): UserCode<void> {
        check(
          yield* into.map(self, objFpage(src / PAGE, 0, rights), capIndex(slot)),
          `${name}: map slot ${slot}`,
        );
      };
      // Its pager: a gate to the root task's pager thread, labelled with the program.
      const label = (index + 1) << 4;
      const pagerGate = env.caps.alloc();
      check(yield* env.factory.createGate(pagerGate, pagerThread, label), `${name}: pager gate`);
      yield* nameObject(env, pagerGate, objectName(`${name} pager`));
      pagesLeft.set(label, Math.floor(parseMemorySize(p.ram ?? '4M')! / PAGE));
      const log = env.caps.alloc();
      check(yield* new FactoryRef(env, factories.get(name)!).createLog(log), `${name}: log`);
      yield* give(task, FixedSlot.TASK, CapRights.ALL);
      yield* give(factories.get(name)!, FixedSlot.FACTORY, CapRights.ALL);
      yield* give(thread, FixedSlot.THREAD, CapRights.ALL);
      yield* give(pagerGate, FixedSlot.PAGER, CapRights.RW);
      yield* give(log, FixedSlot.LOG, CapRights.RW);
      yield* give(capIndex(FixedSlot.SCHEDULER), FixedSlot.SCHEDULER, CapRights.RWS);
      // Its exception handler: a gate to this thread, labelled with the program.
      const watchGate = env.caps.alloc();
      check(yield* env.factory.createGate(watchGate, me, label), `${name}: watch gate`);
      yield* nameObject(env, watchGate, objectName(`${name} watch`));
      yield* give(watchGate, EXCEPTION_HANDLER_SLOT, CapRights.RW);
      const caps: Record<string, number> = {};
      const devices: Record<string, DeviceAccess> = {};
      let slot = NAMED_CAP_BASE;
      for (const [capName, c] of Object.entries(p.caps ?? {})) {
        if ('gate' in c) {
          // Each client gets a gate of its own to the server's thread, so that the
          // server tells its clients apart by label (and the label's meaning is in the
          // server's environment).
          const [server, gateName] = c.gate.split('/') as [string, string];
          const served = system.programs[server]!.serves ?? [];
          const clientGate = env.caps.alloc();
          const clientLabel = (index + 1) * 0x1000 + (served.indexOf(gateName) + 1) * 0x10;
          check(
            yield* env.factory.createGate(clientGate, threads.get(server)!, clientLabel),
            `${name}: gate to ${c.gate}`,
          );
          yield* nameObject(env, clientGate, objectName(`${c.gate} for ${name}`));
          yield* give(clientGate, slot, rightsOf(c.rights));
          caps[capName] = capIndex(slot++);
          const table = clientsOf.get(server) ?? {};
          table[String(clientLabel)] = { program: name, gate: gateName };
          clientsOf.set(server, table);
        } else {
          // A device: its registers into the program's address or I/O space, and an
          // Irq for its interrupt line as the named capability (./devices.ts).
          const access = yield* broker.give(
            c.device,
            task,
            factories.get(name)!,
            slot,
            c.rights === undefined ? CapRights.RWS : rightsOf(c.rights),
          );
          if (typeof access === 'string') throw new Error(`root: ${name}: device ${c.device}: ${access}`);
          devices[capName] = access;
          if (access.irq) caps[capName] = capIndex(slot++);
        }
      }
      wiring.set(name, { caps, devices });
    }

    // With every program's capabilities in place (and so every server's list of
    // clients known), write the environment pages and start the programs, in order.
    for (const name of order) {
      const p = system.programs[name]!;
      const mod = modules[name]!;
      const task = tasks.get(name)!;
      const thread = threads.get(name)!;
      const into = new TaskRef(env, task);
      const { caps, devices } = wiring.get(name)!;
      const clients = clientsOf.get(name);
      // Its environment page: a frame from sigma0, written here, mapped read-only there.
      check(yield* sigma0.any(12, envPage), `${name}: environment page`);
      const environment = {
        name,
        caps,
        ram: parseMemorySize(p.ram ?? '4M')!,
        ...(clients ? { clients } : {}),
      };
      yield* env.mem.write(
        envPage,
        encodeProgramEnvironment(Object.keys(devices).length > 0 ? { ...environment, devices } : environment),
      );
      check(
        yield* into.map(self, memFpage(envPage, 12, MemRights.R), PROGRAM_ENV_ADDRESS),
        `${name}: map environment`,
      );
      envPage += PAGE;
      // Bind, schedule, start.
      const t = new ThreadRef(env, thread);
      check(
        yield* t.control({
          bindTask: task,
          pager: capIndex(FixedSlot.PAGER),
          exceptionHandler: capIndex(EXCEPTION_HANDLER_SLOT),
        }),
        `${name}: bind`,
      );
      check(
        yield* new SchedulerRef(env, capIndex(FixedSlot.SCHEDULER)).runThread(
          thread,
          p.priority ?? 10,
          p.cpu ?? 0,
        ),
        `${name}: schedule`,
      );
      const entry = env.addressOf(exitReporting(mod));
      entries.set(name, entry);
      check(yield* t.exRegs(entry, PROGRAM_ENV_ADDRESS), `${name}: start`);
      state.programs.set(name, { starts: 1, crashes: 0, exits: 0, lastCrash: null, status: 'running' });
      yield* env.print(`root: started ${name}`);
    }

    // Watch: each program's exceptions come through its own watch gate, whose label
    // (the program's index + 1, shifted) says who crashed.
    for (;;) {
      const tag: number = yield env.wait();
      const name = order[(env.label >> 4) - 1];
      if (name === undefined) continue;
      const record = state.programs.get(name)!;
      const policy = system.programs[name]!.restart;
      if (tagLabel(tag) === PROGRAM_EXITED) {
        // A send, not a call: nothing to reply. Only 'always' restarts an exit.
        record.exits++;
        const always = policy === 'always' || (typeof policy === 'object' && policy.policy === 'always');
        if (!always || !restartsLeft(policy, record.exits + record.crashes)) {
          record.status = 'exited';
          yield* env.print(`root: ${name} exited`);
          continue;
        }
        record.starts++;
        yield* env.print(`root: ${name} exited; restarting it (start ${record.starts})`);
        check(
          yield* new ThreadRef(env, threads.get(name)!).exRegs(entries.get(name)!, PROGRAM_ENV_ADDRESS),
          `${name}: restart`,
        );
        continue;
      }
      if (tagLabel(tag) !== Proto.EXCEPTION) continue;
      record.crashes++;
      record.lastCrash = `exception frame of ${tag & 0x3f} words`;
      // Leave the thread stopped (a non-zero label), then restart it from its entry.
      yield env.reply(msgtag(1, 0));
      if (!restartsLeft(policy, record.crashes)) {
        record.status = 'crashed';
        yield* env.print(
          record.crashes > 1
            ? `root: ${name} crashed ${record.crashes} times; giving up on it`
            : `root: ${name} crashed; its policy does not restart it`,
        );
        continue;
      }
      record.starts++;
      yield* env.print(`root: ${name} crashed; restarting it (start ${record.starts})`);
      check(
        yield* new ThreadRef(env, threads.get(name)!).exRegs(entries.get(name)!, PROGRAM_ENV_ADDRESS),
        `${name}: restart`,
      );
    }
  });
}

/** Wrappers of the programs' entries, one per program, made once. */
const wrappers = new WeakMap<Program, Program>();

/**
 * `mod` run as a program of the system: its main, then a message to its watch gate
 * (slot 8) saying that it returned.
 */
function exitReporting(mod: Program): Program {
  let w = wrappers.get(mod);
  if (!w) {
    w = program(function* (env: ThreadEnv): UserCode<void> {
      yield* mod.main(env);
      yield env.send(capIndex(EXCEPTION_HANDLER_SLOT), msgtag(PROGRAM_EXITED, 0));
    }, mod.name);
    wrappers.set(mod, w);
  }
  return w;
}

/**
 * `name` cut to what the kernel keeps of an object's name. Program and gate names are
 * ASCII (validation), so cutting by characters cuts by bytes.
 */
function objectName(name: string): string {
  return name.slice(0, OBJECT_NAME_MAX);
}

function take(pages: Map<number, number>, label: number): boolean {
  const key = label - (label & 3);
  const left = pages.get(key) ?? 0;
  if (left <= 0) return false;
  pages.set(key, left - 1);
  return true;
}

function check(result: number, what: string): void {
  if (result < 0) throw new Error(`root: ${what} failed with ${result}`);
}
