import { readAudioLevel } from '../../rtp/audioLevel.ts';
import type { LinkFactory } from '../chain.ts';
import type { IncomingControl, PublishedStream } from './PublishedStream.ts';

/**
 * A tap on the audio level the publisher reports in each packet (RFC 6464), kept in the
 * participant's figures. Nothing decides on it: the session measures every level itself from
 * the decoded audio (SpeakerDetector), which works for clients that do not send the extension
 * too. None when the extension was not negotiated.
 */
export const audioLevelLink: LinkFactory<PublishedStream, IncomingControl> = {
  name: 'audio level',
  bind(stream, { next }) {
    const id = stream.audioLevelId;
    if (stream.kind !== 'audio' || id === undefined) return undefined;
    const figures = stream.figures;
    return {
      handle(packet) {
        const level = readAudioLevel(packet, id);
        if (level) {
          figures.audioLevel = level;
          if (level.voice) figures.voicePackets++;
        }
        next(packet);
      },
    };
  },
};
