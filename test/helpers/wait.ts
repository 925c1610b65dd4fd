/** Polls `check` every `intervalMs` until it returns a value that is not undefined, or throws on timeout. */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Event-driven wait: runs `settled` now and each time its owner calls the waiters in `waiters`
 * (on each new line, message or close) until it returns true; `onTimeout` runs if it has not
 * after `timeoutMs`. Leaves neither the timer nor the waiter behind.
 */
export function settleOnWake(waiters: Set<() => void>, settled: () => boolean, timeoutMs: number, onTimeout: () => void): void {
  const finish = (): void => {
    clearTimeout(timer);
    waiters.delete(wake);
  };
  const wake = (): void => {
    if (settled()) finish();
  };
  const timer = setTimeout(() => {
    finish();
    onTimeout();
  }, timeoutMs);
  if (settled()) finish();
  else waiters.add(wake);
}
