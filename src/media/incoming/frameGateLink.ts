import { FRAME_GATE_DEFAULTS, FrameGate, type GateOutput } from '../../rtp/FrameGate.ts';
import { isH264KeyframeStart } from '../../rtp/h264.ts';
import { readMarker } from '../../rtp/rtpHeader.ts';
import { isVp8KeyframeStart } from '../../rtp/vp8.ts';
import type { LinkFactory } from '../chain.ts';
import { DecoderLag } from './DecoderLag.ts';
import type { IncomingControl, PublishedStream } from './PublishedStream.ts';

/** A decoder more than this many frames (200 ms) behind its usual is given nothing until a keyframe. */
const DECODER_LAG = { maxFrames: 6, windowMs: 5000 };

/**
 * The frame gate (FrameGate: reordering, whole frames only, nothing after a loss until a
 * keyframe), with the timer that gives up on a gap when no more packets come to do it, and the
 * decoder-lag check that skips to the next keyframe when the decoder falls behind. Its needs for
 * a keyframe go up the chain to the keyframe request link. Video only.
 */
export const frameGateLink: LinkFactory<PublishedStream, IncomingControl> = {
  name: 'frame gate',
  bind(stream, { next, upstream }) {
    if (stream.kind !== 'video') return undefined;
    const { clock, figures } = stream;
    const gate = new FrameGate({
      isKeyframeStart: stream.codec === 'H264' ? isH264KeyframeStart : isVp8KeyframeStart,
      ...FRAME_GATE_DEFAULTS,
    });
    const lag = new DecoderLag(DECODER_LAG);
    let cancelTimer: (() => void) | undefined;

    const pass = (out: GateOutput, reason: 'loss' | 'lag'): void => {
      for (const packet of out.packets) {
        if (readMarker(packet)) figures.framesForwarded++;
        next(packet);
      }
      figures.framesDropped = gate.framesDropped;
      figures.losses = gate.losses;
      if (out.keyframeNeeded) upstream({ type: 'keyframe', reason });
      // One timer while a gap is open, not one per packet: packets expire gaps themselves as they come.
      if (!gate.holding) {
        cancelTimer?.();
        cancelTimer = undefined;
      } else {
        cancelTimer ??= clock.after(FRAME_GATE_DEFAULTS.lossTimeoutMs, () => {
          cancelTimer = undefined;
          pass(gate.poll(clock.now()), 'loss');
        });
      }
    };

    return {
      handle(packet) {
        pass(gate.push(packet, clock.now()), 'loss');
      },
      control(message) {
        if (message.type !== 'decoded' || gate.waitingForKeyframe) return;
        if (!lag.report(figures.framesForwarded, message.frames, clock.now())) return;
        figures.decoderBehind++;
        lag.reset();
        pass(gate.skipToKeyframe(), 'lag');
      },
      close() {
        cancelTimer?.();
      },
    };
  },
};
