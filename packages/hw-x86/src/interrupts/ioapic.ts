/**
 * The 82093AA I/O APIC as QEMU's `pc` machine has it (QEMU `hw/intc/ioapic.c`, version
 * 0x20): 24 redirection entries, one per global system interrupt (GSI) 0–23, reached
 * through the indirect IOREGSEL/IOWIN register pair at {@link PC_IOAPIC_BASE}.
 *
 * References: Intel 82093AA I/O Advanced Programmable Interrupt Controller datasheet
 * (order no. 290566-001), §3.0 "Register Description" (§3.1 IOREGSEL/IOWIN, §3.2.1
 * IOAPICID, §3.2.2 IOAPICVER, §3.2.3 IOAPICARB, §3.2.4 IOREDTBL).
 *
 * @module
 */

import type { ApicMessage } from './lapic';

/** Number of redirection entries (input pins) of QEMU's I/O APIC: GSIs 0–23. */
export const IOAPIC_PINS = 24;

/** The IOAPICVER version field QEMU's `pc` reports (82093AA silicon reports 0x11). */
export const IOAPIC_VERSION = 0x20;

/** Byte offsets of the I/O APIC's memory-mapped registers (82093AA §3.1). */
export const IoapicMmio = {
  /** I/O register select (bits 7:0 = the register IOWIN reaches). */
  IOREGSEL: 0x00,
  /** I/O window: reads and writes the register IOREGSEL selects. */
  IOWIN: 0x10,
  /**
   * EOI register of version-0x20 I/O APICs (QEMU; not on the 82093AA): a write of a
   * vector clears Remote IRR of the level-triggered entries with that vector.
   */
  EOI: 0x40,
} as const;

/** Indirect register indexes written to IOREGSEL (82093AA §3.2). */
export const IoapicReg = {
  /** IOAPICID: the APIC ID in bits 27:24. */
  ID: 0x00,
  /** IOAPICVER: version in bits 7:0, maximum redirection entry in bits 23:16 (read-only). */
  VER: 0x01,
  /** IOAPICARB: arbitration ID in bits 27:24 (read-only). */
  ARB: 0x02,
  /** Low dword of redirection entry 0; entry n is at `REDTBL + 2n` (low) and `REDTBL + 2n + 1` (high). */
  REDTBL: 0x10,
} as const;

/**
 * Bits of a redirection entry's low dword (82093AA §3.2.4, IOREDTBL[23:0]). Bits 31:17
 * are reserved and read as 0; the destination is in the high dword, see
 * {@link IOAPIC_DEST_SHIFT}.
 */
export const IoRedir = {
  /** Bits 7:0: the interrupt vector (0x10–0xFE). */
  VECTOR: 0xff,
  /** Bits 10:8: delivery mode (000 fixed, 001 lowest priority, 010 SMI, 100 NMI, 101 INIT, 111 ExtINT). */
  DELIVERY_MODE: 0x700,
  /** Bit 11: destination mode (0 physical: APIC ID; 1 logical: a set of APICs). */
  DEST_LOGICAL: 0x800,
  /** Bit 12 (read-only): delivery status, 1 while an interrupt is held pending delivery. */
  DELIVERY_STATUS: 0x1000,
  /** Bit 13: input pin polarity (0 active high, 1 active low). */
  ACTIVE_LOW: 0x2000,
  /** Bit 14 (read-only): Remote IRR of a level-triggered entry, set when a local APIC accepted, cleared by its EOI. */
  REMOTE_IRR: 0x4000,
  /** Bit 15: trigger mode (0 edge, 1 level). */
  LEVEL: 0x8000,
  /** Bit 16: interrupt mask (1 masked). The reset value. */
  MASKED: 0x1_0000,
} as const;

/** Shift of the destination field (entry bits 63:56) in the high dword. */
export const IOAPIC_DEST_SHIFT = 24;

/** Delivery modes of {@link IoRedir.DELIVERY_MODE} (82093AA §3.2.4), already shifted into bits 10:8. */
export const IoDeliveryMode = {
  FIXED: 0x000,
  LOWEST_PRIORITY: 0x100,
  SMI: 0x200,
  NMI: 0x400,
  INIT: 0x500,
  EXTINT: 0x700,
} as const;

/** The low-dword bits software can write; the rest are read-only (12, 14) or reserved (31:17). */
const LOW_WRITABLE =
  IoRedir.VECTOR |
  IoRedir.DELIVERY_MODE |
  IoRedir.DEST_LOGICAL |
  IoRedir.ACTIVE_LOW |
  IoRedir.LEVEL |
  IoRedir.MASKED;
/** The high-dword bits that exist (destination, bits 63:56); bits 55:32 are reserved. */
const HIGH_WRITABLE = 0xff00_0000;

/**
 * Sends an interrupt message on the APIC bus; returns whether at least one local APIC
 * accepted it.
 */
export type ApicBusDeliver = (message: ApicMessage) => boolean;

/** Options for {@link Ioapic}. */
export interface IoapicOptions {
  /** APIC ID of the I/O APIC (IOAPICID bits 27:24); QEMU's `pc` uses 0. */
  readonly id?: number;
  /**
   * What a rising edge on a masked edge-triggered pin does. The 82093AA (§3.2.4, bit 16)
   * and QEMU ignore it (`false`); the kernel's interrupt contract promises that such an
   * edge stays pending and fires on unmask (`true`, the default), so the model latches it
   * with Delivery Status set, as Linux's software IRQ resend does for the real part.
   */
  readonly latchMaskedEdges?: boolean;
}

/**
 * The I/O APIC. Software sees only its registers ({@link Ioapic.mmioRead32} /
 * {@link Ioapic.mmioWrite32} at offsets from {@link PC_IOAPIC_BASE}); devices drive its
 * input pins with {@link Ioapic.setPin}; local APICs report EOIs of level-triggered
 * vectors with {@link Ioapic.eoi}.
 *
 * Delivery follows the 82093AA and QEMU: an unmasked edge-triggered pin sends one
 * message per rising edge of its (polarity-corrected) input; an unmasked level-triggered
 * pin sends while its input is asserted and Remote IRR is clear, and sets Remote IRR when
 * a local APIC accepts. A local APIC's EOI of that vector clears Remote IRR, and if the
 * input is still asserted the entry sends again.
 */
export class Ioapic {
  private readonly deliver: ApicBusDeliver;
  private readonly latchMaskedEdges: boolean;
  private id: number;
  private ioregsel = 0;
  /** Low dwords of the entries, without Delivery Status (computed on read). */
  private readonly low = new Uint32Array(IOAPIC_PINS).fill(IoRedir.MASKED);
  private readonly high = new Uint32Array(IOAPIC_PINS);
  /** Electrical level of each input pin. */
  private readonly pin = new Array<boolean>(IOAPIC_PINS).fill(false);
  /** An edge that has been latched but not sent yet. */
  private readonly edgePending = new Array<boolean>(IOAPIC_PINS).fill(false);

  constructor(deliver: ApicBusDeliver, options: IoapicOptions = {}) {
    this.deliver = deliver;
    this.id = (options.id ?? 0) & 0xf;
    this.latchMaskedEdges = options.latchMaskedEdges ?? true;
  }

  /** Reads the 32-bit register at byte `offset` of the I/O APIC's MMIO page. */
  mmioRead32(offset: number): number {
    switch (offset) {
      case IoapicMmio.IOREGSEL:
        return this.ioregsel;
      case IoapicMmio.IOWIN:
        return this.readRegister(this.ioregsel);
      default:
        return 0;
    }
  }

  /** Writes the 32-bit register at byte `offset` of the I/O APIC's MMIO page. */
  mmioWrite32(offset: number, value: number): void {
    switch (offset) {
      case IoapicMmio.IOREGSEL:
        this.ioregsel = value & 0xff;
        return;
      case IoapicMmio.IOWIN:
        this.writeRegister(this.ioregsel, value);
        return;
      case IoapicMmio.EOI:
        this.eoi(value & 0xff);
        return;
    }
  }

  /** Selects indirect register `index` and reads it, as a driver does (IOREGSEL, then IOWIN). */
  read(index: number): number {
    this.mmioWrite32(IoapicMmio.IOREGSEL, index);
    return this.mmioRead32(IoapicMmio.IOWIN);
  }

  /** Selects indirect register `index` and writes it, as a driver does (IOREGSEL, then IOWIN). */
  write(index: number, value: number): void {
    this.mmioWrite32(IoapicMmio.IOREGSEL, index);
    this.mmioWrite32(IoapicMmio.IOWIN, value);
  }

  /** The input level of `pin` as last driven by {@link Ioapic.setPin}. */
  pinLevel(pin: number): boolean {
    return this.pin[this.checkPin(pin)] ?? false;
  }

  /**
   * The device side: drives input `pin` high (`true`) or low. Whether high means
   * asserted depends on the entry's polarity bit.
   */
  setPin(pin: number, high: boolean): void {
    const n = this.checkPin(pin);
    const wasAsserted = this.asserted(n);
    this.pin[n] = high;
    const low = this.low[n] ?? 0;
    if (low & IoRedir.LEVEL) {
      this.service(n);
      return;
    }
    if (!wasAsserted && this.asserted(n)) {
      if (low & IoRedir.MASKED && !this.latchMaskedEdges) return;
      this.edgePending[n] = true;
      this.service(n);
    }
  }

  /**
   * An EOI for `vector` from a local APIC (the EOI broadcast of a level-triggered vector,
   * or a write to the version-0x20 EOI register): clears Remote IRR of every
   * level-triggered entry with that vector and sends again those still asserted.
   */
  eoi(vector: number): void {
    for (let n = 0; n < IOAPIC_PINS; n++) {
      const low = this.low[n] ?? 0;
      if ((low & IoRedir.VECTOR) !== vector || !(low & IoRedir.LEVEL) || !(low & IoRedir.REMOTE_IRR))
        continue;
      this.low[n] = low & ~IoRedir.REMOTE_IRR;
      this.service(n);
    }
  }

  private readRegister(index: number): number {
    switch (index) {
      case IoapicReg.ID:
      case IoapicReg.ARB:
        // The arbitration ID is loaded from the APIC ID (82093AA §3.2.3).
        return (this.id << 24) >>> 0;
      case IoapicReg.VER:
        return (((IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION) >>> 0;
    }
    const n = (index - IoapicReg.REDTBL) >> 1;
    if (index < IoapicReg.REDTBL || n >= IOAPIC_PINS) return 0xffff_ffff; // QEMU's value for a hole
    if (index & 1) return this.high[n] ?? 0;
    const low = this.low[n] ?? 0;
    return (this.deliveryPending(n) ? low | IoRedir.DELIVERY_STATUS : low) >>> 0;
  }

  private writeRegister(index: number, value: number): void {
    if (index === IoapicReg.ID) {
      this.id = (value >>> 24) & 0xf;
      return;
    }
    const n = (index - IoapicReg.REDTBL) >> 1;
    if (index < IoapicReg.REDTBL || n >= IOAPIC_PINS) return;
    if (index & 1) {
      this.high[n] = value & HIGH_WRITABLE;
      return;
    }
    const old = this.low[n] ?? 0;
    const readOnly = old & IoRedir.REMOTE_IRR;
    let low = ((value & LOW_WRITABLE) | readOnly) >>> 0;
    if ((old ^ low) & IoRedir.LEVEL) {
      // A change of trigger mode drops a latched edge; an edge entry has no Remote IRR
      // (QEMU clears it too, for guests that switch a stuck line to edge).
      this.edgePending[n] = false;
      if (!(low & IoRedir.LEVEL)) low &= ~IoRedir.REMOTE_IRR;
    }
    this.low[n] = low;
    this.service(n);
  }

  /** Whether input `n` is asserted: its level, inverted for an active-low entry. */
  private asserted(n: number): boolean {
    const activeLow = ((this.low[n] ?? 0) & IoRedir.ACTIVE_LOW) !== 0;
    return (this.pin[n] ?? false) !== activeLow;
  }

  /** Delivery Status: the entry holds an interrupt it has not sent. */
  private deliveryPending(n: number): boolean {
    const low = this.low[n] ?? 0;
    if (low & IoRedir.LEVEL) return this.asserted(n) && !(low & IoRedir.REMOTE_IRR);
    return this.edgePending[n] ?? false;
  }

  /** Sends entry `n`'s interrupt if it is pending and deliverable. */
  private service(n: number): void {
    const low = this.low[n] ?? 0;
    if (low & IoRedir.MASKED) return;
    const level = (low & IoRedir.LEVEL) !== 0;
    if (level) {
      if (!this.asserted(n) || low & IoRedir.REMOTE_IRR) return;
    } else if (!this.edgePending[n]) {
      return;
    }
    this.edgePending[n] = false;
    // Remote IRR is set before the message goes out: the accepting local APIC may call
    // back into the kernel, which may acknowledge and EOI (clearing it) before we return.
    if (level) this.low[n] = low | IoRedir.REMOTE_IRR;
    const accepted = this.deliver({
      vector: low & IoRedir.VECTOR,
      deliveryMode: low & IoRedir.DELIVERY_MODE,
      logical: (low & IoRedir.DEST_LOGICAL) !== 0,
      destination: (this.high[n] ?? 0) >>> IOAPIC_DEST_SHIFT,
      level,
    });
    if (level && !accepted) this.low[n] = (this.low[n] ?? 0) & ~IoRedir.REMOTE_IRR;
  }

  private checkPin(pin: number): number {
    if (!Number.isInteger(pin) || pin < 0 || pin >= IOAPIC_PINS) {
      throw new RangeError(`IOAPIC: no input pin ${pin} (pins 0–${IOAPIC_PINS - 1})`);
    }
    return pin;
  }
}
