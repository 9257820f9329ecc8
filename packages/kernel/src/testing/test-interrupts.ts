import { type InterruptController, TriggerMode } from '../platform/interrupts';

/**
 * A reference interrupt controller: the contract's semantics with no register model,
 * for kernel tests and as an executable statement of what back ends must do. Lines
 * start masked and edge-triggered; every line targets CPU 0.
 */
export function createTestInterruptController(lines: readonly number[]): InterruptController {
  const known = new Set(lines);
  const mode = new Map<number, TriggerMode>();
  const enabled = new Set<number>();
  const high = new Set<number>();
  const pending = new Set<number>();
  const active = new Set<number>();
  const ic: InterruptController = {
    name: 'test',
    lines,
    onPending: null,
    configure(line, m) {
      if (!known.has(line)) return false;
      mode.set(line, m);
      return true;
    },
    mask(line) {
      enabled.delete(line);
    },
    unmask(line) {
      if (!known.has(line)) return;
      enabled.add(line);
      if (mode.get(line) === TriggerMode.LEVEL && high.has(line) && !active.has(line)) pending.add(line);
      signal(line);
    },
    setLine(line, level) {
      if (!known.has(line)) return;
      const rising = level && !high.has(line);
      if (level) high.add(line);
      else high.delete(line);
      if (mode.get(line) === TriggerMode.LEVEL ? level && !active.has(line) : rising) pending.add(line);
      if (mode.get(line) === TriggerMode.LEVEL && !level) pending.delete(line);
      signal(line);
    },
    acknowledge() {
      let best = -1;
      for (const l of pending) if (enabled.has(l) && l > best) best = l;
      if (best >= 0) {
        pending.delete(best);
        active.add(best);
      }
      return best;
    },
    endOfInterrupt(_cpu, line) {
      active.delete(line);
      if (mode.get(line) === TriggerMode.LEVEL && high.has(line)) {
        pending.add(line);
        signal(line);
      }
    },
  };
  function signal(line: number): void {
    if (pending.has(line) && enabled.has(line)) ic.onPending?.(0);
  }
  return ic;
}
