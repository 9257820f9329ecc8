/**
 * The back ends every conformance suite runs against. A third back end joins the
 * suites by adding a line here.
 */
import { createArmPlatform } from '@pecan/hw-arm';
import { createX86Platform } from '@pecan/hw-x86';
import type { Platform } from '@pecan/kernel';

export interface Backend {
  readonly name: string;
  /** A fresh machine with `ramSize` bytes of RAM (default 32 MiB: the suites need little). */
  readonly create: (ramSize?: number) => Platform;
}

const MiB = 1024 * 1024;

export const BACKENDS: readonly Backend[] = [
  { name: 'x86_64', create: (ramSize = 32 * MiB) => createX86Platform({ ramSize }) },
  { name: 'aarch64', create: (ramSize = 32 * MiB) => createArmPlatform({ ramSize }) },
];
