/**
 * GICv2 register offsets and fixed values, as ARM IHI 0048B ("ARM Generic Interrupt
 * Controller Architecture Specification, version 2.0") lays them out: table 4-1
 * (Distributor register map) and table 4-2 (CPU interface register map).
 *
 * @module
 */

/**
 * Number of INTIDs the model implements: 128, i.e. GICD_TYPER.ITLinesNumber = 3.
 * INTIDs 0–15 are SGIs, 16–31 PPIs (both banked per CPU), 32–127 SPIs. QEMU's `virt`
 * GIC has 288 INTIDs (`NUM_IRQS` 256 SPIs + 32); every device it wires (UART 33, RTC 34,
 * virtio-mmio 48–79) and the timer PPIs (27, 30) fall inside 0–127.
 */
export const GIC_INTIDS = 128;

/** INTIDs below this are private to a CPU (SGIs 0–15 and PPIs 16–31); SPIs start here. */
export const GIC_FIRST_SPI = 32;

/** The largest number of CPU interfaces a GICv2 supports (GICD_TYPER.CPUNumber is 3 bits). */
export const GIC_MAX_CPUS = 8;

/** INTID 1023: the spurious interrupt ID that GICC_IAR returns when nothing can be signalled (IHI 0048B §3.2.5). */
export const GIC_SPURIOUS_INTID = 1023;

/** Byte size of each of the two register frames (`VirtMap.GIC_DIST` / `VirtMap.GIC_CPU`). */
export const GIC_FRAME_BYTES = 0x1_0000;

/** Distributor register offsets from the GICD base (IHI 0048B table 4-1, §4.3). */
export const Gicd = {
  /** Distributor Control Register; bit 0 enables forwarding (§4.3.1). */
  CTLR: 0x000,
  /** Interrupt Controller Type Register: ITLinesNumber 4:0, CPUNumber 7:5 (§4.3.2). */
  TYPER: 0x004,
  /** Distributor Implementer Identification Register (§4.3.3). */
  IIDR: 0x008,
  /** Interrupt Group Registers (§4.3.4); RAZ/WI in this model (all interrupts Group 0). */
  IGROUPR: 0x080,
  /** Interrupt Set-Enable Registers, 1 bit per INTID, write 1 to set (§4.3.5). */
  ISENABLER: 0x100,
  /** Interrupt Clear-Enable Registers, write 1 to clear (§4.3.6). */
  ICENABLER: 0x180,
  /** Interrupt Set-Pending Registers (§4.3.7). */
  ISPENDR: 0x200,
  /** Interrupt Clear-Pending Registers (§4.3.8). */
  ICPENDR: 0x280,
  /** Interrupt Set-Active Registers (§4.3.9). */
  ISACTIVER: 0x300,
  /** Interrupt Clear-Active Registers (§4.3.10). */
  ICACTIVER: 0x380,
  /** Interrupt Priority Registers, 1 byte per INTID, lower is higher priority (§4.3.11). */
  IPRIORITYR: 0x400,
  /** Interrupt Processor Targets Registers, 1 byte (CPU bit mask) per INTID (§4.3.12). */
  ITARGETSR: 0x800,
  /** Interrupt Configuration Registers, 2 bits per INTID, bit 1 = edge-triggered (§4.3.13). */
  ICFGR: 0xc00,
  /** Software Generated Interrupt Register (§4.3.15). */
  SGIR: 0xf00,
  /** SGI Clear-Pending Registers, 1 byte (source CPU mask) per SGI (§4.3.16). */
  CPENDSGIR: 0xf10,
  /** SGI Set-Pending Registers (§4.3.17). */
  SPENDSGIR: 0xf20,
} as const;

/** CPU interface register offsets from the GICC base (IHI 0048B table 4-2, §4.4). */
export const Gicc = {
  /** CPU Interface Control Register (§4.4.1). */
  CTLR: 0x00,
  /** Interrupt Priority Mask Register (§4.4.2). */
  PMR: 0x04,
  /** Binary Point Register (§4.4.3). */
  BPR: 0x08,
  /** Interrupt Acknowledge Register: reading it acknowledges (§4.4.4). */
  IAR: 0x0c,
  /** End of Interrupt Register (§4.4.5). */
  EOIR: 0x10,
  /** Running Priority Register (§4.4.6). */
  RPR: 0x14,
  /** Highest Priority Pending Interrupt Register (§4.4.7). */
  HPPIR: 0x18,
  /** CPU Interface Identification Register (§4.4.14). */
  IIDR: 0xfc,
  /** Deactivate Interrupt Register, used when GICC_CTLR.EOImode is 1 (§4.4.15). */
  DIR: 0x1000,
} as const;

/** GICD_CTLR bits (§4.3.1). */
export const GicdCtlr = {
  /** Forward pending interrupts to the CPU interfaces (EnableGrp0). */
  ENABLE: 1 << 0,
} as const;

/** GICC_CTLR bits in a GIC without the Security Extensions (§4.4.1, table 4-30). */
export const GiccCtlr = {
  /** Signal interrupts to the processor (EnableGrp0). */
  ENABLE: 1 << 0,
  /**
   * EOImode (EOImodeS): 0 — a GICC_EOIR write both drops the running priority and
   * deactivates; 1 — GICC_EOIR only drops the priority, GICC_DIR deactivates.
   */
  EOI_MODE: 1 << 9,
} as const;

/**
 * GICD_IIDR value: Implementer = Arm (JEP106 code 0x43B in bits 11:0), Revision,
 * Variant and ProductID 0.
 */
export const GICD_IIDR_VALUE = 0x0000_043b;

/** GICC_IIDR value: Architecture version 2 (bits 19:16), Implementer Arm (0x43B). */
export const GICC_IIDR_VALUE = 0x0002_043b;

/** Bit position of the source CPU ID in a GICC_IAR / GICC_EOIR value for an SGI (bits 12:10). */
export const GICC_IAR_CPUID_SHIFT = 10;
