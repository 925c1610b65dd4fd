import { tsAdd, tsDiff } from './seq.ts';

export interface RealtimePacerOptions {
  clockRate: number;
  /** RTP ticks of one packet (one 20 ms Opus frame: 960). */
  frameTicks: number;
  /** How far a packet may come before or after its time (the sender's jitter) and still count as on time. */
  slackMs: number;
  /**
   * A packet up to this much before its time is held until then, not sent at once: an Opus
   * encoder fed 20 ms frames reads 1024 samples at a time and sends two packets at once three
   * times a second, which a receiver's jitter buffer takes for jitter. Earlier, it is a burst.
   */
  holdMs: number;
  /** A packet that comes in a burst this much later than its time is stale: sent, it would hold the receiver's playout back. */
  staleMs: number;
  /** A stream late by more than `slackMs` for this long has fallen behind for good: its time is set anew. */
  resetAfterMs: number;
}

export interface PacerDecision {
  send: boolean;
  /** When to send it: now, or later for a packet held until its time (performance.now() ms). */
  at: number;
  /** The packet's RTP timestamp as it leaves (moved on by what the stream lost, see RealtimePacer). */
  timestamp: number;
}

/**
 * Keeps a stream at the pace of the wall clock, and its RTP timestamps with it. Each packet has
 * a time: its timestamp's distance from the packet that set the pace, on the wall clock.
 * - A packet a little before its time is held until then (`holdMs`).
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
  /** Until when a packet is held (see holdMs). */
  #heldUntil = -Infinity;
  /** Ticks added to every timestamp: the time the stream lost upstream. */
  #offset = 0;
  /** Since when every packet has been late by more than the slack, and by how little at least. */
  #lateSince: number | undefined;
  #leastLateness = Infinity;
  early = 0;
  stale = 0;
  /** Packets held until their time. */
  held = 0;
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
      return this.#out(true, ts, nowMs);
    }
    const due = anchor.at + (tsDiff(ts, anchor.ts) * 1000) / clockRate;
    const lateness = nowMs - due;
    // Early beyond the hold, or early while another is held: a burst.
    if (lateness < -this.#options.holdMs || (lateness < -slackMs && nowMs < this.#heldUntil)) {
      this.early++;
      this.#setPace(ts, nowMs);
      return this.#out(false, ts, nowMs);
    }
    if (lateness <= slackMs) {
      this.#lateSince = undefined;
      this.#leastLateness = Infinity;
      if (lateness >= -slackMs) return this.#out(true, ts, nowMs);
      this.held++;
      this.#heldUntil = due;
      return this.#out(true, ts, due);
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
      return this.#out(true, ts, nowMs);
    }
    // A packet right behind the one before is part of a burst: a backlog, if it is this late.
    if (lateness > staleMs && sinceLast < (frameTicks * 1000) / clockRate / 2) {
      this.stale++;
      return this.#out(false, ts, nowMs);
    }
    return this.#out(true, ts, nowMs);
  }

  #out(send: boolean, ts: number, at: number): PacerDecision {
    return { send, at, timestamp: tsAdd(ts, this.#offset) };
  }

  #setPace(ts: number, nowMs: number): void {
    this.#anchor = { ts, at: nowMs };
    this.#lateSince = undefined;
    this.#leastLateness = Infinity;
  }
}
