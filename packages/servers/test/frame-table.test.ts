import { Errno, KipMemType } from '@pecan/kernel';
import { describe, expect, it } from 'vitest';
import { FrameKind, FrameTable } from '../src/sigma0/frame-table';

const MiB = 1024 * 1024;

describe('sigma0 frame table', () => {
  const memory = [
    { base: 0, size: 0xa_0000, type: KipMemType.CONVENTIONAL },
    { base: 0xa_0000, size: 0x6_0000, type: KipMemType.RESERVED },
    { base: 0x10_0000, size: 7 * MiB, type: KipMemType.CONVENTIONAL },
    { base: 0xfec0_0000, size: 0x1000, type: KipMemType.DEDICATED },
  ] as const;

  it('knows RAM, device memory and everything else', () => {
    const t = new FrameTable(memory);
    expect(t.kindOf(0x1000, 0x1000)).toBe(FrameKind.RAM);
    expect(t.kindOf(0xa_0000, 0x1000)).toBe(FrameKind.NONE);
    expect(t.kindOf(0xfec0_0000, 0x1000)).toBe(FrameKind.DEVICE);
    // A range that spans two regions is no single kind.
    expect(t.kindOf(0x9_f000, 0x2000)).toBe(FrameKind.NONE);
  });

  it('gives each frame once', () => {
    const t = new FrameTable(memory);
    expect(t.take(0x20_0000, 0x1000, FrameKind.RAM)).toBe(0);
    expect(t.take(0x20_0000, 0x1000, FrameKind.RAM)).toBe(Errno.EBUSY);
    expect(t.take(0x20_0000, 0x20_0000, FrameKind.RAM)).toBe(Errno.EBUSY);
    expect(t.take(0xfec0_0000, 0x1000, FrameKind.RAM)).toBe(Errno.ENOENT);
    expect(t.givenFrames).toBe(1);
  });

  it('finds any free block, aligned to its size, skipping what was given', () => {
    const t = new FrameTable(memory);
    expect(t.takeAny(0x1000)).toBe(0);
    expect(t.takeAny(0x1000)).toBe(0x1000);
    expect(t.take(0x2000, 0x1000, FrameKind.RAM)).toBe(0);
    expect(t.takeAny(0x1000)).toBe(0x3000);
    expect(t.takeAny(0x20_0000)).toBe(0x20_0000);
    expect(t.takeAny(0x20_0000)).toBe(0x40_0000);
    expect(t.takeAny(0x20_0000)).toBe(0x60_0000);
    // 0x80_0000 would run past the end of RAM at 0x80_0000: no block of 2 MiB left.
    expect(t.takeAny(0x20_0000)).toBe(-1);
  });
});
