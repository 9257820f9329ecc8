/**
 * The interrupt-controller part of the Platform interface (brief §5). As in Fiasco.OC
 * the kernel owns the controller; user level sees interrupt lines only through the
 * Icu object, which binds a line to an Irq.
 *
 * A back end models the real controller (IOAPIC + LAPIC on the PC, GICv2 on `virt`)
 * with its real registers and numbering; this interface is the narrow view the kernel
 * drives it through.
 */

/** How a line signals. */
export const TriggerMode = {
  /** A rising edge latches one interrupt; further edges while it is pending coalesce. */
  EDGE: 0,
  /** The interrupt is pending for as long as the line is asserted. */
  LEVEL: 1,
} as const;
export type TriggerMode = (typeof TriggerMode)[keyof typeof TriggerMode];

/**
 * An interrupt controller as the kernel drives it.
 *
 * Lifecycle of one interrupt: a device asserts its line ({@link InterruptController.setLine});
 * if the line is enabled (unmasked) the controller calls {@link InterruptController.onPending}
 * for the target CPU; the kernel then {@link InterruptController.acknowledge}s it (reading
 * the LAPIC's highest pending vector / the GIC's IAR), masks the line, signals
 * {@link InterruptController.endOfInterrupt} at once (LAPIC EOI / GICC_EOIR: Fiasco's
 * mask-and-ack, so a slow handler never holds the controller), and raises the bound Irq.
 * When the handler unmasks the Irq, the kernel re-enables the line. A level-triggered
 * line that is still asserted then fires again; an edge that arrived while the line was
 * masked stays pending and fires on unmask. Nothing is lost.
 */
export interface InterruptController {
  /** Name of the model, e.g. `"ioapic+lapic"` or `"gicv2"`. */
  readonly name: string;
  /**
   * The line numbers user level may bind, in the architecture's own numbering: IOAPIC
   * global system interrupts (GSIs) on the PC, GIC INTIDs (SPIs from 32) on `virt`.
   */
  readonly lines: readonly number[];
  /** Called when an interrupt becomes pending for `cpu`; the kernel sets this. */
  onPending: ((cpu: number) => void) | null;
  /** Sets the trigger mode of `line`; false for a line that does not exist. */
  configure(line: number, mode: TriggerMode): boolean;
  /** Masks (disables) `line`; a pending interrupt stays pending. */
  mask(line: number): void;
  /** Unmasks (enables) `line`; a pending interrupt becomes deliverable. */
  unmask(line: number): void;
  /** The device side: drives `line` high (`true`) or low. An edge is high then low. */
  setLine(line: number, high: boolean): void;
  /** Takes the highest-priority pending interrupt for `cpu`: its line, or -1 if none. */
  acknowledge(cpu: number): number;
  /** Signals the end of handling `line` on `cpu`. */
  endOfInterrupt(cpu: number, line: number): void;
}
