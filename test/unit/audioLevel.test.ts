import { describe, expect, it } from 'vitest';
import { readAudioLevel } from '../../src/rtp/audioLevel.ts';
import { rtp } from '../helpers/rtpPackets.ts';

describe('readAudioLevel (RFC 6464 in an RFC 8285 header extension)', () => {
  it('reads the level and the voice bit from a one-byte element among others', () => {
    const extension = Buffer.from([
      0xbe, 0xde, 0x00, 0x02, // one-byte header, 2 words
      0x31, 0x61, 0x62, //       ID=3 L=1 (two bytes): sdes:mid "ab"
      0x00, //                   padding between elements
      0x10, 0x8a, //             ID=1 L=0: V=1, level 10
      0x00, 0x00, //             padding
    ]);
    expect(readAudioLevel(rtp({ seq: 1, extension }), 1)).toEqual({ dBov: 10, voice: true });
    expect(readAudioLevel(rtp({ seq: 1, extension }), 2)).toBeUndefined();
  });

  it('reads a two-byte element (profile 0x1000)', () => {
    const extension = Buffer.from([0x10, 0x00, 0x00, 0x01, 0x05, 0x01, 0x7f, 0x00]);
    expect(readAudioLevel(rtp({ seq: 1, extension }), 5)).toEqual({ dBov: 127, voice: false });
  });

  it('finds nothing in a packet without an extension, or with a truncated one', () => {
    expect(readAudioLevel(rtp({ seq: 1 }), 1)).toBeUndefined();
    const truncated = rtp({ seq: 1, extension: Buffer.from([0xbe, 0xde, 0x00, 0x04, 0x13]), payload: Buffer.alloc(0) });
    expect(readAudioLevel(truncated, 1)).toBeUndefined();
  });
});
