import { CapSpace } from '../cap/cap-space';
import type { AddressSpace } from '../mem/address-space';
import type { IoSpace } from '../mem/io-space';
import type { MemoryPort } from '../mem/memory-port';
import type { UtcbArea } from '../mem/utcb-area';
import { KObject, ObjectKind } from './kobject';
import type { Thread } from './thread';

/**
 * A task: a protection domain. It owns a capability space, and on a machine with memory
 * an address space (with the UTCBs of its threads) and, where the machine has I/O
 * ports, an I/O space. Threads execute in a task once bound to it.
 */
export class Task extends KObject {
  readonly kind = ObjectKind.TASK;
  readonly caps: CapSpace;
  /** Threads bound to this task, in binding order. */
  readonly threads = new Set<Thread>();
  /** Virtual memory; null on a platform without memory. */
  space: AddressSpace | null = null;
  /** Where the kernel keeps this task's UTCBs; null without memory. */
  utcbs: UtcbArea | null = null;
  /** The CPU's load/store unit for this space, shared by the task's threads. */
  memPort: MemoryPort | null = null;
  /** I/O ports this task may use; null on a machine without them. */
  io: IoSpace | null = null;
  /**
   * State that user-level code of this task shares between its threads (the
   * libl4/L4Re runtime: capability allocator and such). The kernel never reads it;
   * it stands for the task's own memory.
   */
  userland: unknown = undefined;

  constructor(
    id: number,
    name: string,
    factory: KObject['factory'],
    kmem: number,
    onLastCap: (o: KObject) => void,
  ) {
    super(id, name, factory, kmem);
    this.caps = new CapSpace(onLastCap);
  }
}
