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
 * compositor opens with one), nor for a waiting request that a keyframe sent since has answered
 * (a roster change's). Pure: the caller passes the time, and calls `atDeadline` at `nextDeadline`.
 */
export class KeyframeLimiter {
  readonly minIntervalMs: number;
  #lastMadeAt = -Infinity;
  /** When the request that waits was made; undefined: none waits. */
  #waitingSince: number | undefined;
  #lastSentAt = -Infinity;
  /** When the request that waits is to be served. */
  #dueAt: number | undefined;
  /** Keyframes made on request. */
  made = 0;

  constructor(minIntervalMs: number) {
    if (!(minIntervalMs >= 0)) throw new RangeError(`keyframe interval must be ≥ 0, not ${minIntervalMs}`);
    this.minIntervalMs = minIntervalMs;
  }

  /** A request at `now`; `coming`: a keyframe is on its way already. */
  request(now: number, coming: boolean): KeyframeDecision {
    if (coming) return { make: 'no', why: 'coming' };
    if (this.#waitingSince !== undefined) return { make: 'no', why: 'waiting' };
    const waitMs = this.#lastMadeAt + this.minIntervalMs - now;
    if (waitMs <= 0) {
      this.#lastMadeAt = now;
      this.made++;
      return { make: 'now' };
    }
    this.#waitingSince = now;
    this.#dueAt = now + waitMs;
    return { make: 'later', waitMs };
  }

  /**
   * A keyframe went out for another reason (a new compositor for a new roster or layout). It
   * does not count against the rate: a receiver that asks right after it may have missed it.
   */
  sent(now: number): void {
    this.#lastSentAt = now;
  }

  /** The wait of a `later` is over: true if the keyframe is to be made now (not if one is coming or went out since the request). */
  due(now: number, coming: boolean): boolean {
    const since = this.#waitingSince ?? now;
    this.#waitingSince = this.#dueAt = undefined;
    if (coming || this.#lastSentAt >= since) return false;
    this.#lastMadeAt = now;
    this.made++;
    return true;
  }

  /** When a waiting request is to be served (ms), if one waits. */
  nextDeadline(): number | undefined {
    return this.#dueAt;
  }

  /** True if the waiting request's time has come and its keyframe is to be made now (see `due`). */
  atDeadline(now: number, coming: boolean): boolean {
    return this.#dueAt !== undefined && this.#dueAt <= now && this.due(now, coming);
  }
}
