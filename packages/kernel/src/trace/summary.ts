/**
 * Summaries of Chrome trace files written by {@link TraceRecorder}: who ran how long,
 * who sent what to whom. The reading side of `exportChromeTrace`, for `pecan trace
 * summarize` and for tests that want counts rather than a timeline.
 *
 * What a Pecan trace holds, and therefore what a summary can say:
 * - `M` metadata: the process (`pecan (<platform>)`) and one track per CPU (`cpuN`).
 * - `X` slices on a CPU track, one per stretch a thread ran there, named after the
 *   thread, with `args.thread` (its id) and `args.task`.
 * - `i` instants of category `ipc` named `<kind> <sender> → <receiver>` (the sender
 *   is `irq` for interrupts), with `args.label` (the label the receiver got: for IPC
 *   through a gate, the gate's label with the rights bits), `args.words` and
 *   `args.items`.
 * - `s`/`f` flow pairs of category `ipc`, named only by kind and paired by id.
 * - `i` instants of category `exception` (`<thread>: exception: <cause>`) and
 *   `thread` (`<thread>: create|start|exit|dead[: detail]`).
 *
 * The trace names no gates, so IPC is summarized per channel: sender, receiver, kind
 * and the label the receiver saw, which tells a server's gates apart as far as the
 * server itself can. Threads are identified by name, the only identity IPC events
 * carry; names that several thread ids share are reported in
 * {@link TraceSummary.warnings}.
 */
import type { IpcKind } from './events';

/** The IPC kinds, in the order summaries list them. */
const IPC_KINDS: readonly IpcKind[] = ['call', 'send', 'reply', 'irq', 'exception', 'page-fault'];

/** IPC counts by kind. */
export type IpcCounts = Record<IpcKind, number>;

/** One thread's share of a trace. */
export interface ThreadTraceSummary {
  /** The thread's name (threads are told apart by name; see {@link TraceSummary.warnings}). */
  readonly name: string;
  /** Kernel thread ids seen under this name in run slices (empty if it never ran while traced). */
  readonly ids: readonly number[];
  /** Tasks seen under this name in run slices. */
  readonly tasks: readonly string[];
  /** Run slices: stretches of time on one CPU. */
  readonly slices: number;
  /** Total run time over all CPUs, in microseconds of virtual time. */
  readonly runUs: number;
  /** Run time per CPU track, by track name (`cpu0`, …), in first-seen order. */
  readonly runUsByCpu: Readonly<Record<string, number>>;
  /** IPC this thread sent, by kind (never `irq`: interrupts have no sending thread). */
  readonly sent: IpcCounts;
  /** IPC this thread received, by kind. */
  readonly received: IpcCounts;
  /** Exceptions the thread raised (handled or not; the trace does not say which). */
  readonly exceptions: number;
}

/** The messages of one kind from one sender to one receiver with one label. */
export interface ChannelTraceSummary {
  readonly kind: IpcKind;
  /** The sending thread's name; null for interrupts. */
  readonly from: string | null;
  readonly to: string;
  /** The label the receiver got. */
  readonly label: number;
  /** Messages transferred. */
  readonly count: number;
  /** Message words over all these messages. */
  readonly words: number;
  /** Typed items over all these messages. */
  readonly items: number;
}

/** One CPU track. */
export interface CpuTraceSummary {
  /** Track name, as the trace's metadata gives it (`cpu0`, …). */
  readonly name: string;
  /** The track's Chrome `tid` (the CPU index). */
  readonly tid: number;
  /** Run slices on this CPU. */
  readonly slices: number;
  /** Time some thread ran on this CPU, in microseconds. */
  readonly busyUs: number;
}

/** What {@link summarizeTrace} finds in a trace. */
export interface TraceSummary {
  /** The process name, `pecan (<platform>)`. */
  readonly process: string;
  /** First and last event time, in microseconds of virtual time (0 and 0 for a trace of nothing). */
  readonly startUs: number;
  readonly endUs: number;
  readonly cpus: readonly CpuTraceSummary[];
  /** Threads, busiest first (run time, then first appearance). */
  readonly threads: readonly ThreadTraceSummary[];
  /** Channels, most messages first (then first appearance). */
  readonly channels: readonly ChannelTraceSummary[];
  /** IPC instants in the trace. */
  readonly ipcCount: number;
  /** Exception instants in the trace. */
  readonly exceptionCount: number;
  /** Oddities that did not stop the summary: shared thread names, unpaired flows, foreign events. */
  readonly warnings: readonly string[];
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function malformed(what: string): TypeError {
  return new TypeError(`not a Pecan Chrome trace: ${what}`);
}

function zeroCounts(): IpcCounts {
  return { call: 0, send: 0, reply: 0, irq: 0, exception: 0, 'page-fault': 0 };
}

/** Microseconds (rounded to nanoseconds by the recorder) as integer nanoseconds, so sums stay exact. */
function ns(us: number): number {
  return Math.round(us * 1000);
}

const IPC_NAME = /^(call|send|reply|irq|exception|page-fault) (.*?) → (.*)$/s;
const LIFECYCLE_NAME = /^(.*?): (?:create|start|exit|dead)(?::|$)/s;
const EXCEPTION_SEP = ': exception: ';

interface ThreadAcc {
  name: string;
  order: number;
  ids: Set<number>;
  tasks: Set<string>;
  slices: number;
  runNs: number;
  runNsByCpu: Map<string, number>;
  sent: IpcCounts;
  received: IpcCounts;
  exceptions: number;
}

interface ChannelAcc {
  kind: IpcKind;
  from: string | null;
  to: string;
  label: number;
  order: number;
  count: number;
  words: number;
  items: number;
}

/**
 * Summarizes a Chrome trace written by {@link exportChromeTrace}: the file's JSON
 * text, its parsed value, or the event array {@link TraceRecorder.finish} returns.
 *
 * @throws TypeError `not a Pecan Chrome trace: …` when the input is not JSON, not a
 *   trace, lacks the Pecan process metadata, or has a Pecan event of the wrong
 *   shape (the message names the event's index). Events the recorder does not write
 *   are skipped and counted in the warnings.
 */
export function summarizeTrace(json: string | object): TraceSummary {
  let value: unknown = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw malformed(`invalid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  let events: unknown;
  if (Array.isArray(value)) events = value;
  else if (isObject(value)) events = value.traceEvents;
  else throw malformed(`expected a JSON object with a traceEvents array, got ${describe(value)}`);
  if (!Array.isArray(events)) throw malformed('expected a JSON object with a traceEvents array');

  let processName: string | null = null;
  const cpuNames = new Map<number, string>();
  const cpuSlices = new Map<number, { slices: number; busyNs: number }>();
  const threads = new Map<string, ThreadAcc>();
  const channels = new Map<string, ChannelAcc>();
  const flowStarts = new Map<number, number>();
  const flowEnds = new Map<number, number>();
  let ipcCount = 0;
  let exceptionCount = 0;
  let foreign = 0;
  let startNs = Number.POSITIVE_INFINITY;
  let endNs = Number.NEGATIVE_INFINITY;

  const thread = (name: string): ThreadAcc => {
    let t = threads.get(name);
    if (!t) {
      t = {
        name,
        order: threads.size,
        ids: new Set(),
        tasks: new Set(),
        slices: 0,
        runNs: 0,
        runNsByCpu: new Map(),
        sent: zeroCounts(),
        received: zeroCounts(),
        exceptions: 0,
      };
      threads.set(name, t);
    }
    return t;
  };

  for (let i = 0; i < events.length; i++) {
    const e: unknown = events[i];
    const at = `traceEvents[${i}]`;
    if (!isObject(e)) throw malformed(`${at} is ${describe(e)}, not an event object`);
    const name = e.name;
    const ph = e.ph;
    if (typeof name !== 'string') throw malformed(`${at} has no string "name"`);
    if (typeof ph !== 'string') throw malformed(`${at} has no string "ph"`);
    const cat = e.cat;
    const field = (key: string, of: Json = e, where = ''): number => {
      const v = of[key];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw malformed(`${at} (${JSON.stringify(name)}) has no numeric "${where}${key}"`);
      }
      return v;
    };
    const args = (): Json => {
      if (!isObject(e.args)) throw malformed(`${at} (${JSON.stringify(name)}) has no "args" object`);
      return e.args;
    };
    const seen = (tsNs: number, durNs = 0) => {
      if (tsNs < startNs) startNs = tsNs;
      if (tsNs + durNs > endNs) endNs = tsNs + durNs;
    };

    if (ph === 'M') {
      if (name === 'process_name') {
        const n = args().name;
        if (typeof n === 'string' && processName === null && n.startsWith('pecan')) processName = n;
      } else if (name === 'thread_name') {
        const n = args().name;
        if (typeof n !== 'string') throw malformed(`${at} (thread_name) has no string "args.name"`);
        cpuNames.set(field('tid'), n);
      }
      continue;
    }

    if (ph === 'X' && cat === 'thread') {
      const tsNs = ns(field('ts'));
      const durNs = ns(field('dur'));
      const tid = field('tid');
      const a = args();
      const id = field('thread', a, 'args.');
      const task = a.task;
      if (typeof task !== 'string')
        throw malformed(`${at} (${JSON.stringify(name)}) has no string "args.task"`);
      seen(tsNs, durNs);
      const t = thread(name);
      t.ids.add(id);
      if (task !== '') t.tasks.add(task);
      t.slices++;
      t.runNs += durNs;
      const cpu = cpuName(cpuNames, tid);
      t.runNsByCpu.set(cpu, (t.runNsByCpu.get(cpu) ?? 0) + durNs);
      const c = cpuSlices.get(tid) ?? { slices: 0, busyNs: 0 };
      c.slices++;
      c.busyNs += durNs;
      cpuSlices.set(tid, c);
      continue;
    }

    if (cat === 'ipc' && (ph === 's' || ph === 'f')) {
      const id = field('id');
      seen(ns(field('ts')));
      const m = ph === 's' ? flowStarts : flowEnds;
      m.set(id, (m.get(id) ?? 0) + 1);
      continue;
    }

    if (ph === 'i' && cat === 'ipc') {
      const m = IPC_NAME.exec(name);
      if (!m)
        throw malformed(`${at} is an IPC event named ${JSON.stringify(name)}, not "<kind> <from> → <to>"`);
      const kind = m[1] as IpcKind;
      const from = kind === 'irq' ? null : m[2]!;
      const to = m[3]!;
      const a = args();
      const label = field('label', a, 'args.');
      const words = field('words', a, 'args.');
      const items = field('items', a, 'args.');
      seen(ns(field('ts')));
      ipcCount++;
      if (from !== null) thread(from).sent[kind]++;
      thread(to).received[kind]++;
      const key = JSON.stringify([kind, from, to, label]);
      let ch = channels.get(key);
      if (!ch) {
        ch = { kind, from, to, label, order: channels.size, count: 0, words: 0, items: 0 };
        channels.set(key, ch);
      }
      ch.count++;
      ch.words += words;
      ch.items += items;
      continue;
    }

    if (ph === 'i' && cat === 'exception') {
      const sep = name.indexOf(EXCEPTION_SEP);
      if (sep < 0) throw malformed(`${at} is an exception event named ${JSON.stringify(name)}`);
      seen(ns(field('ts')));
      exceptionCount++;
      thread(name.slice(0, sep)).exceptions++;
      continue;
    }

    if (ph === 'i' && cat === 'thread') {
      const m = LIFECYCLE_NAME.exec(name);
      if (!m) throw malformed(`${at} is a thread event named ${JSON.stringify(name)}`);
      seen(ns(field('ts')));
      thread(m[1]!);
      continue;
    }

    foreign++;
  }

  if (processName === null) throw malformed('no process_name metadata naming pecan');

  const warnings: string[] = [];
  for (const t of threads.values()) {
    if (t.ids.size > 1) {
      warnings.push(
        `threads ${[...t.ids].join(', ')} share the name ${JSON.stringify(t.name)}; their rows are merged`,
      );
    }
  }
  let unpaired = 0;
  for (const [id, n] of flowStarts) unpaired += Math.abs(n - (flowEnds.get(id) ?? 0));
  for (const [id, n] of flowEnds) if (!flowStarts.has(id)) unpaired += n;
  if (unpaired > 0)
    warnings.push(`${unpaired} IPC flow event${unpaired === 1 ? ' has' : 's have'} no partner`);
  if (foreign > 0) {
    warnings.push(`${foreign} event${foreign === 1 ? '' : 's'} not written by the Pecan recorder ignored`);
  }

  const tids = [...new Set([...cpuNames.keys(), ...cpuSlices.keys()])].sort((a, b) => a - b);
  const empty = startNs > endNs;
  return {
    process: processName,
    startUs: empty ? 0 : startNs / 1000,
    endUs: empty ? 0 : endNs / 1000,
    cpus: tids.map((tid) => {
      const c = cpuSlices.get(tid);
      return { name: cpuName(cpuNames, tid), tid, slices: c?.slices ?? 0, busyUs: (c?.busyNs ?? 0) / 1000 };
    }),
    threads: [...threads.values()]
      .sort((a, b) => b.runNs - a.runNs || a.order - b.order)
      .map((t) => ({
        name: t.name,
        ids: [...t.ids],
        tasks: [...t.tasks],
        slices: t.slices,
        runUs: t.runNs / 1000,
        runUsByCpu: Object.fromEntries([...t.runNsByCpu].map(([cpu, n]) => [cpu, n / 1000])),
        sent: t.sent,
        received: t.received,
        exceptions: t.exceptions,
      })),
    channels: [...channels.values()]
      .sort((a, b) => b.count - a.count || a.order - b.order)
      .map(({ kind, from, to, label, count, words, items }) => ({
        kind,
        from,
        to,
        label,
        count,
        words,
        items,
      })),
    ipcCount,
    exceptionCount,
    warnings,
  };
}

function cpuName(names: ReadonlyMap<number, string>, tid: number): string {
  return names.get(tid) ?? `cpu${tid}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Microseconds with nanosecond precision, as the recorder writes them. */
function formatUs(us: number): string {
  return us.toFixed(3);
}

function formatLabel(label: number): string {
  return Number.isSafeInteger(label)
    ? `${label < 0 ? '-' : ''}0x${Math.abs(label).toString(16)}`
    : String(label);
}

function formatCounts(c: IpcCounts): string {
  const parts = IPC_KINDS.filter((k) => c[k] > 0).map((k) => `${c[k]} ${k}`);
  return parts.length > 0 ? parts.join(', ') : '-';
}

/**
 * Plain-text table: a header row, then the rows, columns separated by two spaces,
 * text left-aligned, numbers (columns `numeric`) right-aligned. No trailing spaces.
 */
function table(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly boolean[],
): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * Renders a {@link TraceSummary} as aligned plain-text tables: a headline, the CPU
 * tracks, the threads (run time, IPC sent and received by kind, exceptions) and the
 * channels, then any warnings. Times are microseconds of virtual time.
 */
export function formatTraceSummary(summary: TraceSummary): string {
  const span = summary.endUs - summary.startUs;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const out: string[] = [
    `${summary.process}: ${plural(summary.cpus.length, 'CPU')}, ${plural(summary.threads.length, 'thread')}, ` +
      `${plural(summary.ipcCount, 'IPC')}, ${plural(summary.exceptionCount, 'exception')}, ` +
      `${formatUs(summary.startUs)}–${formatUs(summary.endUs)} µs`,
    '',
    'CPUs',
    table(
      ['cpu', 'slices', 'busy µs', 'busy %'],
      summary.cpus.map((c) => [
        c.name,
        String(c.slices),
        formatUs(c.busyUs),
        span > 0 ? `${((100 * c.busyUs) / span).toFixed(1)}%` : '-',
      ]),
      [false, true, true, true],
    ),
    '',
    'Threads',
    summary.threads.length === 0
      ? '(none)'
      : table(
          ['thread', 'task', 'slices', 'run µs', 'cpus', 'exceptions', 'sent', 'received'],
          summary.threads.map((t) => [
            t.name,
            t.tasks.length > 0 ? t.tasks.join(', ') : '-',
            String(t.slices),
            formatUs(t.runUs),
            Object.keys(t.runUsByCpu).join(', ') || '-',
            String(t.exceptions),
            formatCounts(t.sent),
            formatCounts(t.received),
          ]),
          [false, false, true, true, false, true, false, false],
        ),
    '',
    'Channels (sender → receiver, per kind and the label the receiver got; the trace names no gates)',
    summary.channels.length === 0
      ? '(none)'
      : table(
          ['channel', 'kind', 'label', 'messages', 'words', 'items'],
          summary.channels.map((c) => [
            `${c.from ?? '(irq)'} → ${c.to}`,
            c.kind,
            formatLabel(c.label),
            String(c.count),
            String(c.words),
            String(c.items),
          ]),
          [false, false, false, true, true, true],
        ),
  ];
  if (summary.warnings.length > 0) out.push('', ...summary.warnings.map((w) => `warning: ${w}`));
  return `${out.join('\n')}\n`;
}
