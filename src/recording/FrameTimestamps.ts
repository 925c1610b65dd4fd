import { tsAdd, tsDiff } from '../rtp/seq.ts';

/** 1 ms at the video RTP clock (90 kHz). */
export const ONE_MS_TICKS = 90;

/**
 * Video RTP timestamps for a file: each new frame at least `minStep` after the one before. The
 * composite's timestamps follow the wall clock of arrival (the stream switcher retimes them), so
 * a burst (a new compositor's first frames, a stall catching up) can put frames within the same
 * millisecond, which Matroska and WebM (1 ms units) then store as "non monotonically increasing
 * dts". And FFmpeg guesses a constant frame rate and decodes on a grid of that period
 * (measured for MP4: r_frame_rate 30/1; for Matroska too, where two frames 1 ms apart after a
 * compositor restart decoded as "non monotonically increasing dts"), so frames go a whole
 * period apart. Only frames in a burst are moved, by the least that separates them; frames
 * after it keep their own timestamps as soon as those are far enough on, so a burst shifts
 * nothing for good. Pure.
 */
export class FrameTimestamps {
  readonly #minStep: number;
  #lastIn: number | undefined;
  #lastOut: number | undefined;
  moved = 0;

  constructor(minStep = ONE_MS_TICKS) {
    if (!(minStep >= 1)) throw new RangeError(`minStep must be at least one tick, got ${minStep}`);
    this.#minStep = Math.round(minStep);
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
