/**
 * Test support for Pecan kernels and user-level servers: a minimal platform, and the
 * kernel and memory invariant checkers that the property tests run after every step.
 */

export { checkInvariants, checkMemoryInvariants, type MemoryCheckOptions } from './invariants';
export { nullIpcRoundTripCycles, type PingPong, pingPong } from './ping-pong';
export { createTestInterruptController } from './test-interrupts';
export {
  createTestPlatform,
  TEST_COSTS,
  TestExceptionMr,
  type TestPlatformOptions,
  TestTrap,
} from './test-platform';
