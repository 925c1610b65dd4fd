/**
 * How much of a mix an Opus encoder holds: 20 ms frames of PCM written to FFmpeg and not yet out
 * as RTP. FFmpeg reads nothing while it starts, and falls behind when the machine is short of
 * CPU; what it has not read waits in its stdin pipe (up to 64 KiB, 680 ms of mono PCM), and it
 * then sends all of it at once. A browser's jitter buffer took that burst as network jitter and
 * held 0.7-1.4 s of audio, and lip sync held the composite back to match. So a frame is written
 * only while fewer than `maxFrames` are in the encoder; the others are dropped before encoding,
 * and the mix stays within a few frames of the wall clock. Pure: the caller counts.
 */
export class EncoderBacklog {
  readonly maxFrames: number;
  #written = 0;
  #encoded = 0;
  /** Frames not written because the encoder held `maxFrames` already. */
  dropped = 0;

  constructor(maxFrames: number) {
    if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new RangeError(`maxFrames must be a positive integer, got ${maxFrames}`);
    this.maxFrames = maxFrames;
  }

  /** Frames written and not yet encoded. */
  get inFlight(): number {
    return this.#written - this.#encoded;
  }

  /** A frame of PCM is ready: true if it is to be written (and it is counted), false if dropped. */
  offer(): boolean {
    if (this.inFlight >= this.maxFrames) {
      this.dropped++;
      return false;
    }
    this.#written++;
    return true;
  }

  /** A frame came out of the encoder (one RTP packet: the encoder makes one per 20 ms frame). */
  encoded(): void {
    // Never below zero: the encoder's own first frames (its pre-skip) are not ours to count.
    if (this.#encoded < this.#written) this.#encoded++;
  }
}
