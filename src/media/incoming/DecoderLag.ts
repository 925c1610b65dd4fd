/**
 * Whether a publisher's video decoder has fallen behind: the frames handed to it against the
 * frames it reports decoded. What it has not read waits in its UDP socket's kernel buffer (up to
 * about 400 KiB: seconds of video), and the tile then runs that late. The difference has an
 * offset of its own (frames sent before the decoder listened, frames it could not decode), so a
 * decoder is behind when the difference rises `maxFrames` above its lowest of the last
 * `windowMs`. Pure: the caller passes counts and the time.
 */
export class DecoderLag {
  readonly #maxFrames: number;
  readonly #windowMs: number;
  readonly #samples: { at: number; lag: number }[] = [];

  constructor(options: { maxFrames: number; windowMs: number }) {
    this.#maxFrames = options.maxFrames;
    this.#windowMs = options.windowMs;
  }

  /** A report: `forwarded` frames handed to the decoder so far, `decoded` frames it decoded. True: it is behind. */
  report(forwarded: number, decoded: number, now: number): boolean {
    const lag = forwarded - decoded;
    while (this.#samples.length && now - this.#samples[0]!.at > this.#windowMs) this.#samples.shift();
    this.#samples.push({ at: now, lag });
    const baseline = Math.min(...this.#samples.map((s) => s.lag));
    return lag - baseline > this.#maxFrames;
  }

  /** The decoder was given nothing more until it caught up: start measuring afresh. */
  reset(): void {
    this.#samples.length = 0;
  }
}
