import { tsAdd, tsDiff } from '../rtp/seq.ts';

/** 1 ms at the video RTP clock (90 kHz). */
export const ONE_MS_TICKS = 90;

/**
 * Video RTP timestamps for a file whose container counts in milliseconds (Matroska, WebM):
 * each new frame at least 1 ms after the one before. The composite's timestamps follow the
 * wall clock of arrival (the stream switcher retimes them), so a burst (a new compositor's first
 * frames, a stall catching up) can put frames within the same millisecond, which the muxer then
 * stores as "non monotonically increasing dts". Only frames in such a burst are moved, by the
 * least that separates them; later frames keep their own timestamps, so nothing drifts. Pure.
 */
export class FrameTimestamps {
  readonly #minStep: number;
  #lastIn: number | undefined;
  #lastOut: number | undefined;
  moved = 0;

  constructor(minStep = ONE_MS_TICKS) {
    this.#minStep = minStep;
  }

  /** The timestamp to write for a packet with RTP timestamp `ts` (packets of one frame share it). */
  map(ts: number): number {
    if (this.#lastOut !== undefined && ts === this.#lastIn) return this.#lastOut;
    let out = ts;
    if (this.#lastOut !== undefined && tsDiff(ts, this.#lastOut) < this.#minStep) {
      out = tsAdd(this.#lastOut, this.#minStep);
      this.moved++;
    }
    this.#lastIn = ts;
    this.#lastOut = out;
    return out;
  }
}
