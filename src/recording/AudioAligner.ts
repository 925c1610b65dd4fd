import { tsAdd, tsDiff } from '../rtp/seq.ts';

/** Opus RTP runs at 48 kHz whatever the sample rate inside (RFC 7587 §4.1). */
const TICKS_PER_MS = 48;

/**
 * Keeps the mix in a recording from running ahead of the wall clock. A mix encoder that has
 * just started sends the audio queued while it started (up to the ~0.7 s a pipe holds) in one
 * burst, each packet stamped 20 ms after the one before: put in the file as it comes, the audio
 * would be that much longer than the picture and out of sync with it. A packet that would put
 * the audio more than `slackMs` ahead of the time since the recording started is left out, and
 * the timestamps after it move back by its length, so the audio stays continuous. Pure: the
 * caller passes the time.
 */
export class AudioAligner {
  readonly #startMs: number;
  readonly #slackMs: number;
  #first: number | undefined;
  #lastIn: number | undefined;
  #offset = 0;
  dropped = 0;

  /** `startMs`: when the recording's first frame went in (the audio's time zero). */
  constructor(startMs: number, slackMs = 100) {
    this.#startMs = startMs;
    this.#slackMs = slackMs;
  }

  /** The timestamp to write for a packet with RTP timestamp `ts` arriving at `nowMs`, or undefined to leave it out. */
  map(ts: number, nowMs: number): number | undefined {
    const previous = this.#lastIn;
    this.#lastIn = ts;
    if (this.#first === undefined) {
      this.#first = ts;
      return ts;
    }
    const out = tsAdd(ts, -this.#offset);
    const aheadMs = tsDiff(out, this.#first) / TICKS_PER_MS - (nowMs - this.#startMs);
    if (aheadMs > this.#slackMs && previous !== undefined) {
      this.#offset += tsDiff(ts, previous);
      this.dropped++;
      return undefined;
    }
    return out;
  }
}
