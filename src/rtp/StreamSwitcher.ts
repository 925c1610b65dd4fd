import { readSeq, readSsrc, readTimestamp, writeSeqAndTimestamp } from './rtpHeader.ts';
import { seqAdd, tsAdd } from './seq.ts';

/** Old sources remembered; a source is long gone after a few switches. */
const MAX_RETIRED = 32;

export interface StreamSwitcherOptions {
  /** RTP clock rate, to advance timestamps by the wall-clock time across a switch. */
  clockRate: number;
  /** A new source is switched to only at a packet for which this is true (a keyframe start). */
  canSwitchAt: (packet: Buffer) => boolean;
  /**
   * Give each new frame (a new input timestamp) the wall-clock time since the previous frame,
   * instead of the source's own spacing: a compositor that had to skip frames under load
   * numbers its frames by count, and its timestamps would fall behind real time.
   */
  retime?: boolean;
  /**
   * Take a new source only when it was announced with `expect()`. The composite needs it: a
   * standby compositor warms up by encoding one frame that nobody must see.
   */
  onlyExpected?: boolean;
}

/**
 * Turns packets from a succession of sources (compositors or encoders, each with its own SSRC,
 * sequence numbers and timestamps) into one continuous stream: sequence numbers go on by one
 * and timestamps advance with wall-clock time across a switch (RFC 3550 §5.1). Pure: the
 * caller passes the time.
 */
export class StreamSwitcher {
  readonly #options: StreamSwitcherOptions;
  #current: number | undefined;
  /** The SSRC announced as next; undefined means any new SSRC may take over. */
  #expected: number | undefined;
  /** Sources switched away from: their late packets (even keyframes) never take the stream back. */
  readonly #retired = new Set<number>();
  /** The expected source's first frame is a warm-up nobody must see (see expect()). */
  #skipFirstFrame = false;
  /** The first RTP timestamp seen from each source not (yet) taken: a warm-up frame's. */
  readonly #firstTimestamps = new Map<number, number>();
  #seqOffset = 0;
  #tsOffset = 0;
  #lastSeq: number | undefined;
  #lastTs = 0;
  #lastAt = 0;
  switches = 0;
  dropped = 0;

  constructor(options: StreamSwitcherOptions) {
    this.#options = options;
  }

  get currentSsrc(): number | undefined {
    return this.#current;
  }

  /**
   * Announces the SSRC of the next source; the switch happens at its first switchable packet.
   * With `skipFirstFrame`, not in its first frame: a standby compositor encoded one frame to
   * warm up, and its packets may still be on their way when it is announced.
   */
  expect(ssrc: number, options: { skipFirstFrame?: boolean } = {}): void {
    this.#expected = ssrc;
    // Announced again after a switch away from it (a viewer back on a former source): welcome.
    this.#retired.delete(ssrc);
    this.#skipFirstFrame = options.skipFirstFrame ?? false;
  }

  /**
   * Rewrites `packet` in place for the outgoing stream and returns it, or returns undefined when
   * it must not be sent (an old source after a switch, or a new source before a keyframe).
   * `switched` is called with the new SSRC when a switch happens. `ssrc` tells the sources
   * apart: the packet's SSRC, or an id the caller gives each source (a viewer's sources, each
   * of which changes its SSRC with its compositor).
   */
  process(packet: Buffer, nowMs: number, switched?: (ssrc: number) => void, ssrc = readSsrc(packet)): Buffer | undefined {
    if (ssrc !== this.#current) {
      const announced = this.#expected === ssrc || (this.#expected === undefined && !this.#options.onlyExpected);
      const wanted = announced && !this.#retired.has(ssrc) && !(this.#expected === ssrc && this.#skipFirstFrame && this.#isFirstFrame(ssrc, packet));
      if (!wanted || !this.#options.canSwitchAt(packet)) {
        this.#rememberFirstTimestamp(ssrc, packet);
        this.dropped++;
        return undefined;
      }
      this.#switchTo(packet, ssrc, nowMs);
      switched?.(ssrc);
    }
    const seq = seqAdd(readSeq(packet), this.#seqOffset);
    const ts = this.#options.retime ? this.#retimed(readTimestamp(packet), nowMs) : tsAdd(readTimestamp(packet), this.#tsOffset);
    writeSeqAndTimestamp(packet, seq, ts);
    this.#lastSeq = seq;
    this.#lastTs = ts;
    this.#lastAt = nowMs;
    return packet;
  }

  /**
   * Stops taking the current source: nothing passes until an expected source's next switchable
   * packet, from which sequence numbers and timestamps go on as across any switch (a viewer whose
   * video pauses on its last picture, then resumes).
   */
  pause(): void {
    if (this.#current !== undefined) this.#retired.add(this.#current);
    this.#current = undefined;
  }

  /** Whether a packet has gone out: from then on, a new source is taken only where it can switch. */
  get started(): boolean {
    return this.#lastSeq !== undefined;
  }

  /**
   * Makes room for a packet of our own (padding) after the last one sent: returns its sequence
   * number and timestamp (the last frame's), and numbers the source's next packets after it.
   * Undefined before anything was sent.
   */
  insert(): { seq: number; timestamp: number } | undefined {
    if (this.#lastSeq === undefined) return undefined;
    this.#lastSeq = seqAdd(this.#lastSeq, 1);
    this.#seqOffset = seqAdd(this.#seqOffset, 1);
    return { seq: this.#lastSeq, timestamp: this.#lastTs };
  }

  #isFirstFrame(ssrc: number, packet: Buffer): boolean {
    this.#rememberFirstTimestamp(ssrc, packet);
    return this.#firstTimestamps.get(ssrc) === readTimestamp(packet);
  }

  #rememberFirstTimestamp(ssrc: number, packet: Buffer): void {
    if (this.#firstTimestamps.has(ssrc) || this.#retired.has(ssrc)) return;
    this.#firstTimestamps.set(ssrc, readTimestamp(packet));
    if (this.#firstTimestamps.size > MAX_RETIRED) this.#firstTimestamps.delete(this.#firstTimestamps.keys().next().value as number);
  }

  #lastInputTs: number | undefined;
  #lastFrameAt = 0;

  #retimed(inputTs: number, nowMs: number): number {
    if (inputTs === this.#lastInputTs) return this.#lastTs;
    const ts =
      this.#lastSeq === undefined
        ? inputTs
        : tsAdd(this.#lastTs, Math.max(1, Math.round(((nowMs - this.#lastFrameAt) * this.#options.clockRate) / 1000)));
    this.#lastInputTs = inputTs;
    this.#lastFrameAt = nowMs;
    return ts;
  }

  #switchTo(packet: Buffer, ssrc: number, nowMs: number): void {
    if (this.#lastSeq === undefined) {
      this.#seqOffset = 0;
      this.#tsOffset = 0;
    } else {
      const elapsed = Math.max(1, Math.round(((nowMs - this.#lastAt) * this.#options.clockRate) / 1000));
      this.#seqOffset = seqAdd(this.#lastSeq + 1, -readSeq(packet));
      this.#tsOffset = tsAdd(this.#lastTs + elapsed, -readTimestamp(packet));
    }
    if (this.#current !== undefined) this.#retired.add(this.#current);
    if (this.#retired.size > MAX_RETIRED) this.#retired.delete(this.#retired.values().next().value as number);
    this.#current = ssrc;
    this.#firstTimestamps.delete(ssrc);
    if (this.#expected === ssrc) this.#expected = undefined;
    this.switches++;
  }
}
