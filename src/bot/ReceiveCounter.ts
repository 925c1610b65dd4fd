import { seqDiff } from '../rtp/seq.ts';

/** Counters of the composite and the mix a client received. */
export interface ReceiveCounts {
  /** Received video frames (a new RTP timestamp on the video track). */
  videoFrames: number;
  /** Longest wall-clock gap between the arrival of two consecutive video frames. */
  maxGapMs: number;
  /** Received video keyframes (start of a VP8 keyframe / H.264 IDR). */
  keyframes: number;
  /** Times the received video's SSRC changed: 0 for one continuous stream (RFC 3550 §8). */
  videoSsrcChanges: number;
  /** Received video packets whose sequence number is more than 100 away from the one before (not loss, a broken stream). */
  videoSeqJumps: number;
  audioPackets: number;
  /** RTP payload bytes received. */
  videoBytes: number;
  audioBytes: number;
}

export function emptyReceiveCounts(): ReceiveCounts {
  return { videoFrames: 0, maxGapMs: 0, keyframes: 0, videoSsrcChanges: 0, videoSeqJumps: 0, audioPackets: 0, videoBytes: 0, audioBytes: 0 };
}

/** A received sequence number further than this from the previous one is a jump, not loss or reordering. */
const MAX_SEQ_STEP = 100;

export interface VideoPacket {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  payloadBytes: number;
  /** The packet starts a keyframe (see clientPeer.ts isKeyframeStart). */
  keyframe: boolean;
}

/**
 * Counts what arrives, packet by packet, into `counts` (which the owner may extend with its own
 * fields). Pure: the caller passes the arrival time.
 */
export class ReceiveCounter {
  readonly counts: ReceiveCounts;
  #lastTimestamp: number | undefined;
  /** The RTP timestamp of the last keyframe counted: one H.264 keyframe may start twice (SPS, then IDR). */
  #lastKeyframeTimestamp: number | undefined;
  #lastFrameAt: number | undefined;
  #ssrc: number | undefined;
  #lastSeq: number | undefined;

  constructor(counts: ReceiveCounts = emptyReceiveCounts()) {
    this.counts = counts;
  }

  /** When the last video frame arrived (ms, the caller's clock). */
  get lastFrameAt(): number | undefined {
    return this.#lastFrameAt;
  }

  audio(payloadBytes: number): void {
    this.counts.audioPackets++;
    this.counts.audioBytes += payloadBytes;
  }

  /** Counts one video packet; `newFrame` when it is the first of a frame (RFC 3550 §5.1: one timestamp per frame). */
  video(p: VideoPacket, now: number): { newFrame: boolean; gapMs: number | undefined } {
    const c = this.counts;
    if (this.#ssrc !== undefined && p.ssrc !== this.#ssrc) c.videoSsrcChanges++;
    this.#ssrc = p.ssrc;
    if (this.#lastSeq !== undefined && Math.abs(seqDiff(p.sequenceNumber, this.#lastSeq)) > MAX_SEQ_STEP) c.videoSeqJumps++;
    this.#lastSeq = p.sequenceNumber;
    c.videoBytes += p.payloadBytes;
    let newFrame = false;
    let gapMs: number | undefined;
    if (p.timestamp !== this.#lastTimestamp) {
      newFrame = true;
      if (this.#lastFrameAt !== undefined) {
        gapMs = now - this.#lastFrameAt;
        c.maxGapMs = Math.max(c.maxGapMs, gapMs);
      }
      this.#lastFrameAt = now;
      this.#lastTimestamp = p.timestamp;
      c.videoFrames++;
    }
    if (p.keyframe) {
      if (p.timestamp !== this.#lastKeyframeTimestamp) c.keyframes++;
      this.#lastKeyframeTimestamp = p.timestamp;
    }
    return { newFrame, gapMs };
  }
}
