import { EventEmitter } from 'eventemitter3';
import type { Thread } from '../objects/thread';

/** How an IPC event came about. */
export type IpcKind = 'call' | 'send' | 'reply' | 'irq' | 'exception' | 'page-fault';

/** A completed message transfer. */
export interface IpcEvent {
  readonly kind: IpcKind;
  /** Sending thread; null for interrupts. */
  readonly from: Thread | null;
  readonly to: Thread;
  /** Virtual time of the transfer, in cycles. */
  readonly time: number;
  readonly cpu: number;
  /** The message tag and the label delivered to the receiver. */
  readonly tag: number;
  readonly label: number;
  /** Per-kernel IPC sequence number, to pair this with a flow in traces. */
  readonly seq: number;
}

/** An IPC that ended in an error for `thread`. */
export interface IpcErrorEvent {
  readonly thread: Thread;
  /** IPC error code, as in the error TCR. */
  readonly code: number;
  readonly time: number;
}

/**
 * A CPU switched threads: `from` is the thread dispatched before (null at the first
 * dispatch), `to` the one now running (null: the CPU went idle).
 */
export interface ScheduleEvent {
  readonly cpu: number;
  readonly from: Thread | null;
  readonly to: Thread | null;
  readonly time: number;
}

/** A thread lifecycle change. */
export interface ThreadEvent {
  readonly type: 'create' | 'start' | 'exit' | 'dead';
  readonly thread: Thread;
  readonly time: number;
  readonly detail?: string;
}

/** A thread raised an exception. */
export interface ExceptionEvent {
  readonly thread: Thread;
  readonly time: number;
  /** Human-readable cause. */
  readonly description: string;
  /** False when the thread had no usable exception handler and was stopped. */
  readonly handled: boolean;
}

/** Output written to a Log object. */
export interface LogEvent {
  readonly tag: string;
  readonly text: string;
  readonly time: number;
  readonly thread: Thread | null;
}

/** The events a kernel emits, by name. */
export interface KernelEventMap {
  ipc: (e: IpcEvent) => void;
  'ipc-error': (e: IpcErrorEvent) => void;
  schedule: (e: ScheduleEvent) => void;
  thread: (e: ThreadEvent) => void;
  exception: (e: ExceptionEvent) => void;
  log: (e: LogEvent) => void;
}

/** Bit per event name, so the kernel can skip building events nobody listens to. */
export const EventBit = {
  ipc: 1,
  'ipc-error': 2,
  schedule: 4,
  thread: 8,
  exception: 16,
  log: 32,
} as const satisfies Record<keyof KernelEventMap, number>;

/**
 * The kernel's events, on an eventemitter3 emitter. It keeps `active`, a bit mask of
 * the event names that have listeners, so the IPC fast path tests one integer
 * instead of building event objects for no one.
 */
export class KernelEvents {
  /** Bits of {@link EventBit} whose events have at least one listener. */
  active = 0;
  private readonly emitter = new EventEmitter<KernelEventMap>();

  private refresh(): void {
    let mask = 0;
    for (const name of Object.keys(EventBit) as (keyof KernelEventMap)[]) {
      if (this.emitter.listenerCount(name) > 0) mask |= EventBit[name];
    }
    this.active = mask;
  }

  /** Adds `fn` as a listener for `event`. */
  on<T extends keyof KernelEventMap>(event: T, fn: KernelEventMap[T]): this {
    this.emitter.on(event, fn as never);
    this.refresh();
    return this;
  }

  /** Adds `fn` for the next `event` only. */
  once<T extends keyof KernelEventMap>(event: T, fn: KernelEventMap[T]): this {
    this.emitter.once(event, fn as never);
    this.refresh();
    return this;
  }

  /** Removes `fn` (or every listener) from `event`. */
  off<T extends keyof KernelEventMap>(event: T, fn?: KernelEventMap[T]): this {
    this.emitter.off(event, fn as never);
    this.refresh();
    return this;
  }

  /** Emits `event`; the kernel calls this only when the event's bit is active. */
  emit<T extends keyof KernelEventMap>(event: T, payload: Parameters<KernelEventMap[T]>[0]): void {
    (this.emitter.emit as (e: T, p: unknown) => boolean)(event, payload);
    // `once` listeners remove themselves while emitting.
    if (this.emitter.listenerCount(event) === 0) this.refresh();
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof KernelEventMap): number {
    return this.emitter.listenerCount(event);
  }
}
