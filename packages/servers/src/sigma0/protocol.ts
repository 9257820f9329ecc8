/**
 * The sigma0 protocol (label −6, reference facts "sigma0 (X.2)"), with Fiasco/L4Re's
 * request numbers:
 *
 * | MR0 | request | MR1 |
 * | --- | --- | --- |
 * | 0x60 `FPAGE_RAM` | give this frame | memory flexpage of the RAM wanted (physical address, size) |
 * | 0x70 `FPAGE_IOMEM` | give this MMIO region (uncached device memory) | memory flexpage of the region, or an I/O flexpage of ports |
 * | 0x90 `FPAGE_ANY` | give any frame | memory flexpage whose size is wanted (its address is ignored) |
 *
 * The client names where the memory lands with a memory receive window in BR0. A
 * successful reply carries the physical address in MR0 and one map item (so the
 * client's MR1 and MR2 hold the item's descriptor: where it landed). A failed one has
 * no item and the label −errno:
 *
 * - `EINVAL`: not a request sigma0 understands (bad flexpage, size or alignment);
 * - `ENOENT`: the range is not RAM (for `FPAGE_RAM`), not device memory or ports (for
 *   `FPAGE_IOMEM`);
 * - `EBUSY`: part of the range was given out already: every frame is given once;
 * - `ENOMEM`: no free block of that size is left (`FPAGE_ANY`);
 * - `ENOSYS`: an unknown request number.
 *
 * sigma0 also answers the page faults (label −2) of threads whose pager it is, the way
 * Fiasco's sigma0 serves the root task: it gives the faulting page of RAM or device
 * memory one to one (virtual = physical), or declines with −errno. An I/O page fault
 * (label −8) gets the one port, once.
 */
export const Sigma0Op = {
  FPAGE_RAM: 0x60,
  FPAGE_IOMEM: 0x70,
  FPAGE_IOMEM_CACHED: 0x80,
  FPAGE_ANY: 0x90,
  KIP: 0xa0,
} as const;
export type Sigma0Op = (typeof Sigma0Op)[keyof typeof Sigma0Op];
