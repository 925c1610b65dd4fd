import { beforeAll } from 'vitest';

/**
 * A beforeAll whose failure (e.g. no Chromium) fails every test with its message, where a
 * throwing beforeAll would only skip them: each test calls the returned function first, which
 * throws the set-up's error if there was one.
 */
export function beforeAllOrFail(setUp: () => Promise<void>, timeoutMs: number): () => void {
  let setupError: unknown;
  beforeAll(async () => {
    try {
      await setUp();
    } catch (error) {
      setupError = error;
    }
  }, timeoutMs);
  return () => {
    if (setupError !== undefined) throw setupError;
  };
}
