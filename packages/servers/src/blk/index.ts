export {
  openVirtioBlk,
  openVirtioBlkDevice,
  VIRTIO_BLK_DRIVER_MAX_SECTORS,
  VIRTIO_BLK_DRIVER_WINDOW_SIZE,
  VIRTIO_BLK_SECTOR_SIZE,
  type VirtioBlkDriver,
  type VirtioBlkDriverOptions,
} from './virtio-blk-driver';
