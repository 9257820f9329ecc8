import { CapSpace } from '../cap/cap-space';
import { KObject, ObjectKind } from './kobject';
import type { Thread } from './thread';

/**
 * A task: a protection domain. In this issue it owns a capability space; the memory
 * issue adds its address space. Threads execute in a task once bound to it.
 */
export class Task extends KObject {
  readonly kind = ObjectKind.TASK;
  readonly caps: CapSpace;
  /** Threads bound to this task, in binding order. */
  readonly threads = new Set<Thread>();
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
