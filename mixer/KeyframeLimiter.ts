/** What to do with a request for a composite keyframe (see KeyframeLimiter). */
export type KeyframeDecision =
  | { make: 'now' }
  | { make: 'later'; waitMs: number }
  | { make: 'no'; why: 'coming' | 'waiting' };

/**
 * Rate limit for composite keyframes made on request (a receiver's PLI or FIR, a receiver that
 * connects, a recording that starts). A keyframe costs several frames' worth of bits, and every
 * receiver gets it: a burst of requests must not turn into a burst of keyframes. The first
 * request after a quiet `minIntervalMs` is served at once; later ones wait for the end of that
 * interval and are folded into one; none is made while a keyframe is coming anyway (a new
 * compositor opens with one). Pure: the caller passes the time.
 */
export class KeyframeLimiter {
  readonly minIntervalMs: number;
  #lastMadeAt = -Infinity;
  #waiting = false;

  constructor(minIntervalMs: number) {
    if (!(minIntervalMs >= 0)) throw new RangeError(`keyframe interval must be ≥ 0, not ${minIntervalMs}`);
    this.minIntervalMs = minIntervalMs;
  }

  /** A request at `now`; `coming`: a keyframe is on its way already. */
  request(now: number, coming: boolean): KeyframeDecision {
    if (coming) return { make: 'no', why: 'coming' };
    if (this.#waiting) return { make: 'no', why: 'waiting' };
    const waitMs = this.#lastMadeAt + this.minIntervalMs - now;
    if (waitMs <= 0) {
      this.#lastMadeAt = now;
      return { make: 'now' };
    }
    this.#waiting = true;
    return { make: 'later', waitMs };
  }

  /** The wait of a `later` is over: true if the keyframe is to be made now (not if one came meanwhile). */
  due(now: number, coming: boolean): boolean {
    this.#waiting = false;
    if (coming) return false;
    this.#lastMadeAt = now;
    return true;
  }
}
