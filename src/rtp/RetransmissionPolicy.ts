export interface RetransmissionPolicyOptions {
  /** A packet is sent again at most this many times. */
  maxRetransmits: number;
  /** Nor again sooner than this after its last retransmission (Chromium asks again every RTT or so). */
  minIntervalMs: number;
  /** Nor once it is older than this: the receiver has given up waiting for it. */
  maxAgeMs: number;
  /** Retransmitted bytes over the last `windowMs` stay under this share of the media sent then, */
  budgetShare: number;
  /**
   * or under this many bytes, whichever is more: a viewer that has just joined has been sent
   * little more than a keyframe, whose repair must not wait. Kept below what a weak link has
   * spare (64 kbit/s).
   */
  budgetFloorBytes: number;
  windowMs: number;
}

export const RETRANSMISSION_DEFAULTS: RetransmissionPolicyOptions = {
  maxRetransmits: 2,
  minIntervalMs: 100,
  maxAgeMs: 2000,
  budgetShare: 0.3,
  budgetFloorBytes: 8000,
  windowMs: 1000,
};

/** Sequence numbers remembered: werift keeps the last 128 packets for retransmission. */
const HISTORY = 1024;

/**
 * Which NACKed packets a viewer's sender sends again. werift answers every NACK from its history,
 * and Chromium asks up to ten times for a packet it misses: on a link that drops because it is
 * full, each retransmission fills it more, and what is lost is asked for again. Seen behind a
 * 300 kbit/s token bucket after a fall from 3 Mbit/s: a 180p stream of 190 kbit/s kept the
 * bucket dropping 95 packets a second for 25 s, the picture at 3 fps and 1-2 s late, until the
 * link opened. Bounded here: each packet at most twice, not when it is too old to be of use, and
 * all of it within a share of the media sent (or a small floor). Pure: the caller passes the time.
 */
export class RetransmissionPolicy {
  readonly #o: RetransmissionPolicyOptions;
  readonly #sentAt = new Map<number, { at: number; retransmits: number; lastAt: number }>();
  readonly #media: SlidingSum;
  readonly #resent: SlidingSum;
  refused = 0;

  constructor(options: Partial<RetransmissionPolicyOptions> = {}) {
    this.#o = { ...RETRANSMISSION_DEFAULTS, ...options };
    this.#media = new SlidingSum(this.#o.windowMs);
    this.#resent = new SlidingSum(this.#o.windowMs);
  }

  /** A packet sent for the first time. */
  sent(seq: number, bytes: number, now: number): void {
    this.#sentAt.delete(seq);
    this.#sentAt.set(seq, { at: now, retransmits: 0, lastAt: -Infinity });
    if (this.#sentAt.size > HISTORY) this.#sentAt.delete(this.#sentAt.keys().next().value as number);
    this.#media.add(bytes, now);
  }

  /** Whether a NACKed packet goes out again now; counted as sent if so. */
  allow(seq: number, bytes: number, now: number): boolean {
    const o = this.#o;
    const packet = this.#sentAt.get(seq);
    const ok =
      packet !== undefined &&
      packet.retransmits < o.maxRetransmits &&
      now - packet.lastAt >= o.minIntervalMs &&
      now - packet.at <= o.maxAgeMs &&
      this.#resent.total(now) + bytes <= Math.max(this.#media.total(now) * o.budgetShare, o.budgetFloorBytes);
    if (!ok) {
      this.refused++;
      return false;
    }
    packet.retransmits++;
    packet.lastAt = now;
    this.#resent.add(bytes, now);
    return true;
  }
}

/**
 * Bytes over the last `windowMs`, kept as a running total: `sent` runs for every packet of every
 * viewer, so neither it nor `allow` walks the window.
 */
class SlidingSum {
  readonly #windowMs: number;
  #at: number[] = [];
  #bytes: number[] = [];
  #head = 0;
  #sum = 0;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  add(bytes: number, now: number): void {
    this.#at.push(now);
    this.#bytes.push(bytes);
    this.#sum += bytes;
    this.#forget(now);
  }

  total(now: number): number {
    this.#forget(now);
    return this.#sum;
  }

  #forget(now: number): void {
    const from = now - this.#windowMs;
    while (this.#head < this.#at.length && this.#at[this.#head]! < from) this.#sum -= this.#bytes[this.#head++]!;
    // Compacted now and then, not per packet: what is dropped is a copy of the live part only.
    if (this.#head > 1024 && this.#head * 2 > this.#at.length) {
      this.#at = this.#at.slice(this.#head);
      this.#bytes = this.#bytes.slice(this.#head);
      this.#head = 0;
    }
  }
}
