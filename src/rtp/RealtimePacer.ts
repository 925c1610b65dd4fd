import { tsAdd, tsDiff } from './seq.ts';

export interface RealtimePacerOptions {
  clockRate: number;
  /** RTP ticks of one packet (one 20 ms Opus frame: 960). */
  frameTicks: number;
  /** How far a packet may come before or after its time (the sender's jitter) and still count as on time. */
  slackMs: number;
  /** A packet that comes in a burst this much later than its time is stale: sent, it would hold the receiver's playout back. */
  staleMs: number;
  /** A stream late by more than `slackMs` for this long has fallen behind for good: its time is set anew. */
  resetAfterMs: number;
}

export interface PacerDecision {
  send: boolean;
  /** The packet's RTP timestamp as it leaves (moved on by what the stream lost, see RealtimePacer). */
  timestamp: number;
}

/**
 * Keeps a stream at the pace of the wall clock, and its RTP timestamps with it. Each packet has
 * a time: its timestamp's distance from the packet that set the pace, on the wall clock.
 * - A packet well before its time belongs to a burst from an encoder that had queued it (its
 *   first packets, when it started): it is dropped, and sets the pace, so that the newest packet
 *   of a burst is on time.
 * - A packet that comes in a burst well after its time is stale (a backlog): dropped.
 * - A stream that stays late lost time upstream (the session's clock skipped ticks, or frames
 *   were dropped before the encoder): its timestamps are moved on by what was lost, so that a
 *   receiver sees a gap it conceals, not packets that come ever later, which its jitter buffer
 *   would wait for (README: Latency).
 * Sent, bursts and backlogs filled a browser's jitter buffer with audio that then played late.
 * Pure: the caller passes the time. A dropped packet reads as a lost one (RFC 3550 §5.1).
 */
export class RealtimePacer {
  readonly #options: RealtimePacerOptions;
  #anchor: { ts: number; at: number } | undefined;
  #lastAt = -Infinity;
  /** Ticks added to every timestamp: the time the stream lost upstream. */
  #offset = 0;
  /** Since when every packet has been late by more than the slack, and by how little at least. */
  #lateSince: number | undefined;
  #leastLateness = Infinity;
  early = 0;
  stale = 0;
  /** Times the stream's timestamps were moved on. */
  shifts = 0;

  constructor(options: RealtimePacerOptions) {
    this.#options = options;
  }

  get dropped(): number {
    return this.early + this.stale;
  }

  admit(ts: number, nowMs: number): PacerDecision {
    const { slackMs, staleMs, resetAfterMs, clockRate, frameTicks } = this.#options;
    const sinceLast = nowMs - this.#lastAt;
    this.#lastAt = nowMs;
    const anchor = this.#anchor;
    if (!anchor) {
      this.#anchor = { ts, at: nowMs };
      return this.#out(true, ts);
    }
    const lateness = nowMs - (anchor.at + (tsDiff(ts, anchor.ts) * 1000) / clockRate);
    if (lateness < -slackMs) {
      this.early++;
      this.#setPace(ts, nowMs);
      return this.#out(false, ts);
    }
    if (lateness <= slackMs) {
      this.#lateSince = undefined;
      this.#leastLateness = Infinity;
      return this.#out(true, ts);
    }
    this.#lateSince ??= nowMs;
    this.#leastLateness = Math.min(this.#leastLateness, lateness);
    if (nowMs - this.#lateSince >= resetAfterMs) {
      // Late all along: the stream lost this much time upstream.
      const frameMs = (frameTicks * 1000) / clockRate;
      const lostFrames = Math.round(this.#leastLateness / frameMs);
      this.#offset += lostFrames * frameTicks;
      anchor.at += lostFrames * frameMs;
      this.shifts++;
      this.#lateSince = undefined;
      this.#leastLateness = Infinity;
      return this.#out(true, ts);
    }
    // A packet right behind the one before is part of a burst: a backlog, if it is this late.
    if (lateness > staleMs && sinceLast < (frameTicks * 1000) / clockRate / 2) {
      this.stale++;
      return this.#out(false, ts);
    }
    return this.#out(true, ts);
  }

  #out(send: boolean, ts: number): PacerDecision {
    return { send, timestamp: tsAdd(ts, this.#offset) };
  }

  #setPace(ts: number, nowMs: number): void {
    this.#anchor = { ts, at: nowMs };
    this.#lateSince = undefined;
    this.#leastLateness = Infinity;
  }
}
