import type { Factory } from './factory';

/** The kinds of kernel object. */
export const ObjectKind = {
  TASK: 'task',
  THREAD: 'thread',
  GATE: 'ipc-gate',
  FACTORY: 'factory',
  SCHEDULER: 'scheduler',
  IRQ: 'irq',
  LOG: 'log',
  ICU: 'icu',
} as const;
export type ObjectKind = (typeof ObjectKind)[keyof typeof ObjectKind];

/**
 * Kernel memory each object type costs its factory, in bytes. The figures follow the
 * sizes of the matching Fiasco.OC objects (a thread carries its kernel stack and TCB).
 */
export const KernelMemoryCost: Readonly<Record<ObjectKind, number>> = {
  task: 4096,
  thread: 4096,
  'ipc-gate': 64,
  factory: 64,
  scheduler: 64,
  irq: 64,
  log: 64,
  icu: 0,
};

/**
 * The common part of every kernel object.
 *
 * Invariant: `capCount` equals the number of capability-table slots, in all tasks,
 * that name this object; when it drops to 0 the object is destroyed and its kernel
 * memory returned to `factory`. `alive` is false exactly after destruction.
 */
export abstract class KObject {
  abstract readonly kind: ObjectKind;
  /** Kernel-wide creation number; stable for a given system image and seed. */
  readonly id: number;
  /** Human-readable name for traces and reports. */
  name: string;
  /** The factory that paid for this object, or null for boot objects. */
  readonly factory: Factory | null;
  /** Bytes of kernel memory charged to {@link KObject.factory}. */
  readonly kmem: number;
  capCount = 0;
  alive = true;

  constructor(id: number, name: string, factory: Factory | null, kmem: number) {
    this.id = id;
    this.name = name;
    this.factory = factory;
    this.kmem = kmem;
  }
}
