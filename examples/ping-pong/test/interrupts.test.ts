import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import {
  CapRights,
  capIndex,
  FixedSlot,
  IcuRef,
  Kernel,
  type Platform,
  program,
  type ThreadEnv,
  TriggerMode,
  type UserCode,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';

/** The UART's interrupt line on each machine: COM1 is ISA IRQ 4 (GSI 4), the PL011 INTID 33. */
const machines: [string, () => Platform, number][] = [
  ['x86-64 PC (IOAPIC + LAPIC)', createX86Platform, 4],
  ['AArch64 virt (GICv2)', createArmPlatform, 33],
];

describe.each(machines)('hardware interrupts on %s', (_name, make, line) => {
  it('a driver binds the UART line through the Icu and gets every interrupt as IPC, edge and level', () => {
    const platform = make();
    const ic = platform.interrupts!;
    const k = new Kernel({ platform });
    const t = k.createTask('uart-driver', { icu: true });
    k.mapCap(t, 20, k.createIrq('uart'), CapRights.ALL);
    const seen: string[] = [];
    k.createThread(
      t,
      program(function* driver(env: ThreadEnv): UserCode {
        const icu = new IcuRef(env, capIndex(FixedSlot.ICU));
        expect(yield* icu.info()).toBeGreaterThan(0);
        expect(yield* env.irq(capIndex(20)).attach(0x100)).toBe(0);
        expect(yield* icu.bind(line, capIndex(20))).toBe(0);
        yield env.wait();
        for (let n = 1; ; n++) {
          seen.push(`irq ${env.label.toString(16)} #${n}`);
          // Level phase: servicing the device on the second level interrupt drops the line.
          if (n === 3) ic.setLine(line, false);
          yield env.replyAndWait(0);
        }
      }),
      { name: 'driver', priority: 9 },
    );
    k.run();
    // Edge: one interrupt.
    ic.setLine(line, true);
    ic.setLine(line, false);
    k.run();
    expect(seen).toEqual(['irq 100 #1']);
    // Level: asserted until the driver services the device; re-fires after each reply.
    spawnModeChange(k, t, line);
    ic.setLine(line, true);
    expect(k.run().reason).toBe('idle');
    expect(seen).toEqual(['irq 100 #1', 'irq 100 #2', 'irq 100 #3']);
  });
});

/** Switches `line` to level-triggered from a second thread of the driver task. */
function spawnModeChange(k: Kernel, t: ReturnType<Kernel['createTask']>, line: number): void {
  k.createThread(
    t,
    program(function* setLevel(env: ThreadEnv): UserCode {
      expect(yield* new IcuRef(env, capIndex(FixedSlot.ICU)).setMode(line, TriggerMode.LEVEL)).toBe(0);
    }),
    { name: 'configure', priority: 10 },
  );
  k.run();
}
