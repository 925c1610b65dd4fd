import { readMarker, readSeq, readSsrc, readTimestamp } from './rtpHeader.ts';
import { seqAdd, seqNewer, tsDiff } from './seq.ts';

export interface FrameGateOptions {
  /** True for the first packet of a keyframe (VP8) or IDR access unit (H.264). */
  isKeyframeStart: (packet: Buffer) => boolean;
  /** How long a missing packet is waited for (werift NACKs it every 5 ms, ten times) before it counts as lost. */
  lossTimeoutMs: number;
  /** Packets held behind a gap at most; more and the gap counts as lost at once. */
  maxHeldPackets: number;
}

/** A packet this far behind the expected one is not late: the sender's numbering started over. */
const MAX_LATE_PACKETS = 1000;
/**
 * A packet out of sequence whose timestamp is this far (5 s at 90 kHz) from the last one is not
 * late nor after a loss: a new encoder started with a random timestamp base, and a sender that
 * does not rebase numbering (werift's) puts its sequence numbers anywhere near the old ones —
 * FFmpeg's start below 4096, so a few hundred behind one time in eight: taken for late packets,
 * a whole stream was dropped.
 */
const MAX_TIMESTAMP_JUMP = 5 * 90_000;

export const FRAME_GATE_DEFAULTS = { lossTimeoutMs: 100, maxHeldPackets: 512 } as const;

export interface GateOutput {
  /** Whole frames, in order, renumbered so that the decoder never sees a gap. */
  packets: Buffer[];
  /** A frame was lost or dropped while waiting: the publisher should be asked for a keyframe. */
  keyframeNeeded: boolean;
}

/**
 * Stands between a publisher's RTP and its decoder. It puts packets back in order (NACK
 * retransmissions arrive late), passes on only whole frames, and after a loss passes nothing
 * until a keyframe: a decoder that lost its reference would otherwise draw grey or smeared
 * pictures into the composite. Its output is numbered without gaps, so FFmpeg's own reorder
 * queue never waits for a packet that will not come.
 */
export class FrameGate {
  readonly #options: FrameGateOptions;
  #ssrc: number | undefined;
  /** The next sequence number expected in order. */
  #next = 0;
  readonly #held = new Map<number, Buffer>();
  /** When `#next` went missing (packets after it are held). */
  #gapSince: number | undefined;
  #frame: Buffer[] = [];
  #waitingForKeyframe = true;
  #outSeq: number | undefined;
  /** The timestamp of the last packet taken in order. */
  #lastTimestamp: number | undefined;
  /** Frames dropped because they were incomplete or not decodable. */
  framesDropped = 0;
  /** Gaps given up on (the packets never came). */
  losses = 0;

  constructor(options: FrameGateOptions) {
    this.#options = options;
  }

  get waitingForKeyframe(): boolean {
    return this.#waitingForKeyframe;
  }

  /** True while packets are held behind a gap: call `poll` by `#gapSince + lossTimeoutMs`. */
  get holding(): boolean {
    return this.#gapSince !== undefined;
  }

  push(packet: Buffer, now: number): GateOutput {
    const out: GateOutput = { packets: [], keyframeNeeded: false };
    const ssrc = readSsrc(packet);
    const seq = readSeq(packet);
    // A new SSRC, sequence numbers that jumped far back, or out of sequence with a timestamp far
    // from the last: the publisher started its stream over.
    const behind = seqNewer(seq, this.#next) ? 0 : (this.#next - seq) & 0xffff;
    const far = this.#lastTimestamp !== undefined && Math.abs(tsDiff(readTimestamp(packet), this.#lastTimestamp)) > MAX_TIMESTAMP_JUMP;
    if (ssrc !== this.#ssrc || behind > MAX_LATE_PACKETS || (seq !== this.#next && far)) this.#reset(ssrc, seq);
    if (seq === this.#next) {
      this.#inOrder(packet, out);
      this.#drain(out, now);
    } else if (seqNewer(seq, this.#next)) {
      this.#held.set(seq, packet);
      this.#gapSince ??= now;
      if (this.#held.size > this.#options.maxHeldPackets) this.#giveUp(out, now);
    }
    // Older than expected: a duplicate, or a retransmission of a packet already given up on.
    this.#expire(now, out);
    return out;
  }

  /**
   * Passes nothing more until a keyframe (its decoder fell behind: what it has not read would
   * only make its tile later). The frame in progress is dropped too.
   */
  skipToKeyframe(): GateOutput {
    const out: GateOutput = { packets: [], keyframeNeeded: true };
    if (this.#frame.length) this.framesDropped++;
    this.#frame = [];
    this.#waitingForKeyframe = true;
    return out;
  }

  /** Gives up on gaps older than the loss timeout. */
  poll(now: number): GateOutput {
    const out: GateOutput = { packets: [], keyframeNeeded: false };
    this.#expire(now, out);
    return out;
  }

  #reset(ssrc: number, seq: number): void {
    this.#ssrc = ssrc;
    this.#next = seq;
    this.#outSeq ??= seq;
    this.#held.clear();
    this.#gapSince = undefined;
    this.#frame = [];
    this.#waitingForKeyframe = true;
    this.#lastTimestamp = undefined;
  }

  #expire(now: number, out: GateOutput): void {
    if (this.#gapSince !== undefined && now - this.#gapSince >= this.#options.lossTimeoutMs) this.#giveUp(out, now);
  }

  /** The missing packets are not coming: the frame in progress is broken, and so is every frame until a keyframe. */
  #giveUp(out: GateOutput, now: number): void {
    this.losses++;
    if (this.#frame.length) this.framesDropped++;
    this.#frame = [];
    this.#waitingForKeyframe = true;
    out.keyframeNeeded = true;
    let oldest: number | undefined;
    for (const seq of this.#held.keys()) if (oldest === undefined || seqNewer(oldest, seq)) oldest = seq;
    this.#gapSince = undefined;
    if (oldest === undefined) return;
    this.#next = oldest;
    this.#drain(out, now);
  }

  #drain(out: GateOutput, now: number): void {
    const before = this.#next;
    for (let packet = this.#held.get(this.#next); packet; packet = this.#held.get(this.#next)) {
      this.#held.delete(this.#next);
      this.#inOrder(packet, out);
    }
    if (this.#held.size === 0) this.#gapSince = undefined;
    // The gap moved on to a later packet: it gets its own wait.
    else if (this.#next !== before) this.#gapSince = now;
  }

  #inOrder(packet: Buffer, out: GateOutput): void {
    this.#next = seqAdd(this.#next, 1);
    this.#lastTimestamp = readTimestamp(packet);
    const first = this.#frame[0];
    // A new timestamp before a marker: the previous frame ended without one (whole, nothing was missing).
    if (first && readTimestamp(first) !== readTimestamp(packet)) this.#finishFrame(out);
    this.#frame.push(packet);
    if (readMarker(packet)) this.#finishFrame(out);
  }

  #finishFrame(out: GateOutput): void {
    const frame = this.#frame;
    this.#frame = [];
    if (this.#waitingForKeyframe) {
      if (!this.#options.isKeyframeStart(frame[0]!)) {
        this.framesDropped++;
        out.keyframeNeeded = true;
        return;
      }
      this.#waitingForKeyframe = false;
    }
    for (const packet of frame) {
      const seq = this.#outSeq ?? readSeq(packet);
      packet.writeUInt16BE(seq, 2);
      this.#outSeq = seqAdd(seq, 1);
      out.packets.push(packet);
    }
  }
}
