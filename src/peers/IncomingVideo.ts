import { FRAME_GATE_DEFAULTS, FrameGate, type GateOutput } from '../rtp/FrameGate.ts';
import { readMarker } from '../rtp/rtpHeader.ts';
import { DecoderLag } from './DecoderLag.ts';
import { isH264KeyframeStart } from '../rtp/h264.ts';
import { isVp8KeyframeStart } from '../rtp/vp8.ts';

/** While frames are being dropped for want of a keyframe, ask the publisher at most this often. */
const KEYFRAME_REQUEST_INTERVAL_MS = 300;
/** A decoder more than this many frames (200 ms) behind its usual is given nothing until a keyframe. */
const DECODER_LAG = { maxFrames: 6, windowMs: 5000 };

export interface IncomingVideoOptions {
  codec: 'VP8' | 'H264';
  /** Hands a packet to the decoder. */
  forward: (packet: Buffer) => void;
  /** Asks the publisher for a keyframe (PLI). */
  requestKeyframe: () => void;
}

/**
 * A publisher's video on its way to the decoder, through a frame gate (reordering, whole frames
 * only, nothing after a loss until a keyframe), with the timer that gives up on a gap when no
 * more packets come to do it, and rate-limited keyframe requests.
 */
export class IncomingVideo {
  readonly gate: FrameGate;
  readonly #options: IncomingVideoOptions;
  #timer: NodeJS.Timeout | undefined;
  #lastRequest = -Infinity;
  readonly #lag = new DecoderLag(DECODER_LAG);
  keyframeRequests = 0;
  /** Whole frames handed to the decoder. */
  framesForwarded = 0;
  /** Times the decoder fell behind and frames were skipped to the next keyframe. */
  decoderBehind = 0;

  constructor(options: IncomingVideoOptions) {
    this.#options = options;
    this.gate = new FrameGate({
      isKeyframeStart: options.codec === 'H264' ? isH264KeyframeStart : isVp8KeyframeStart,
      ...FRAME_GATE_DEFAULTS,
    });
  }

  push(packet: Buffer): void {
    this.#handle(this.gate.push(packet, performance.now()));
  }

  /** The session's count of frames the decoder has decoded (every 100 ms). */
  decoderProgress(decoded: number): void {
    if (this.gate.waitingForKeyframe || !this.#lag.report(this.framesForwarded, decoded, performance.now())) return;
    this.decoderBehind++;
    this.#lag.reset();
    this.#handle(this.gate.skipToKeyframe());
  }

  close(): void {
    clearTimeout(this.#timer);
  }

  #handle(out: GateOutput): void {
    for (const packet of out.packets) {
      if (readMarker(packet)) this.framesForwarded++;
      this.#options.forward(packet);
    }
    const now = performance.now();
    if (out.keyframeNeeded && now - this.#lastRequest >= KEYFRAME_REQUEST_INTERVAL_MS) {
      this.#lastRequest = now;
      this.keyframeRequests++;
      this.#options.requestKeyframe();
    }
    // One timer while a gap is open, not one per packet: packets expire gaps themselves as they come.
    if (!this.gate.holding) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#handle(this.gate.poll(performance.now()));
      }, FRAME_GATE_DEFAULTS.lossTimeoutMs);
    }
  }
}
