import { KObject, ObjectKind } from './kobject';

/**
 * A scheduler object: the authority to run threads at a priority on a set of CPUs.
 * The boot scheduler allows every priority and CPU; derived schedulers carry a lower
 * maximum priority and a subset of the CPUs, so a parent can bound what its children
 * may do (the limit brief §3 asks for, enforced where only the kernel can).
 */
export class Scheduler extends KObject {
  readonly kind = ObjectKind.SCHEDULER;

  constructor(
    id: number,
    name: string,
    factory: KObject['factory'],
    kmem: number,
    /** Highest priority a thread may be given through this object. */
    readonly maxPrio: number,
    /** Bit i set: CPU i may be used. */
    readonly cpuMask: number,
  ) {
    super(id, name, factory, kmem);
  }
}
