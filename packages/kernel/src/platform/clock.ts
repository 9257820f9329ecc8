/** The clock options every back end's platform factory takes. */
export interface ClockOptions {
  /** Core clock in Hz. */
  readonly cpuHz?: number;
  /** Default time slice in cycles (default: `sliceMs` at `cpuHz`). */
  readonly timeSlice?: number;
}

/**
 * Resolves a back end's clock options against its defaults, rejecting anything that
 * is not a positive integer with a message that names the factory (`who`).
 */
export function resolveClock(
  who: string,
  options: ClockOptions,
  defaultHz: number,
  sliceMs: number,
): { cpuHz: number; defaultTimeSlice: number } {
  const positive = (what: string, v: number): number => {
    if (!Number.isSafeInteger(v) || v <= 0) {
      throw new RangeError(`${who}: ${what} must be a positive integer, got ${v}`);
    }
    return v;
  };
  const cpuHz = positive('cpuHz', options.cpuHz ?? defaultHz);
  const slice = options.timeSlice ?? Math.max(1, Math.round((cpuHz * sliceMs) / 1000));
  return { cpuHz, defaultTimeSlice: positive('timeSlice', slice) };
}
