import { readAudioLevel } from '../../rtp/audioLevel.ts';
import { readSeq } from '../../rtp/rtpHeader.ts';
import { SilenceGate } from '../../rtp/SilenceGate.ts';
import type { LinkFactory } from '../chain.ts';
import type { IncomingControl, PublishedStream } from './PublishedStream.ts';

/**
 * Holds back a publisher's silence from its decoder (SilenceGate says why and how), from the
 * level it stamps on each packet (RFC 6464). None when the extension was not negotiated: then
 * everything is decoded, and the session measures the level itself. None either when the server
 * is told to decode silence (`--decode-silence`).
 */
export const silenceGateLink: LinkFactory<PublishedStream, IncomingControl> = {
  name: 'silence gate',
  bind(stream, { next }) {
    const id = stream.audioLevelId;
    if (stream.kind !== 'audio' || id === undefined || stream.decodeSilence) return undefined;
    const { clock, figures } = stream;
    const gate = new SilenceGate();
    return {
      handle(packet) {
        const pass = gate.admit(readAudioLevel(packet, id), clock.now());
        figures.silenceHeld = gate.heldTotal;
        figures.silent = gate.closed;
        if (!pass) return;
        const original = readSeq(packet);
        const seq = gate.seq(original);
        if (seq !== original) packet.writeUInt16BE(seq, 2);
        next(packet);
      },
    };
  },
};
