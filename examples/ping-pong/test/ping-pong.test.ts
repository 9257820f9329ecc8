import { createTestPlatform } from '@pecan/kernel/testing';
import { describe, expect, it } from 'vitest';
import { bootPingPong } from '../system';

describe('ping-pong example', () => {
  it('squares 1..12 over IPC and ends idle with the server waiting', () => {
    const kernel = bootPingPong({ platform: createTestPlatform() });
    const result = kernel.run();
    expect(kernel.logOutput.map((e) => `${e.tag}: ${e.text}`)).toEqual([
      'server: squares server: waiting for requests',
      'server: squares server: 4 requests served',
      'server: squares server: 8 requests served',
      'server: squares server: 12 requests served',
      'client: client: squares of 1..12 = 1 4 9 16 25 36 49 64 81 100 121 144',
    ]);
    expect(result.reason).toBe('idle');
    // 12 calls and 12 replies, plus the Log writes (kernel-object invocations are not IPC).
    expect(result.ipcCount).toBe(24);
  });

  it('is deterministic', () => {
    const run = () => {
      const k = bootPingPong({ platform: createTestPlatform(), seed: 9 });
      const r = k.run();
      return `${r.time}/${r.ipcCount}/${k.logOutput.map((e) => e.time).join(',')}`;
    };
    expect(run()).toBe(run());
  });
});

describe('ping-pong on both machines', () => {
  it('boots unchanged on x86-64 and AArch64: same console and IPCs, different cycle counts', async () => {
    const { createX86Platform } = await import('@pecan/hw-x86');
    const { createArmPlatform } = await import('@pecan/hw-arm');
    const runs = [createTestPlatform(), createX86Platform(), createArmPlatform()].map((platform) => {
      const k = bootPingPong({ platform });
      const r = k.run();
      return { text: k.logOutput.map((e) => e.text), ipc: r.ipcCount, reason: r.reason, time: r.time };
    });
    for (const run of runs.slice(1)) {
      expect(run.text).toEqual(runs[0]!.text);
      expect([run.ipc, run.reason]).toEqual([24, 'idle']);
    }
    expect(new Set(runs.map((r) => r.time)).size).toBe(3);
  });
});
