/**
 * The VMSAv8-64 translation table descriptor format, 4 KiB granule, 48-bit output
 * addresses, as named constants with the architecture's real bit positions.
 *
 * Source: Arm Architecture Reference Manual for A-profile (ARM DDI 0487), section D5.3
 * "VMSAv8-64 translation table format descriptors" (D5.3.1 "VMSAv8-64 translation
 * table level 0, level 1, and level 2 descriptor formats", D5.3.2 "Armv8 translation
 * table level 3 descriptor formats", D5.3.3 "Memory attribute fields in the VMSAv8-64
 * translation table format descriptors"). The same material is D4.3 in issue A and
 * D8.3 "Translation table descriptor formats" in issue I and later. Access permissions
 * are D5.4 "Memory access control" (stage 1 data access permissions, execute-never
 * controls, the Access flag and hardware management of dirty state).
 *
 * A descriptor is 64 bits, stored little-endian. Pecan never builds one as a BigInt:
 * it reads and writes the low and the high 32-bit word separately, so every constant
 * below exists as a bit position ({@link DescBit}) and as a mask within the word that
 * holds it ({@link DescLo} for bits 31:0, {@link DescHi} for bits 63:32).
 *
 * @module
 */

/** Bit positions of the descriptor fields in the 64-bit descriptor (DDI 0487 D5.3). */
export const DescBit = {
  /** bit[0]: 1 = valid. An entry with bit[0] = 0 is invalid (0bx0), whatever else it holds. */
  VALID: 0,
  /** bit[1]: descriptor type. With VALID: 1 = table (levels 0-2) or page (level 3), 0 = block. */
  TYPE: 1,
  /** AttrIndx[2:0], bits 4:2: index of the memory attributes in MAIR_EL1. */
  ATTR_INDX: 2,
  /** NS, bit 5: non-secure output address (ignored from Non-secure state). */
  NS: 5,
  /** AP[1], bit 6: 1 = accessible from EL0. */
  AP1: 6,
  /** AP[2], bit 7: 1 = read-only (at every EL that can access the page). */
  AP2: 7,
  /** SH[1:0], bits 9:8: shareability. */
  SH: 8,
  /** AF, bit 10: the Access flag. */
  AF: 10,
  /** nG, bit 11: not global, i.e. the TLB entry is tagged with the ASID. */
  NG: 11,
  /** Output address, bits 47:12 (page or next-level table); block: 47:21 at L2, 47:30 at L1. */
  OA: 12,
  /** DBM, bit 51: dirty bit modifier (FEAT_HAFDBS). */
  DBM: 51,
  /** Contiguous, bit 52: hint that this entry is one of a contiguous, aligned set. */
  CONTIGUOUS: 52,
  /** PXN, bit 53: privileged (EL1) execute-never. */
  PXN: 53,
  /** UXN, bit 54: unprivileged (EL0) execute-never (XN in single-EL regimes). */
  UXN: 54,
  /**
   * Bit 55, one of the bits 58:55 that the architecture leaves to software (ignored by
   * the MMU). Pecan keeps a page's dirty state here when it becomes read-only (DBM = 0),
   * as Linux's arm64 PTE_DIRTY does.
   */
  SW_DIRTY: 55,
  /** PXNTable, bit 59 of a table descriptor: PXN for everything below. */
  PXN_TABLE: 59,
  /** UXNTable, bit 60 of a table descriptor: UXN for everything below. */
  UXN_TABLE: 60,
  /** APTable[1:0], bits 62:61 of a table descriptor: access limits for everything below. */
  AP_TABLE: 61,
  /** NSTable, bit 63 of a table descriptor. */
  NS_TABLE: 63,
} as const;

/** Values of descriptor bits[1:0] (DDI 0487 D5.3.1, D5.3.2). */
export const DescType = {
  /** 0b00 (any 0bx0): invalid or fault entry. */
  INVALID: 0b00,
  /** 0b01: block descriptor at levels 1 and 2; reserved (invalid) at level 0 with a 4 KiB granule and 48-bit OA, and at level 3. */
  BLOCK: 0b01,
  /** 0b11: table descriptor at levels 0-2. */
  TABLE: 0b11,
  /** 0b11: page descriptor at level 3 (same encoding as a table). */
  PAGE: 0b11,
} as const;

/** SH[1:0] shareability encodings (DDI 0487 D5.3.3). */
export const Shareability = {
  /** 0b00: non-shareable. */
  NON: 0b00,
  /**
   * 0b10: outer shareable. Pecan writes it in Device leaves: the architecture treats
   * every Device access as Outer Shareable and ignores SH for it (DDI 0487 B2.7.2),
   * so any value works; this one says what the hardware does.
   */
  OUTER: 0b10,
  /** 0b11: inner shareable (used for all normal memory). */
  INNER: 0b11,
} as const;

/** Masks of the fields in the low word of a descriptor (bits 31:0). */
export const DescLo = {
  /** bit[0]. */
  VALID: 1 << DescBit.VALID,
  /** bit[1]. */
  TYPE: 1 << DescBit.TYPE,
  /** bits[1:0]. */
  TYPE_MASK: 0b11,
  /** AttrIndx[2:0], bits 4:2. */
  ATTR_INDX_MASK: 0b111 << DescBit.ATTR_INDX,
  /** NS, bit 5. */
  NS: 1 << DescBit.NS,
  /** AP[1], bit 6: EL0 access. */
  AP1_EL0: 1 << DescBit.AP1,
  /** AP[2], bit 7: read-only. */
  AP2_RO: 1 << DescBit.AP2,
  /** SH[1:0], bits 9:8. */
  SH_MASK: 0b11 << DescBit.SH,
  /** SH = 0b11, inner shareable. */
  SH_INNER: Shareability.INNER << DescBit.SH,
  /** SH = 0b10, outer shareable. */
  SH_OUTER: Shareability.OUTER << DescBit.SH,
  /** AF, bit 10. */
  AF: 1 << DescBit.AF,
  /** nG, bit 11. */
  NG: 1 << DescBit.NG,
  /** Lower attributes of a block or page descriptor, bits 11:2. */
  LOWER_ATTRS: 0xffc,
  /** OA bits 31:12 of a page or table descriptor (as an unsigned value use `>>> 0`). */
  OA_MASK: 0xfffff000,
} as const;

/** Masks of the fields in the high word of a descriptor (bits 63:32; bit n is `1 << (n - 32)`). */
export const DescHi = {
  /** OA bits 47:32 (descriptor bits 47:32). */
  OA_MASK: 0xffff,
  /** DBM, bit 51. */
  DBM: 1 << (DescBit.DBM - 32),
  /** Contiguous, bit 52. */
  CONTIGUOUS: 1 << (DescBit.CONTIGUOUS - 32),
  /** PXN, bit 53. */
  PXN: 1 << (DescBit.PXN - 32),
  /** UXN, bit 54. */
  UXN: 1 << (DescBit.UXN - 32),
  /** Software dirty bit, bit 55 (see {@link DescBit.SW_DIRTY}). */
  SW_DIRTY: 1 << (DescBit.SW_DIRTY - 32),
  /** Upper attributes of a block or page descriptor, bits 63:48 (DBM, Contiguous, PXN, UXN, software bits 58:55). */
  UPPER_ATTRS: 0xffff0000,
  /** PXNTable, bit 59. */
  PXN_TABLE: 1 << (DescBit.PXN_TABLE - 32),
  /** UXNTable, bit 60. */
  UXN_TABLE: 1 << (DescBit.UXN_TABLE - 32),
  /** APTable[0], bit 61: no EL0 access below this table. */
  AP_TABLE_NO_EL0: 1 << (DescBit.AP_TABLE - 32),
  /** APTable[1], bit 62: no write access below this table. */
  AP_TABLE_RO: 1 << (DescBit.AP_TABLE + 1 - 32),
  /** NSTable, bit 63 (as a positive number). */
  NS_TABLE: 2 ** (DescBit.NS_TABLE - 32),
} as const;

/**
 * MAIR_EL1 attribute index of normal memory (`MemType.NORMAL`): AttrIndx = 0. The back
 * end assumes MAIR_EL1.Attr0 = {@link MAIR_ATTR_NORMAL_WB}, as Linux and most L4
 * kernels set it.
 */
export const MAIR_INDEX_NORMAL = 0;

/**
 * The value this back end assumes in MAIR_EL1.Attr0 (see {@link MAIR_INDEX_NORMAL}):
 * 0xFF, Normal memory, Inner and Outer Write-Back Non-transient, Read-Allocate,
 * Write-Allocate (DDI 0487, MAIR_EL1 field descriptions: Attr<n>[7:4] = 0b1111 outer,
 * Attr<n>[3:0] = 0b1111 inner).
 */
export const MAIR_ATTR_NORMAL_WB = 0xff;

/**
 * MAIR_EL1 attribute index of device memory (`MemType.DEVICE`, the MMIO windows sigma0
 * hands to drivers): AttrIndx = 1, with MAIR_EL1.Attr1 = {@link MAIR_ATTR_DEVICE_NGNRE}.
 */
export const MAIR_INDEX_DEVICE = 1;

/**
 * The value this back end assumes in MAIR_EL1.Attr1 (see {@link MAIR_INDEX_DEVICE}):
 * 0x04, Device-nGnRE (Attr<n>[7:4] = 0b0000 Device, Attr<n>[3:0] = 0b0100 nGnRE), the
 * type Linux uses for MMIO (`MT_DEVICE_nGnRE`).
 */
export const MAIR_ATTR_DEVICE_NGNRE = 0x04;

/** Number of descriptors in one 4 KiB translation table (512 × 8 bytes). */
export const ENTRIES_PER_TABLE = 512;

/** Size of one translation table, and of the granule, in bytes. */
export const TABLE_BYTES = 4096;

/** Size of one descriptor in bytes. */
export const DESCRIPTOR_BYTES = 8;

/** TCR_EL1.T0SZ for a 48-bit TTBR0 region (64 - 48); with a 4 KiB granule the walk starts at level 0. */
export const TCR_T0SZ = 16;
