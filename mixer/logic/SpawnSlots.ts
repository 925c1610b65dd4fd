/**
 * One FFmpeg start per video tick, first come first served. The spawner starts FFmpeg without
 * holding the session's thread up, but a starting FFmpeg is a burst of CPU: one per tick spreads
 * a join's four of them (two decoders, a standby, a mix encoder) out instead of starting them
 * all at once. Pure: the session calls `tick` on every video tick.
 */
export class SpawnSlots {
  readonly #queue: (() => void)[] = [];
  #closed = false;

  /** Resolves at the next tick that is free (at once once closed). */
  take(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  get waiting(): number {
    return this.#queue.length;
  }

  /** A video tick: the first in the queue goes. */
  tick(): void {
    this.#queue.shift()?.();
  }

  /** Everyone waiting goes now, and anyone who asks later at once. */
  close(): void {
    this.#closed = true;
    for (const resolve of this.#queue.splice(0)) resolve();
  }
}
