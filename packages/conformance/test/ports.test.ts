import { createX86Platform, decodeX86Exception, X86Vector } from '@pecan/hw-x86';
import {
  CapRights,
  capIndex,
  FixedSlot,
  IO_RIGHTS,
  ioFpage,
  Kernel,
  memMapControl,
  msgtag,
  Proto,
  program,
  tagLabel,
} from '@pecan/kernel';
import { describe, expect, it } from 'vitest';

const MiB = 1024 * 1024;

describe('x86 I/O ports', () => {
  it('an in/out to a port the task lacks is an I/O page fault; the pager maps the port and the access completes', () => {
    const k = new Kernel({ platform: createX86Platform({ ramSize: 16 * MiB }) });
    const s0 = k.createTask('sigma0', { sigma0: true });
    const faults: { label: number; mr0: number }[] = [];
    const pager = k.createThread(
      s0,
      program(function* (env) {
        let tag = yield env.wait();
        for (;;) {
          if (tag & 0x8000) {
            tag = yield env.wait();
            continue;
          }
          const mr0 = env.utcb.mr(0);
          faults.push({ label: tagLabel(tag), mr0 });
          // Map the 8 ports around the faulting one (an aligned I/O flexpage).
          const port = Math.floor(mr0 / 4096);
          env.utcb.setMr(0, memMapControl(0));
          env.utcb.setMr(1, ioFpage(port - (port % 8), 3, IO_RIGHTS));
          tag = yield env.replyAndWait(msgtag(0, 0, 1));
        }
      }),
      { priority: 5 },
    );
    const client = k.createTask('client');
    k.mapCap(client, FixedSlot.PAGER, k.createGate(pager, 0x10), CapRights.RW);
    const got: number[] = [];
    k.createThread(
      client,
      program(function* (env) {
        env.utcb.setMr(0, 77);
        got.push(yield* env.io.in8(0x2f9)); // COM2: no device decodes it, the bus floats high
        yield* env.io.out8(0x2fa, 0x12);
        got.push(yield* env.io.in16(0x2fc));
        got.push(yield* env.io.in8(0x3fd)); // COM1's line status: THR empty, transmitter empty
        got.push(env.utcb.mr(0));
      }),
      { pager: capIndex(FixedSlot.PAGER) },
    );
    const r = k.run();
    expect(r.dead).toEqual([]);
    // One fault per group of 8 ports; the later accesses in a group hit.
    expect(faults).toEqual([
      { label: Proto.IO_PAGE_FAULT, mr0: ioFpage(0x2f9, 0, 4) },
      { label: Proto.IO_PAGE_FAULT, mr0: ioFpage(0x3fd, 0, 4) },
    ]);
    expect(client.io!.allows(0x2f8, 8)).toBe(true);
    expect(client.io!.allows(0x3f8, 8)).toBe(true);
    expect(client.io!.allows(0x2f7, 1)).toBe(false);
    expect(got).toEqual([0xff, 0xffff, 0x60, 77]);
  });

  it('without a pager, a port access the task lacks raises #GP(0) to its exception handler', () => {
    const k = new Kernel({ platform: createX86Platform({ ramSize: 16 * MiB }) });
    const handlerTask = k.createTask('handler');
    let frame: ReturnType<typeof decodeX86Exception> | null = null;
    const handler = k.createThread(
      handlerTask,
      program(function* (env) {
        yield env.wait();
        frame = decodeX86Exception(env.utcb);
      }),
      { priority: 5 },
    );
    const t = k.createTask('t');
    k.mapCap(t, 20, k.createGate(handler, 0x20), CapRights.RW);
    k.createThread(
      t,
      program(function* (env) {
        yield* env.io.out8(0x80, 1);
      }),
      { exceptionHandler: capIndex(20) },
    );
    k.run();
    expect(frame).not.toBeNull();
    const f = frame as unknown as ReturnType<typeof decodeX86Exception>;
    expect([f.vector, f.errorCode, f.cr2]).toEqual([X86Vector.GP, 0, 0]);
  });

  it('is not there on AArch64: a port access is an undefined instruction', async () => {
    const { createArmPlatform, decodeArmException, ArmEc } = await import('@pecan/hw-arm');
    const k = new Kernel({ platform: createArmPlatform({ ramSize: 16 * MiB }) });
    const t = k.createTask('t');
    const th = k.createThread(
      t,
      program(function* (env) {
        yield* env.io.in8(0x3f8);
      }),
    );
    const r = k.run();
    expect(th.deathReason).toBe('exception');
    expect(r.dead[0]!.exception).toBe(
      'in from I/O port 0x3f8: the task may not use it (the machine has no I/O ports)',
    );
    void decodeArmException;
    void ArmEc;
  });
});
