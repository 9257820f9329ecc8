import { KObject, ObjectKind } from './kobject';

/**
 * The kernel debug console (Fiasco's vcon-style Log). Output goes to the kernel's
 * log sink, which the host captures; each write is tagged with the writer's name.
 */
export class Log extends KObject {
  readonly kind = ObjectKind.LOG;
  /** Prefix the host sees for output written through this object. */
  tag: string;

  constructor(id: number, name: string, factory: KObject['factory'], kmem: number, tag: string) {
    super(id, name, factory, kmem);
    this.tag = tag;
  }
}
