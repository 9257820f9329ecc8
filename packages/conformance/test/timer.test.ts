import { Kernel, program, TIMEOUT_NEVER, timeouts, timeoutUs } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

describe.each(BACKENDS)('the timer on $name', (backend) => {
  it('IPC timeouts fire on ticks of the platform timer', () => {
    const platform = backend.create(16 * 1024 * 1024);
    const k = new Kernel({ platform });
    const perTick = platform.cpuHz / platform.timer!.frequencyHz;
    expect(k.cyclesPerTick).toBe(perTick);
    const t = k.createTask('t');
    let start = 0;
    let woke = 0;
    k.createThread(
      t,
      program(function* (env) {
        yield env.compute(333); // leave the clock between two ticks
        start = k.now();
        yield env.wait(timeouts(TIMEOUT_NEVER, timeoutUs(1)));
      }),
    );
    k.events.on('ipc-error', (e) => {
      woke = e.time;
    });
    k.run();
    // The timeout is armed after the kernel entry, 1 µs later, and fires on the first
    // tick at or after that: not before it, not a tick later.
    const due = start + platform.cost.kernelEntry + platform.cpuHz / 1e6;
    expect(woke % perTick).toBe(0);
    expect(woke).toBeGreaterThanOrEqual(due);
    expect(woke - due).toBeLessThan(perTick);
  });
});
