/**
 * The rate of a growing count (frames, bytes) over a sliding window, from samples the caller
 * takes with its own clock: pure, so a test steps through time without sleeping.
 */
export class RateMeter {
  readonly #windowMs: number;
  readonly #samples: { at: number; value: number }[] = [];

  constructor(windowMs = 5000) {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
    this.#windowMs = windowMs;
  }

  /** Records the count `value` at time `at` (ms); times must not go backwards. */
  sample(at: number, value: number): void {
    const last = this.#samples[this.#samples.length - 1];
    if (last && at < last.at) throw new RangeError(`samples must not go back in time (${at} < ${last.at})`);
    this.#samples.push({ at, value });
    // Keep one sample at or before the window's start, so the rate spans the whole window.
    while (this.#samples.length > 2 && this.#samples[1]!.at <= at - this.#windowMs) this.#samples.shift();
  }

  /** Per second over the window; 0 until two samples are apart in time. */
  rate(): number {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.value - first.value) * 1000) / (last.at - first.at);
  }
}
