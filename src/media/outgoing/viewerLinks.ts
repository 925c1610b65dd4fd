import { isPaddingOnly, paddingPacket } from '../../rtp/padding.ts';
import { StreamSwitcher } from '../../rtp/StreamSwitcher.ts';
import { isH264KeyframeStart } from '../../rtp/h264.ts';
import { readSsrc } from '../../rtp/rtpHeader.ts';
import { isVp8KeyframeStart, Vp8PictureIdRewriter } from '../../rtp/vp8.ts';
import type { LinkFactory } from '../chain.ts';
import type { ViewerControl, ViewerStream } from './ViewerStream.ts';

type ViewerLink = LinkFactory<ViewerStream, ViewerControl>;

/**
 * The viewer's own copy of each packet. The links after it rewrite the packet in place, and
 * werift's sender parses it into the object it rewrites (SSRC, payload type) and keeps for
 * retransmission: a copy shared by two viewers was answered to one viewer's NACK with the other
 * viewer's SSRC (test/integration/outgoingNack.test.ts). Its NACKs are answered from this history.
 */
export const ownCopyLink: ViewerLink = {
  name: 'own copy',
  bind: (_stream, { next }) => ({ handle: (packet) => next(Buffer.from(packet)) }),
};

/**
 * The stream switcher's continuity for this viewer: when it moves to another source (another
 * rendition of the composite), the new source is taken at its next keyframe, and sequence
 * numbers and timestamps go on from the old one's (StreamSwitcher). On one source all along, it
 * changes nothing: the source is continuous itself across its compositors. It also pauses the
 * stream (until the next switch, taken at a keyframe) and numbers padding into it.
 */
export const continuityLink: ViewerLink = {
  name: 'continuity',
  bind(stream, { next }) {
    const isKeyframe = stream.kind === 'audio' ? () => true : stream.codec === 'H264' ? isH264KeyframeStart : isVp8KeyframeStart;
    const switcher: StreamSwitcher = new StreamSwitcher({
      clockRate: stream.kind === 'audio' ? 48000 : 90000,
      // The first source at once, as it comes: the viewer has had nothing before it.
      canSwitchAt: (packet) => !switcher.started || isKeyframe(packet),
      onlyExpected: true,
    });
    switcher.expect(stream.source());
    return {
      handle(packet) {
        const out = switcher.process(packet, stream.now(), (source) => stream.switched(source), stream.source());
        if (out) next(out);
      },
      control(message) {
        if (message.type === 'switch') switcher.expect(message.source);
        if (message.type === 'pause') switcher.pause();
        if (message.type === 'pad') {
          for (const size of message.sizes) {
            const at = switcher.insert();
            if (!at) return;
            next(paddingPacket({ payloadType: 0, ssrc: 0, seq: at.seq, timestamp: at.timestamp, size }));
          }
        }
      },
    };
  },
};

/**
 * VP8 PictureIDs continuous for this viewer across a change of source (Vp8PictureIdRewriter):
 * a receiver takes numbers it has seen before for old pictures. The source keeps its own
 * continuous across its compositors, so on one source this changes nothing. VP8 only.
 */
export const pictureIdLink: ViewerLink = {
  name: 'picture ids',
  bind(stream, { next }) {
    if (stream.codec !== 'VP8') return undefined;
    const rewriter = new Vp8PictureIdRewriter();
    return {
      handle(packet) {
        if (!isPaddingOnly(packet)) rewriter.rewrite(packet, readSsrc(packet));
        next(packet);
      },
      control(message) {
        if (message.type === 'pause') rewriter.resume();
      },
    };
  },
};

/** A viewer's links, source first; the chain ends in the viewer's sender. */
export const VIEWER_LINKS: readonly ViewerLink[] = [ownCopyLink, continuityLink, pictureIdLink];
