import { CapRights, capIndex, Kernel, msgtag, program } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from './backends';

describe.each(BACKENDS)('the register file on $name', (backend) => {
  it('exception IPC carries the whole register file, syscall registers included; a full reply writes it back', () => {
    const platform = backend.create(16 * 1024 * 1024);
    const names = platform.registers.names;
    const k = new Kernel({ platform });
    const t = k.createTask('t');
    const seen: { words: number; regs: Record<string, number> }[] = [];
    const handler = k.createThread(
      k.createTask('handler'),
      program(function* (env) {
        let tag: number = yield env.wait();
        for (;;) {
          const words = tag & 0x3f;
          const first = words - names.length;
          const regs: Record<string, number> = {};
          names.forEach((n, i) => {
            regs[n] = env.utcb.mr(first + i);
          });
          seen.push({ words, regs });
          // Resume at the same IP with one register changed, through a full-length reply.
          env.utcb.setMr(first + names.indexOf(names[1]!), 0x1234);
          tag = yield env.replyAndWait(msgtag(0, words));
        }
      }),
      { priority: 5 },
    );
    k.mapCap(t, 20, k.createGate(handler, 0x40), CapRights.RW);
    let runs = 0;
    const victim = k.createThread(
      t,
      program(function* (env) {
        runs++;
        // Load the invoke registers as a call would, then fault.
        env.invoke(capIndex(33) | 3, msgtag(7, 2), 0x55);
        if (runs === 1) throw new Error('stop');
      }),
      { exceptionHandler: capIndex(20) },
    );
    k.run();
    expect(runs).toBe(2);
    expect(seen).toHaveLength(1);
    const frame = seen[0]!;
    expect(frame.words).toBeGreaterThanOrEqual(names.length);
    const sc = platform.registers.syscall;
    expect(frame.regs[sc.capAndFlags]).toBe(capIndex(33) | 3);
    expect(frame.regs[sc.tag]).toBe(msgtag(7, 2));
    expect(frame.regs[sc.timeouts]).toBe(0x55);
    expect(frame.regs[platform.registers.ip]).toBe(victim.ip);
    // The handler's change is in the thread's register file.
    expect(victim.gprs[1]).toBe(0x1234);
  });
});
