import { type InterruptController, TriggerMode } from '@pecan/kernel';
import { IOAPIC_DEST_SHIFT, IOAPIC_PINS, Ioapic, IoapicReg, IoRedir } from './ioapic';
import { LAPIC_SVR_ENABLE, Lapic, LapicReg, routeApicMessage } from './lapic';

/**
 * The vector the PC controller programs for GSI 0; GSI n gets `PC_IRQ_VECTOR_BASE + n`
 * (0x20–0x37). Vectors 0–31 are the CPU's exceptions and reserved (Intel SDM Vol. 3A,
 * §6.3), so external interrupts start at 32, where Linux and Fiasco also put the legacy
 * IRQs.
 */
export const PC_IRQ_VECTOR_BASE = 0x20;

/**
 * Legacy ISA IRQs of the PC's devices; ISA IRQ n is GSI n. (QEMU `pc` wires the PIT's
 * IRQ 0 to GSI 2 by an ACPI interrupt source override; Pecan models no PIT.)
 */
export const PcIrq = {
  /** COM1 (0x3F8). */
  COM1: 4,
  /** COM2 (0x2F8). */
  COM2: 3,
  /** CMOS real-time clock. */
  RTC: 8,
} as const;

/** The PC interrupt controller: the kernel's {@link InterruptController} plus the hardware it drives. */
export type PcInterruptController = InterruptController & {
  /** The I/O APIC (at {@link PC_IOAPIC_BASE}). */
  readonly ioapic: Ioapic;
  /** One local APIC per CPU, APIC ID = CPU index (at {@link PC_LAPIC_BASE} in each CPU's view). */
  readonly lapics: readonly Lapic[];
};

/**
 * The PC's interrupt path, IOAPIC + one LAPIC per CPU, behind the kernel's
 * {@link InterruptController}. Every contract method works through the registers, as a
 * kernel driver would:
 *
 * - lines are GSIs 0–23 (I/O APIC pins; legacy ISA IRQ n is GSI n, e.g. COM1 = 4,
 *   RTC = 8, see {@link PcIrq}); GSI n gets vector {@link PC_IRQ_VECTOR_BASE} + n;
 * - at creation each LAPIC is software-enabled (SVR = 0x1FF: spurious vector 0xFF) and
 *   each redirection entry is programmed with its vector, fixed delivery, physical
 *   destination APIC 0 (the boot CPU), edge, active high, still masked. Software may
 *   retarget a line by writing the entry's destination (bits 63:56) through
 *   {@link PcInterruptController.ioapic};
 * - `configure` sets the trigger mode (and active-high polarity) in the entry; `mask`
 *   and `unmask` the mask bit; `setLine` drives the I/O APIC pin;
 * - delivery sets the IRR bit in the destination LAPIC, which calls `onPending(cpu)`;
 * - `acknowledge(cpu)` is the CPU's INTA on that LAPIC (IRR → ISR), mapped back to the
 *   GSI whose entry holds the vector;
 * - `endOfInterrupt(cpu, line)` writes the LAPIC's EOI register.
 *
 * A LAPIC EOI retires the highest in-service vector, whatever the kernel meant. When
 * the kernel ends a line that is in service below a higher one (it acknowledged a
 * higher-class line meanwhile and that handler is still running), the EOI write is held
 * back until the higher ones have ended, so each EOI retires the vector it was for.
 *
 * The contract's methods throw a RangeError for a CPU or line that does not exist,
 * except `configure`, which returns false.
 */
export function createPcInterruptController(cpus = 1): PcInterruptController {
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 255) {
    throw new RangeError(`createPcInterruptController: ${cpus} CPUs (need 1–255 xAPIC IDs)`);
  }
  const lapics: Lapic[] = [];
  const ioapic = new Ioapic((message) => routeApicMessage(lapics, message));
  /** Per CPU: vectors the kernel ended while a higher vector was still in service. */
  const heldEois: Set<number>[] = [];

  const redirLow = (line: number) => IoapicReg.REDTBL + 2 * line;
  const vectorOf = (line: number) => ioapic.read(redirLow(line)) & IoRedir.VECTOR;
  const checkLine = (line: number): number => {
    if (!isLine(line))
      throw new RangeError(`PC interrupt controller: no line ${line} (GSIs 0–${IOAPIC_PINS - 1})`);
    return line;
  };
  const lapicOf = (cpu: number): Lapic => {
    const l = Number.isInteger(cpu) ? lapics[cpu] : undefined;
    if (l === undefined) throw new RangeError(`PC interrupt controller: no CPU ${cpu} (have ${cpus})`);
    return l;
  };
  const updateLow = (line: number, set: number, clear: number) => {
    const reg = redirLow(line);
    // Delivery Status and Remote IRR read back but are read-only; writing them is harmless.
    ioapic.write(reg, (ioapic.read(reg) & ~clear) | set);
  };

  const controller: PcInterruptController = {
    name: 'ioapic+lapic',
    lines: Array.from({ length: IOAPIC_PINS }, (_, i) => i),
    onPending: null,
    ioapic,
    lapics,
    configure(line, mode) {
      if (!isLine(line)) return false;
      const level = mode === TriggerMode.LEVEL ? IoRedir.LEVEL : 0;
      updateLow(line, level, IoRedir.LEVEL | IoRedir.ACTIVE_LOW);
      return true;
    },
    mask(line) {
      updateLow(checkLine(line), IoRedir.MASKED, 0);
    },
    unmask(line) {
      updateLow(checkLine(line), 0, IoRedir.MASKED);
    },
    setLine(line, high) {
      ioapic.setPin(checkLine(line), high);
    },
    acknowledge(cpu) {
      const lapic = lapicOf(cpu);
      const vector = lapic.acknowledge();
      if (vector < 0) return -1;
      for (let line = 0; line < IOAPIC_PINS; line++) {
        if (vectorOf(line) === vector) return line;
      }
      // A vector no entry holds (software reprogrammed the entry meanwhile): retire it.
      lapic.mmioWrite32(LapicReg.EOI, 0);
      return -1;
    },
    endOfInterrupt(cpu, line) {
      const lapic = lapicOf(cpu);
      const vector = vectorOf(checkLine(line));
      if (!lapic.test(LapicReg.ISR, vector)) return; // not in service: nothing to end
      const held = heldEois[cpu] ?? new Set<number>();
      heldEois[cpu] = held;
      held.add(vector);
      for (let top = lapic.highestInService(); top >= 0 && held.delete(top); top = lapic.highestInService()) {
        lapic.mmioWrite32(LapicReg.EOI, 0);
      }
    },
  };

  for (let cpu = 0; cpu < cpus; cpu++) {
    const lapic = new Lapic(cpu);
    lapic.onEoiBroadcast = (vector) => ioapic.eoi(vector);
    lapic.onInterrupt = () => controller.onPending?.(cpu);
    lapic.mmioWrite32(LapicReg.SVR, LAPIC_SVR_ENABLE | 0xff);
    lapics.push(lapic);
  }
  for (let line = 0; line < IOAPIC_PINS; line++) {
    ioapic.write(IoapicReg.REDTBL + 2 * line + 1, 0 << IOAPIC_DEST_SHIFT);
    ioapic.write(redirLow(line), IoRedir.MASKED | (PC_IRQ_VECTOR_BASE + line));
  }
  return controller;
}

function isLine(line: number): boolean {
  return Number.isInteger(line) && line >= 0 && line < IOAPIC_PINS;
}
