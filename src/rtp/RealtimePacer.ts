import { tsDiff } from './seq.ts';

export interface RealtimePacerOptions {
  clockRate: number;
  /** How far a packet may come before or after its time (the sender's jitter) and still count as on time. */
  slackMs: number;
  /** A packet this much later than its time is stale: sent, it would hold the receiver's playout back. */
  staleMs: number;
  /** A stream late by more than `slackMs` for this long has fallen behind for good: its pace is set anew. */
  resetAfterMs: number;
}

export type PacerDecision = 'send' | 'drop';

/**
 * Keeps a stream at the pace of the wall clock. Each packet has a time: its RTP timestamp's
 * distance from the packet that set the pace, on the wall clock. A packet that comes well before
 * its time belongs to a burst from an encoder that had queued it (its first packets, when it
 * started): it is dropped, and sets the pace anew, so that the newest packet of the burst is on
 * time. A packet that comes far after its time is stale and dropped as well. A stream that stays
 * late is not asked to catch up: its pace is set anew. Sent, either kind filled the receiver's
 * jitter buffer with audio that then played late (README: The mix). Pure: the caller passes the
 * time; RTP timestamps are left as they are (a dropped packet reads as a lost one, RFC 3550 §5.1).
 */
export class RealtimePacer {
  readonly #options: RealtimePacerOptions;
  #anchor: { ts: number; at: number } | undefined;
  /** Since when every packet has been late by more than the slack, and by how little at least. */
  #lateSince: number | undefined;
  #leastLateness = Infinity;
  early = 0;
  stale = 0;

  constructor(options: RealtimePacerOptions) {
    this.#options = options;
  }

  get dropped(): number {
    return this.early + this.stale;
  }

  admit(ts: number, nowMs: number): PacerDecision {
    const { slackMs, staleMs, resetAfterMs, clockRate } = this.#options;
    const anchor = this.#anchor;
    if (!anchor) {
      this.#anchor = { ts, at: nowMs };
      return 'send';
    }
    const lateness = nowMs - (anchor.at + (tsDiff(ts, anchor.ts) * 1000) / clockRate);
    if (lateness < -slackMs) {
      this.early++;
      this.#setPace(ts, nowMs);
      return 'drop';
    }
    if (lateness <= slackMs) {
      this.#lateSince = undefined;
      return 'send';
    }
    this.#lateSince ??= nowMs;
    this.#leastLateness = Math.min(this.#leastLateness, lateness);
    if (nowMs - this.#lateSince >= resetAfterMs) {
      // Late all along: the stream runs this much later now (an encoder that stalled).
      const least = this.#leastLateness;
      anchor.at += least;
      this.#lateSince = undefined;
      this.#leastLateness = Infinity;
      if (lateness - least <= staleMs) return 'send';
      this.stale++;
      return 'drop';
    }
    if (lateness > staleMs) {
      this.stale++;
      return 'drop';
    }
    return 'send';
  }

  #setPace(ts: number, nowMs: number): void {
    this.#anchor = { ts, at: nowMs };
    this.#lateSince = undefined;
    this.#leastLateness = Infinity;
  }
}
