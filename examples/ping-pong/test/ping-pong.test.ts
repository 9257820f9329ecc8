import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import type { IpcEvent } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { bootPingPong, TABLE } from '../system';

const MiB = 1024 * 1024;

describe('ping-pong example', () => {
  it('squares 1..12 over IPC, prints through the UART driver, stores them in paged-in memory, ends idle', () => {
    const platform = createX86Platform({ ramSize: 32 * MiB });
    const kernel = bootPingPong({ platform });
    const faults: number[] = [];
    kernel.events.on('ipc', (e: IpcEvent) => {
      if (e.kind === 'page-fault') faults.push(e.to.utcb.mr(0));
    });
    const result = kernel.run();
    // Every line went out through COM1's transmit register; nothing through the kernel Log.
    expect(platform.uart.takeOutput().split('\n')).toEqual([
      'squares server: waiting for requests',
      'squares server: 4 requests served',
      'squares server: 8 requests served',
      'squares server: 12 requests served',
      'client: squares of 1..12 = 1 4 9 16 25 36 49 64 81 100 121 144',
      'client: stored them at 0x20000000 (3 pages); their sum is 650',
      '',
    ]);
    expect(kernel.logOutput).toEqual([]);
    expect(result.reason).toBe('idle');
    expect(result.dead).toEqual([]);
    // One write fault per page of the table (address | w), seen by the pager.
    expect(faults).toEqual([TABLE + 2, TABLE + 0x1000 + 2, TABLE + 0x2000 + 2]);
    // 12 calls and 12 replies; per page fault the fault and its reply, and the pager's
    // call to sigma0 and its reply; per console line a call and its reply; the console's
    // request for its UART from sigma0. (Kernel-object invocations are not IPC.)
    expect(result.ipcCount).toBe(24 + 3 * 4 + 6 * 2 + 2);
  });

  it('is deterministic', () => {
    const run = () => {
      const k = bootPingPong({ platform: createX86Platform({ ramSize: 32 * MiB }), seed: 9 });
      const r = k.run();
      return `${r.time}/${r.ipcCount}/${[...k.threads].map((t) => t.cyclesUsed).join(',')}`;
    };
    expect(run()).toBe(run());
  });
});

describe('ping-pong on both machines', () => {
  it('boots unchanged on x86-64 and AArch64: same console and IPCs, different cycle counts', () => {
    const runs = [createX86Platform({ ramSize: 32 * MiB }), createArmPlatform({ ramSize: 32 * MiB })].map(
      (platform) => {
        const k = bootPingPong({ platform });
        const r = k.run();
        return { text: platform.uart.takeOutput(), ipc: r.ipcCount, reason: r.reason, time: r.time };
      },
    );
    expect(runs[1]!.text).toEqual(runs[0]!.text);
    expect(runs[0]!.text).toContain('their sum is 650\n');
    for (const run of runs) expect([run.ipc, run.reason]).toEqual([50, 'idle']);
    expect(runs[0]!.time).not.toBe(runs[1]!.time);
  });
});
