import type { Kernel } from '../kernel';
import type { Thread } from '../objects/thread';
import type { ExceptionEvent, IpcEvent, ScheduleEvent, ThreadEvent } from './events';

/** One Chrome Trace Event (the JSON array format Perfetto and chrome://tracing read). */
export interface ChromeTraceEvent {
  name: string;
  cat: string;
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  ts: number;
  pid: number;
  tid: number;
  dur?: number;
  id?: number;
  bp?: 'e';
  s?: 't' | 'p' | 'g';
  args?: Record<string, string | number>;
}

/**
 * Records a kernel's events as Chrome Trace Events: one track per CPU carrying a
 * slice for each thread's time on it, IPC as flow arrows from sender to receiver,
 * and exceptions and thread lifecycle as instant events. Timestamps are virtual
 * time in microseconds, so the same image and seed give the same bytes.
 *
 * Threads and tasks appear under the names they have when the trace is finished: a
 * loader names what it creates (the debugger protocol) after creating it, and one
 * thread should not show under two names.
 */
export class TraceRecorder {
  private readonly events: ChromeTraceEvent[] = [];
  /** Events whose names depend on thread or task names, and how to write them at the end. */
  private readonly named: { event: ChromeTraceEvent; name: () => string }[] = [];
  private readonly open: ({ thread: Thread; start: number } | null)[];
  private readonly usPerCycle: number;
  private readonly detach: () => void;

  constructor(private readonly kernel: Kernel) {
    this.usPerCycle = 1e6 / kernel.platform.cpuHz;
    this.open = kernel.cpus.map(() => null);
    for (const cpu of kernel.cpus) {
      this.events.push({
        name: 'thread_name',
        cat: '__metadata',
        ph: 'M',
        ts: 0,
        pid: 1,
        tid: cpu.index,
        args: { name: `cpu${cpu.index}` },
      });
      const cur = cpu.current;
      if (cur) this.open[cpu.index] = { thread: cur, start: cpu.time };
    }
    this.events.push({
      name: 'process_name',
      cat: '__metadata',
      ph: 'M',
      ts: 0,
      pid: 1,
      tid: 0,
      args: { name: `pecan (${kernel.platform.name})` },
    });
    const onSchedule = (e: ScheduleEvent) => this.schedule(e);
    const onIpc = (e: IpcEvent) => this.ipc(e);
    const onException = (e: ExceptionEvent) =>
      this.instant(e.thread, e.time, `exception: ${e.description}`, 'exception');
    const onThread = (e: ThreadEvent) =>
      this.instant(e.thread, e.time, `${e.type}${e.detail ? `: ${e.detail}` : ''}`, 'thread');
    kernel.events.on('schedule', onSchedule);
    kernel.events.on('ipc', onIpc);
    kernel.events.on('exception', onException);
    kernel.events.on('thread', onThread);
    this.detach = () => {
      kernel.events.off('schedule', onSchedule);
      kernel.events.off('ipc', onIpc);
      kernel.events.off('exception', onException);
      kernel.events.off('thread', onThread);
    };
  }

  private us(cycles: number): number {
    return Math.round(cycles * this.usPerCycle * 1000) / 1000;
  }

  private schedule(e: ScheduleEvent): void {
    this.close(e.cpu, e.time);
    if (e.to) this.open[e.cpu] = { thread: e.to, start: e.time };
  }

  private close(cpu: number, time: number): void {
    const o = this.open[cpu];
    if (!o) return;
    this.open[cpu] = null;
    const thread = o.thread;
    const args = { thread: thread.id, task: '' };
    this.push(
      () => {
        args.task = thread.task?.name ?? '';
        return thread.name;
      },
      { cat: 'thread', ph: 'X', ts: this.us(o.start), dur: this.us(time - o.start), pid: 1, tid: cpu, args },
    );
  }

  /** Records `event`, whose name `name` gives when the trace is finished. */
  private push(name: () => string, event: Omit<ChromeTraceEvent, 'name'>): void {
    const e: ChromeTraceEvent = { name: '', ...event };
    this.events.push(e);
    this.named.push({ event: e, name });
  }

  private ipc(e: IpcEvent): void {
    const ts = this.us(e.time);
    const args = { label: e.label, words: e.tag & 0x3f, items: (e.tag >>> 6) & 0x3f };
    const { kind, from, to } = e;
    this.push(() => `${kind} ${from?.name ?? 'irq'} → ${to.name}`, {
      cat: 'ipc',
      ph: 'i',
      s: 't',
      ts,
      pid: 1,
      tid: e.cpu,
      args,
    });
    this.events.push({
      name: e.kind,
      cat: 'ipc',
      ph: 's',
      ts,
      pid: 1,
      tid: e.from ? e.from.cpu : e.cpu,
      id: e.seq,
    });
    this.events.push({ name: e.kind, cat: 'ipc', ph: 'f', bp: 'e', ts, pid: 1, tid: e.to.cpu, id: e.seq });
  }

  private instant(t: Thread, time: number, name: string, cat: string): void {
    this.push(() => `${t.name}: ${name}`, {
      cat,
      ph: 'i',
      s: 't',
      ts: this.us(time),
      pid: 1,
      tid: t.cpu,
    });
  }

  /** Closes the open slices at the kernel's current time and stops recording. */
  finish(): ChromeTraceEvent[] {
    this.detach();
    for (const cpu of this.kernel.cpus) this.close(cpu.index, cpu.time);
    for (const { event, name } of this.named) event.name = name();
    this.named.length = 0;
    return this.events;
  }
}

/** The trace as the JSON text of a Chrome trace file. */
export function exportChromeTrace(events: readonly ChromeTraceEvent[]): string {
  return `{"displayTimeUnit":"ns","traceEvents":[\n${events.map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`;
}
