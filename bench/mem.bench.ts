/**
 * `pnpm bench:mem [--json] [--arch x86_64|aarch64]`: the memory model's costs, each as
 * a ratio against a baseline measured in this same process (the memory issue's
 * targets):
 *
 * - `pagefault_roundtrip_ns`: a read of a page the client does not have: TLB miss, walk,
 *   page-fault IPC to the pager, map reply, retry. One new page each time.
 *   Baseline `ipc_roundtrip_ns`: a null IPC call + reply on the same machine.
 * - `read_4k_ns`: `env.mem.readInto` of 4 KiB that the TLB holds.
 *   Baseline `memcpy_4k_ns`: a plain Uint8Array copy of 4 KiB.
 * - `unmap_1_of_10k_ns`, `unmap_1_of_1m_ns`: Task.unmap of one page whose one derived
 *   mapping goes, in mapping databases of 10,000 and 1,000,000 mappings: the cost must
 *   not grow with the size of the database. Measured on pages side by side; the
 *   `_scattered_` figures spread them over the database and show the host's caches.
 */
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import {
  capIndex,
  FixedSlot,
  Kernel,
  MemRights,
  mapMemory,
  memFpage,
  memMapControl,
  msgtag,
  type Platform,
  program,
  type Task,
  unmapMemory,
} from '@pecan/kernel';
import { pingPong } from '@pecan/kernel/testing';
import { median } from './baselines';

const MiB = 1024 * 1024;
const PAGE = 4096;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const arch = option('--arch') ?? 'x86_64';
const machines: Record<string, (ramSize: number) => Platform> = {
  x86_64: (ramSize) => createX86Platform({ ramSize }),
  aarch64: (ramSize) => createArmPlatform({ ramSize }),
};
const machine = machines[arch];
if (!machine) {
  console.error(`pnpm bench:mem: unknown --arch ${arch}; choose one of ${Object.keys(machines).join(', ')}`);
  process.exit(2);
}

/** Median over `samples` of (time of `run` / `n`), each sample freshly built by `build`. */
function timePer(samples: number, n: number, build: () => () => void): number {
  const per: number[] = [];
  for (let i = 0; i < samples + 2; i++) {
    const run = build();
    const t0 = process.hrtime.bigint();
    run();
    const dt = Number(process.hrtime.bigint() - t0);
    if (i >= 2) per.push(dt / n);
  }
  return median(per);
}

/**
 * Touches every byte of the machine's RAM once, untimed. A fresh ArrayBuffer is backed
 * by the host lazily, and the first touch of each host page costs a host page fault
 * (microseconds in a VM) that a real machine's RAM never has; leaving it in would
 * measure the host's memory manager, not Pecan.
 */
function backRam(k: Kernel): void {
  const bytes = new Uint8Array(k.memory!.ram.buffer);
  // Write each host page (a read could be served by a shared zero page), keeping its contents.
  for (let i = 0; i < bytes.length; i += PAGE) bytes[i] = bytes[i]!;
}

/** The largest RAM region of a kernel's memory map (where test frames come from). */
function bigRam(k: Kernel): { base: number; size: number } {
  const ram = k.memory!.regions.filter((r) => r.kind === 'ram').sort((a, b) => b.size - a.size)[0];
  if (!ram) throw new Error('bench:mem: the machine reports no RAM');
  return { base: Math.ceil(ram.base / (2 * MiB)) * 2 * MiB, size: ram.size - 2 * MiB };
}

const FAULTS = 20_000;
const SAMPLES = 9;

/**
 * Median ns per round trip of `kernel` over `samples` slices of `n` round trips (two
 * IPCs each), after `warmup` untimed slices. One long-lived system is sliced with
 * `maxSteps`, so no sample pays for building machines or collecting old ones.
 */
function timeSlices(
  kernel: Kernel,
  n: number,
  samples: number,
  warmup: number,
  between?: () => void,
): number {
  const per: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    between?.();
    const before = kernel.ipcCount;
    const t0 = process.hrtime.bigint();
    kernel.run({ maxSteps: 2 * n });
    const dt = Number(process.hrtime.bigint() - t0);
    const trips = (kernel.ipcCount - before) / 2;
    if (trips < n / 2) throw new Error(`bench:mem: only ${trips} round trips in a slice of ${n}`);
    if (i >= warmup) per.push(dt / trips);
  }
  return median(per);
}

/**
 * A client that reads page after page it does not have; the pager (in sigma0's
 * one-to-one space) answers each fault with a 4 KiB frame. Returns the kernel, to be
 * run in slices.
 */
function pageFaultSystem(): { kernel: Kernel; reset: () => void } {
  const k = new Kernel({ platform: machine!(128 * MiB), kernelRam: 48 * MiB, kernelMemory: 256 * MiB });
  const s0 = k.createTask('sigma0', { sigma0: true });
  const ram = bigRam(k);
  const frames = Math.min(4096, Math.floor(ram.size / PAGE));
  const pager = k.createThread(
    s0,
    program(function* (env) {
      yield env.wait();
      for (let i = 0; ; i++) {
        const addr = env.utcb.mr(0);
        env.utcb.setMr(0, memMapControl(addr));
        env.utcb.setMr(1, memFpage(ram.base + (i % frames) * PAGE, 12, MemRights.RW));
        yield env.replyAndWait(msgtag(0, 0, 1));
      }
    }),
    { name: 'pager', priority: 2 },
  );
  const client = k.createTask('client');
  k.mapCap(client, FixedSlot.PAGER, k.createGate(pager, 0x10, 'pager'), 6);
  k.createThread(
    client,
    program(function* (env) {
      for (let i = 0; ; i++) yield* env.mem.readU32(0x1_0000_0000 + i * PAGE);
    }),
    { name: 'client', priority: 1, pager: capIndex(FixedSlot.PAGER) },
  );
  backRam(k);
  // Untimed, between slices: drop the client's pages, so that the heap of mappings
  // (and the garbage collector's work with it) does not grow from slice to slice.
  const reset = () => {
    unmapMemory(client.space!, 0x1_0000_0000, 2 ** 40, MemRights.RWX, true);
  };
  return { kernel: k, reset };
}

const READS = 200_000;

/** A client that reads the same mapped 4 KiB `n` times (every access a TLB hit). */
function readSystem(n: number): () => void {
  const k = new Kernel({ platform: machine!(64 * MiB) });
  const s0 = k.createTask('sigma0', { sigma0: true });
  const ram = bigRam(k);
  const client = k.createTask('client');
  const err = mapMemory(s0.space!, ram.base, 12, client.space!, 0x1000_0000, MemRights.RW);
  if (err !== 0) throw new Error(`bench:mem: map failed with errno ${err}`);
  let check = 0;
  k.createThread(
    client,
    program(function* (env) {
      const buf = new Uint8Array(PAGE);
      yield* env.mem.readInto(0x1000_0000, buf); // fill the TLB
      for (let i = 0; i < n; i++) yield* env.mem.readInto(0x1000_0000, buf);
      check = buf.length;
    }),
  );
  backRam(k);
  return () => {
    k.run();
    if (check !== PAGE) throw new Error('bench:mem: the read loop did not finish');
  };
}

function memcpyNs(n: number): number {
  return timePer(15, n, () => {
    const src = new Uint8Array(PAGE).fill(7);
    const dst = new Uint8Array(PAGE);
    return () => {
      for (let i = 0; i < n; i++) {
        src[i & 4095] = i;
        dst.set(src);
      }
      if (dst[0] === undefined) throw new Error('unreachable');
    };
  });
}

const UNMAPS = 2_000;

/**
 * `mappings` mappings in two tasks (A's pages from sigma0, and B's pages derived from
 * A's), then the time of unmapping one of A's pages (its one child in B goes), for
 * 2,000 pages side by side in the middle of the database (`adjacent`: the operation's
 * own cost) and 2,000 pages spread over all of it (`scattered`: what the host's caches
 * add when the database no longer fits them).
 */
function unmapNs(mappings: number): { adjacent: number; scattered: number } {
  const k = new Kernel({ platform: machine!(128 * MiB), kernelRam: 32 * MiB });
  const s0 = k.createTask('sigma0', { sigma0: true });
  const ram = bigRam(k);
  const frames = Math.min(8192, Math.floor(ram.size / PAGE));
  backRam(k);
  const a: Task = k.createTask('a');
  const b: Task = k.createTask('b');
  const pages = Math.floor(mappings / 2);
  const base = 0x1_0000_0000;
  for (let i = 0; i < pages; i++) {
    const va = base + i * PAGE;
    if (mapMemory(s0.space!, ram.base + (i % frames) * PAGE, 12, a.space!, va, MemRights.RWX) !== 0)
      throw new Error(`bench:mem: could not build ${mappings} mappings (at ${2 * i})`);
    mapMemory(a.space!, va, 12, b.space!, va, MemRights.RWX);
  }
  const time = (page: (j: number) => number): number => {
    const per: number[] = [];
    for (let round = 0; round < 5; round++) {
      const t0 = process.hrtime.bigint();
      for (let j = 0; j < UNMAPS; j++)
        unmapMemory(a.space!, base + page(j) * PAGE, PAGE, MemRights.RWX, false);
      per.push(Number(process.hrtime.bigint() - t0) / UNMAPS);
      // Put the children back, untimed, so that every round unmaps real mappings.
      for (let j = 0; j < UNMAPS; j++)
        mapMemory(a.space!, base + page(j) * PAGE, 12, b.space!, base + page(j) * PAGE, MemRights.RWX);
    }
    if (b.space!.size !== pages)
      throw new Error(`bench:mem: B has ${b.space!.size} pages, expected ${pages}`);
    return median(per);
  };
  const middle = Math.floor((pages - UNMAPS) / 2);
  const stride = Math.max(1, Math.floor(pages / UNMAPS));
  return { adjacent: time((j) => middle + j), scattered: time((j) => (j * stride) % pages) };
}

/** A null-IPC ping-pong on the same machine, to be run in slices. */
function ipcSystem(): Kernel {
  const system = pingPong(machine!(16 * MiB), Number.MAX_SAFE_INTEGER);
  backRam(system.kernel);
  return system.kernel;
}

function main(): void {
  const json = process.argv.includes('--json');
  // Both systems live through the whole run; the first slices warm them up (the fault
  // path reaches its steady-state compilation only after some 50,000 faults).
  const faults = pageFaultSystem();
  const ipc = ipcSystem();
  timeSlices(faults.kernel, FAULTS, 1, 4, faults.reset);
  timeSlices(ipc, 100_000, 1, 2);
  const ipcA = timeSlices(ipc, 100_000, SAMPLES, 0);
  const pfA = timeSlices(faults.kernel, FAULTS, SAMPLES, 0, faults.reset);
  const ipcB = timeSlices(ipc, 100_000, SAMPLES, 0);
  const pfB = timeSlices(faults.kernel, FAULTS, SAMPLES, 0, faults.reset);
  readSystem(10_000)();
  const readA = timePer(7, READS, () => readSystem(READS));
  const copyA = memcpyNs(READS);
  const readB = timePer(7, READS, () => readSystem(READS));
  const copyB = memcpyNs(READS);
  unmapNs(10_000); // warm-up: the first database pays for compiling the unmap path
  const smallA = unmapNs(10_000);
  const smallB = unmapNs(10_000);
  const large = unmapNs(1_000_000);
  const result = {
    arch,
    pagefault_roundtrip_ns: Math.min(pfA, pfB),
    ipc_roundtrip_ns: Math.min(ipcA, ipcB),
    read_4k_ns: Math.min(readA, readB),
    memcpy_4k_ns: Math.min(copyA, copyB),
    unmap_1_of_10k_ns: Math.min(smallA.adjacent, smallB.adjacent),
    unmap_1_of_1m_ns: large.adjacent,
    unmap_1_of_10k_scattered_ns: Math.min(smallA.scattered, smallB.scattered),
    unmap_1_of_1m_scattered_ns: large.scattered,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const rows: [string, number, string][] = [
    [
      'page fault round trip',
      result.pagefault_roundtrip_ns,
      `fault/IPC = ${(result.pagefault_roundtrip_ns / result.ipc_roundtrip_ns).toFixed(2)} (target ≤ 10)`,
    ],
    ['null IPC round trip', result.ipc_roundtrip_ns, ''],
    [
      'read 4 KiB (TLB hit)',
      result.read_4k_ns,
      `read/memcpy = ${(result.read_4k_ns / result.memcpy_4k_ns).toFixed(2)} (target ≤ 4)`,
    ],
    ['memcpy 4 KiB', result.memcpy_4k_ns, ''],
    ['unmap 1 of 10k mappings', result.unmap_1_of_10k_ns, ''],
    [
      'unmap 1 of 1M mappings',
      result.unmap_1_of_1m_ns,
      `1M/10k = ${(result.unmap_1_of_1m_ns / result.unmap_1_of_10k_ns).toFixed(2)} (target ≤ 2)`,
    ],
    ['  scattered, of 10k', result.unmap_1_of_10k_scattered_ns, ''],
    [
      '  scattered, of 1M',
      result.unmap_1_of_1m_scattered_ns,
      `1M/10k = ${(result.unmap_1_of_1m_scattered_ns / result.unmap_1_of_10k_scattered_ns).toFixed(2)} (host caches)`,
    ],
  ];
  console.log(`Pecan memory benchmark on ${arch}`);
  for (const [name, ns, note] of rows)
    console.log(`${name.padEnd(28)} ${ns.toFixed(1).padStart(10)} ns  ${note}`);
}

main();
