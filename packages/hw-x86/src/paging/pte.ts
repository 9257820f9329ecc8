/**
 * The x86-64 paging-structure entry format (4-level paging, IA32_EFER.NXE = 1).
 *
 * Source: Intel SDM Vol. 3A §4.5 "4-Level Paging and 5-Level Paging". Current editions
 * number the entry tables 4-15 (PML4E) to 4-20 (4 KiB PTE); editions before 5-level
 * paging numbered the same tables one lower (4-14 to 4-19).
 *
 * An entry is 64 bits. Pecan keeps it as two little-endian 32-bit halves, `lo` (bits
 * 0–31) and `hi` (bits 32–63), so that the walk never touches BigInt. Flags in `lo` are
 * given as masks of their bit; the only flag in `hi` is XD (bit 63 = bit 31 of `hi`).
 */

/** Flag masks of the low half of an entry (bits 0–12). */
export const PteFlag = {
  /** Bit 0, P: present. Every other bit is ignored by the MMU when P = 0. */
  P: 1 << 0,
  /** Bit 1, R/W: writes allowed when 1 (for user accesses, at every level). */
  RW: 1 << 1,
  /** Bit 2, U/S: user-mode (CPL 3) accesses allowed when 1 (at every level). */
  US: 1 << 2,
  /** Bit 3, PWT: page-level write-through. */
  PWT: 1 << 3,
  /** Bit 4, PCD: page-level cache disable. */
  PCD: 1 << 4,
  /** Bit 5, A: accessed; set by the MMU in every entry a translation uses. */
  A: 1 << 5,
  /** Bit 6, D: dirty; set by the MMU in the leaf on a write (ignored in table entries). */
  D: 1 << 6,
  /** Bit 7, PS: in a PDPTE a 1 GiB page, in a PDE a 2 MiB page. Reserved (0) in a PML4E. */
  PS: 1 << 7,
  /** Bit 7 of a PTE (4 KiB page) is PAT, not PS. Pecan keeps it 0 (write-back). */
  PAT_4K: 1 << 7,
  /** Bit 8, G: global translation (leaves only). Pecan never sets it for user pages. */
  G: 1 << 8,
  /** Bit 12 of a 1 GiB / 2 MiB leaf is PAT (the address starts above it). Kept 0. */
  PAT_LARGE: 1 << 12,
} as const;

/** Bit position of XD (execute-disable) in the 64-bit entry. */
export const PTE_XD_BIT = 63;
/** XD as a mask of the high half (bit 63 = bit 31 of `hi`). */
export const PTE_HI_XD = 0x8000_0000;
/** Physical-address bits 32–51 as a mask of the high half (MAXPHYADDR = 52). */
export const PTE_HI_ADDR = 0x000f_ffff;
/** Address bits 12–31 in the low half: a table, or a 4 KiB page. */
export const PTE_LO_ADDR_4K = 0xffff_f000;
/** Address bits 21–31 in the low half of a 2 MiB leaf (PDE with PS = 1). */
export const PTE_LO_ADDR_2M = 0xffe0_0000;
/** Address bits 30–31 in the low half of a 1 GiB leaf (PDPTE with PS = 1). */
export const PTE_LO_ADDR_1G = 0xc000_0000;
/** The bits of the low half that hold flags shared by every entry kind (0–8). */
export const PTE_LO_FLAGS = 0x1ff;
/** Largest physical address an entry can hold, plus one (MAXPHYADDR = 52). */
export const X86_PHYS_LIMIT = 2 ** 52;

const TWO32 = 2 ** 32;

/** An entry as its two 32-bit halves (both unsigned). */
export interface PteWords {
  /** Bits 0–31. */
  lo: number;
  /** Bits 32–63. */
  hi: number;
}

/** Which of the six entry formats a decoded entry is. */
export type PteKind = 'PML4E' | 'PDPTE' | 'PDE' | 'PTE';

/**
 * Encodes an entry that points at `pa` (a table, or a page aligned to its size) with the
 * {@link PteFlag} bits `flags`, and XD when `xd`. `pa` must be below 2^52 and at least
 * 4 KiB-aligned; its low 12 bits are dropped.
 */
export function encodePte(pa: number, flags: number, xd = false): PteWords {
  return { lo: pteLow(pa, flags), hi: pteHigh(pa, xd) };
}

/** The low half of an entry for `pa` with `flags` (see {@link encodePte}). */
export function pteLow(pa: number, flags: number): number {
  return (((pa % TWO32) & PTE_LO_ADDR_4K) | flags) >>> 0;
}

/** The high half of an entry for `pa`, with XD when `xd` (see {@link encodePte}). */
export function pteHigh(pa: number, xd: boolean): number {
  return ((Math.floor(pa / TWO32) & PTE_HI_ADDR) | (xd ? PTE_HI_XD : 0)) >>> 0;
}

/**
 * The physical address an entry holds, for a leaf of size 2^`order` (12, 21 or 30) or,
 * with order 12, for a table.
 */
export function pteAddress(lo: number, hi: number, order: number): number {
  const mask = order === 30 ? PTE_LO_ADDR_1G : order === 21 ? PTE_LO_ADDR_2M : PTE_LO_ADDR_4K;
  return (hi & PTE_HI_ADDR) * TWO32 + ((lo & mask) >>> 0);
}

/** The entry as `0xhhhhhhhh_llllllll` (the 64-bit value, high half first). */
export function pteHex(e: PteWords): string {
  const h = (e.hi >>> 0).toString(16).padStart(8, '0');
  const l = (e.lo >>> 0).toString(16).padStart(8, '0');
  return `0x${h}_${l}`;
}

/** An entry taken apart, for tests, traces and debugging (not for the walk path). */
export interface DecodedPte {
  /** The entry format it was decoded as. */
  readonly kind: PteKind;
  /** P. */
  readonly present: boolean;
  /** R/W. */
  readonly writable: boolean;
  /** U/S. */
  readonly user: boolean;
  /** PWT. */
  readonly writeThrough: boolean;
  /** PCD. */
  readonly cacheDisable: boolean;
  /** A. */
  readonly accessed: boolean;
  /** D (meaningful for leaves only). */
  readonly dirty: boolean;
  /** True when the entry maps a page (a PTE, or a PDPTE/PDE with PS = 1). */
  readonly leaf: boolean;
  /** G (leaves only). */
  readonly global: boolean;
  /** XD, bit 63. */
  readonly executeDisable: boolean;
  /** Page size as log2 for a leaf (12, 21, 30); null for a table pointer. */
  readonly order: number | null;
  /** The page's or the next table's physical address. */
  readonly address: number;
}

/** Decodes the entry `lo`/`hi` as an entry of kind `kind`. */
export function decodePte(lo: number, hi: number, kind: PteKind): DecodedPte {
  const leaf = kind === 'PTE' || ((kind === 'PDPTE' || kind === 'PDE') && (lo & PteFlag.PS) !== 0);
  const order = !leaf ? null : kind === 'PTE' ? 12 : kind === 'PDE' ? 21 : 30;
  return {
    kind,
    present: (lo & PteFlag.P) !== 0,
    writable: (lo & PteFlag.RW) !== 0,
    user: (lo & PteFlag.US) !== 0,
    writeThrough: (lo & PteFlag.PWT) !== 0,
    cacheDisable: (lo & PteFlag.PCD) !== 0,
    accessed: (lo & PteFlag.A) !== 0,
    dirty: (lo & PteFlag.D) !== 0,
    leaf,
    global: leaf && (lo & PteFlag.G) !== 0,
    executeDisable: (hi & PTE_HI_XD) !== 0,
    order,
    address: pteAddress(lo, hi, order ?? 12),
  };
}
