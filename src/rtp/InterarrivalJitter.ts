import { tsDiff } from './seq.ts';

/**
 * The interarrival jitter of RFC 3550 §6.4.1 (A.8): the smoothed mean deviation of the spacing
 * of packets from the spacing of their timestamps, in ms. For the mix as it leaves the server:
 * what a browser's jitter buffer must absorb before the network adds its own. Pure.
 */
export class InterarrivalJitter {
  readonly #clockRate: number;
  #last: { ts: number; at: number } | undefined;
  #jitter = 0;

  constructor(clockRate: number) {
    this.#clockRate = clockRate;
  }

  get ms(): number {
    return this.#jitter;
  }

  push(ts: number, atMs: number): void {
    const last = this.#last;
    this.#last = { ts, at: atMs };
    if (!last) return;
    const d = atMs - last.at - (tsDiff(ts, last.ts) * 1000) / this.#clockRate;
    this.#jitter += (Math.abs(d) - this.#jitter) / 16;
  }
}
