/**
 * The environment a program started by the root task sees: one read-only page at
 * {@link PROGRAM_ENV_ADDRESS} in its address space, holding a little-endian u32 byte
 * count and then that many bytes of UTF-8 JSON:
 *
 * ```json
 * { "name": "client", "caps": { "squares": 2097152, "console": 2101248 }, "ram": 4194304 }
 * ```
 *
 * `caps` maps each named capability of the system description to its capability index
 * in the program's task (for a device, its Irq); `devices` describes each device
 * capability (`{ device }`): where its registers, interrupt and DMA memory now are in
 * the program (./devices.ts). Besides those, a program has the fixed slots of every task:
 * itself (1), its factory with its kernel-memory quota (2), its thread (3), its pager
 * with its RAM quota (4), a Log (5) and the scheduler (7).
 */
import type { ThreadEnv, UserCode } from '@pecan/kernel';
import type { DeviceAccess } from './devices';

/** Where the root task maps a program's environment page. */
export const PROGRAM_ENV_ADDRESS = 0x7000_0000;

/** Who is behind one of a server's per-client gates. */
export interface ClientOfGate {
  /** The client program's name. */
  readonly program: string;
  /** The name of the gate it reaches, as the server's `serves` lists it. */
  readonly gate: string;
}

/** What a program learns about itself. */
export interface ProgramEnvironment {
  readonly name: string;
  /** Named capabilities: name → capability index. */
  readonly caps: Readonly<Record<string, number>>;
  /** Its RAM quota in bytes. */
  readonly ram: number;
  /**
   * Devices it was given, by capability name: their registers already in its address
   * space or I/O space, their Irq in its capability table, and DMA memory for disks.
   */
  readonly devices?: Readonly<Record<string, DeviceAccess>>;
  /**
   * For a server: who each of its clients is. Every client gets a gate of its own, and
   * this maps the gate's label (as a decimal string, two low bits clear as the server
   * sees it in `env.label` or the IDL's `ctx.label`) to the client and the gate.
   */
  readonly clients?: Readonly<Record<string, ClientOfGate>>;
}

/** The bytes of an environment page. */
export function encodeProgramEnvironment(e: ProgramEnvironment): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(e));
  if (json.length + 4 > 4096) throw new RangeError(`the environment of ${e.name} does not fit a page`);
  const out = new Uint8Array(4 + json.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  return out;
}

/**
 * Reads the program's environment (the thread's start argument is its address, so any
 * thread of the program can pass `env.arg` or use the default).
 */
export function* programEnvironment(env: ThreadEnv, at = PROGRAM_ENV_ADDRESS): UserCode<ProgramEnvironment> {
  const n = yield* env.mem.readU32(at);
  const bytes = yield* env.mem.read(at + 4, Math.min(n, 4092));
  return JSON.parse(new TextDecoder().decode(bytes)) as ProgramEnvironment;
}

/** The capability index of the named capability `name`; throws when the program has none. */
export function* namedCap(env: ThreadEnv, name: string): UserCode<number> {
  const e = yield* programEnvironment(env);
  const cap = e.caps[name];
  if (cap === undefined) throw new Error(`${e.name} has no capability named "${name}"`);
  return cap;
}
