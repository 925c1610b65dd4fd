import { describe, expect, it } from 'vitest';
import { h264PayloadStartsKeyframe, isH264KeyframeStart } from '../../src/rtp/h264.ts';

/** A 12-byte RTP header (V=2, PT 102) followed by `payload`. */
const rtp = (...payload: number[]): Buffer => Buffer.from([0x80, 102, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, ...payload]);

describe('isH264KeyframeStart() (RFC 6184)', () => {
  it.each([
    ['a single IDR slice (type 5)', rtp(0x65, 0x88, 0x84), true],
    ['a single SPS (type 7)', rtp(0x67, 0x42, 0xe0, 0x1f), true],
    ['a single non-IDR slice (type 1)', rtp(0x41, 0x9a), false],
    ['a PPS alone (type 8)', rtp(0x68, 0xce), false],
    ['a STAP-A holding SPS and PPS', rtp(0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce), true],
    ['a STAP-A holding only non-IDR slices', rtp(0x78, 0x00, 0x02, 0x41, 0x9a, 0x00, 0x01, 0x41), false],
    ['the first FU-A fragment of an IDR (S=1)', rtp(0x7c, 0x85, 0x88), true],
    ['a middle FU-A fragment of an IDR (S=0)', rtp(0x7c, 0x05, 0x88), false],
    ['the first FU-A fragment of a non-IDR slice', rtp(0x7c, 0x81, 0x9a), false],
    ['an empty payload', rtp(), false],
    ['a truncated FU-A', rtp(0x7c), false],
  ])('%s → %s', (_what, packet, expected) => {
    expect(isH264KeyframeStart(packet)).toBe(expected);
    expect(h264PayloadStartsKeyframe(packet.subarray(12))).toBe(expected);
  });
});
