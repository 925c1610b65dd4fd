import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { settleOnWake } from '../helpers/wait.ts';

// The test helper behind ServerProcess.waitForLine and SocketClient.until: it must leave neither
// its waiter nor its timer behind, whichever way the wait ends.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Settled: no waiter left, and the timer gone (it never calls back). */
function expectSettled(waiters: Set<() => void>, onTimeout: () => void): void {
  expect(waiters.size).toBe(0);
  vi.advanceTimersByTime(2000);
  expect(onTimeout).not.toHaveBeenCalled();
}

it('settles at once without waiting when the condition already holds', () => {
  const waiters = new Set<() => void>();
  const onTimeout = vi.fn();
  settleOnWake(waiters, () => true, 1000, onTimeout);
  expectSettled(waiters, onTimeout);
});

it('settles on the wake-up at which the condition holds, and removes its waiter', () => {
  const waiters = new Set<() => void>();
  const onTimeout = vi.fn();
  let ready = false;
  settleOnWake(waiters, () => ready, 1000, onTimeout);
  for (const wake of waiters) wake();
  expect(waiters.size).toBe(1);
  ready = true;
  for (const wake of waiters) wake();
  expectSettled(waiters, onTimeout);
});

it('times out once, and removes its waiter', () => {
  const waiters = new Set<() => void>();
  const onTimeout = vi.fn();
  settleOnWake(waiters, () => false, 1000, onTimeout);
  vi.advanceTimersByTime(999);
  expect(onTimeout).not.toHaveBeenCalled();
  vi.advanceTimersByTime(1);
  expect(onTimeout).toHaveBeenCalledTimes(1);
  expect(waiters.size).toBe(0);
});
