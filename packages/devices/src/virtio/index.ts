/**
 * Virtio devices: the virtio-mmio (version 2) transport, split virtqueues and a block
 * device with RAM and host-file backends.
 *
 * @packageDocumentation
 */
export * from './blk';
export * from './block-backend';
export * from './mmio';
export {
  type DescriptorChain,
  layoutProblem,
  type PopResult,
  readChain,
  type Segment,
  SplitVirtqueue,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_DESC_F_INDIRECT,
  VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE,
  VIRTQ_MAX_SIZE,
  type VirtqueueLayout,
  type WalkOptions,
  writeChain,
} from './virtqueue';
