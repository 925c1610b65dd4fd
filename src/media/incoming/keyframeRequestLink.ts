import { readSsrc } from '../../rtp/rtpHeader.ts';
import type { LinkFactory } from '../chain.ts';
import type { IncomingControl, PublishedStream } from './PublishedStream.ts';

/**
 * Keyframe pacing: every need for a keyframe of this video (the gate's losses, a decoder that
 * fell behind, the session's decoder waiting or stalled) reaches this link, first in the chain,
 * and its publisher's one decider says when a PLI goes out. It reads the SSRC the PLI names from
 * the packets. None for a publisher that did not negotiate PLI.
 */
export const keyframeRequestLink: LinkFactory<PublishedStream, IncomingControl> = {
  name: 'keyframe requests',
  bind(stream, { next }) {
    const keyframes = stream.keyframes;
    if (stream.kind !== 'video' || !stream.pli || !keyframes) return undefined;
    let ssrc: number | undefined;
    return {
      handle(packet) {
        ssrc = readSsrc(packet);
        next(packet);
      },
      control(message) {
        // Nothing received yet: there is no stream to ask about (its first frame will be a keyframe).
        if (message.type !== 'keyframe' || ssrc === undefined) return;
        if (keyframes.need(message.reason, stream.clock.now())) stream.sendPli(ssrc);
      },
    };
  },
};
