/**
 * `@pecan/kernel`: the architecture-independent Pecan microkernel and the user-side
 * bindings that programs link against.
 *
 * @packageDocumentation
 */
export * from './abi';
export type { Cap } from './cap/cap-space';
export { CAP_SPACE_ORDER, CAP_SPACE_SLOTS, CapSpace } from './cap/cap-space';
export { MapNode, type MappingSpace } from './cap/mapdb';
export { ITEM_GRANT, ITEM_MAP, mapItemControl, memMapControl } from './ipc/typed-items';
export {
  type BlockedThread,
  DEFAULT_PRIORITY,
  type DeadThread,
  Kernel,
  type KernelOptions,
  type RunLimits,
  type RunResult,
  type StopReason,
  type TaskOptions,
  type ThreadOptions,
} from './kernel';
export {
  AddressSpace,
  type MemMapping,
  type MemoryStatus,
  PageMapping,
  type PhysPage,
  type ReservedRegion,
} from './mem/address-space';
export { ChargedFrameAllocator, FRAME_SIZE, FramePool, type QuotaAccount } from './mem/frame-pool';
export { IO_RIGHTS, type IoMapping, IoSpace } from './mem/io-space';
export { KernelMemory, RESERVED_REGION_SIZE, UTCB_AREA_OFFSET } from './mem/kernel-memory';
export { grantMemory, mapMemory, unmapMemory } from './mem/map';
export { MemoryPort } from './mem/memory-port';
export { SoftTlb, TLB_ENTRIES } from './mem/tlb';
export { UtcbArea } from './mem/utcb-area';
export { Factory } from './objects/factory';
export { Icu } from './objects/icu';
export { IpcGate } from './objects/ipc-gate';
export { Irq } from './objects/irq';
export { KernelMemoryCost, KObject, ObjectKind } from './objects/kobject';
export { Log } from './objects/log';
export { Scheduler } from './objects/scheduler';
export { Task } from './objects/task';
export { type DeathReason, Thread, ThreadState } from './objects/thread';
export { EX_REGS_KEEP } from './objects/thread-ops';
export { type ClockOptions, resolveClock } from './platform/clock';
export { type InterruptController, TriggerMode } from './platform/interrupts';
export {
  type FrameAllocator,
  MemAccess,
  MemType,
  PageStatus,
  type PageTableFormat,
  type PhysicalMemory,
  type Translation,
  WalkFault,
} from './platform/page-table';
export type {
  BusWidth,
  CostModel,
  DeviceBus,
  DeviceInfo,
  ExceptionCause,
  ExceptionState,
  HostEvents,
  MemoryRegion,
  Platform,
  PlatformMemory,
  RegisterLayout,
  TimerInfo,
  WordSink,
  WordSource,
} from './platform/platform';
export { readRegisterFile, writeRegisterFile } from './platform/register-file';
export { exportChromeTrace, TraceRecorder } from './trace/chrome-trace';
export * from './trace/events';
export * from './trace/summary';
export { CapAllocator, type SpawnOptions, ThreadEnv } from './user/env';
export { l4Error } from './user/l4-error';
export { UserMemory } from './user/memory';
export {
  FactoryRef,
  GateRef,
  IcuRef,
  IrqRef,
  LogRef,
  nameObject,
  SchedulerRef,
  TaskRef,
  type ThreadControlArgs,
  ThreadRef,
} from './user/objects';
export { UserPorts } from './user/ports';
export { type Main, type Program, program, type UserCode } from './user/program';
export {
  ACCESS_DONE,
  COMPUTE,
  type EntryPoint,
  type KernelEntry,
  MEMORY,
  PORT_IO,
  SYSCALL,
  SyscallRegisters,
  type ThreadPort,
} from './user/registers';
