/** Rate limits as token buckets: `burst` at once, then `perSecond` on average. Time is injected. */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

export class TokenBucket {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, now: () => number = Date.now) {
    if (!(limit.burst >= 1 && limit.perSecond > 0)) throw new TypeError('a rate limit needs burst >= 1 and perSecond > 0');
    this.#limit = limit;
    this.#now = now;
    this.#tokens = limit.burst;
    this.#at = now();
  }

  /** Takes one token; false when there is none (the request is over the limit). */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether the bucket is back to full (it then holds nothing worth remembering). */
  get full(): boolean {
    this.#refill();
    return this.#tokens >= this.#limit.burst;
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + ((now - this.#at) / 1000) * this.#limit.perSecond);
    this.#at = now;
  }
}

/**
 * One bucket per key (a client address). The map is bounded: when it is full, buckets that have
 * refilled are forgotten, and if none has, the oldest; an attacker with many addresses can make
 * the server forget, never grow.
 */
export class KeyedRateLimiter {
  readonly #limit: RateLimit;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: RateLimit, options: { now?: () => number; maxKeys?: number } = {}) {
    this.#limit = limit;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  take(key: string): boolean {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      if (this.#buckets.size >= this.#maxKeys) this.#forget();
      bucket = new TokenBucket(this.#limit, this.#now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  get size(): number {
    return this.#buckets.size;
  }

  #forget(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.full) this.#buckets.delete(key);
    if (this.#buckets.size >= this.#maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (!oldest.done) this.#buckets.delete(oldest.value);
    }
  }
}
