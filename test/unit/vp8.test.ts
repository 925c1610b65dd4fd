import { describe, expect, it, test } from 'vitest';
import { readMarker, readSeq, readTimestamp } from '../../src/rtp/rtpHeader.ts';
import { isVp8KeyframeStart, vp8PayloadStartsKeyframe, Vp8PictureIdRewriter } from '../../src/rtp/vp8.ts';
import { readVp8Capture } from '../helpers/rtpCapture.ts';

// RFC 7741 §4.2, the VP8 payload descriptor:
//        0 1 2 3 4 5 6 7
//       |X|R|N|S|R| PID |   required
//   X:  |I|L|T|K| RSV   |   present when X=1
//   I:  |M| PictureID   |   present when I=1; M=1 adds a second byte (15-bit PictureID)
//   L:  |   TL0PICIDX   |   present when L=1
//   T/K:|TID|Y| KEYIDX  |   present when T=1 or K=1
// RFC 7741 §4.3, the VP8 payload header's first byte: |Size0|H| VER |P|, P=0 for a keyframe.

/** A 12-byte RTP header (V=2, PT=96, seq 1, ts 0, SSRC 1) in front of a VP8 payload. */
const rtp = (...payload: number[]): Buffer =>
  Buffer.from([0x80, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, ...payload]);

/**
 * The first bytes of a keyframe's payload header: 0x10 (P=0), then the rest of the frame tag and
 * the start code 9d 01 2a (RFC 6386 §9.1). The byte after 0x10 is odd on purpose: a parser that
 * skips one descriptor byte too many reads it as a P=1 header and says "not a keyframe".
 */
const KEY_HEADER = [0x10, 0x01, 0x00, 0x9d, 0x01, 0x2a];
/** An interframe's payload header: P=1. */
const DELTA_HEADER = [0x31, 0x10, 0x00];

describe('isVp8KeyframeStart()', () => {
  test.each([
    ['no extension', rtp(0x10, ...KEY_HEADER)], // X=0 S=1 PID=0
    ['N=1 (a non-reference frame) ignored', rtp(0x30, ...KEY_HEADER)], // X=0 N=1 S=1 PID=0
    ['the first reserved bit set (receivers ignore it)', rtp(0x50, ...KEY_HEADER)], // R=1 S=1
    ['X with no optional field', rtp(0x90, 0x00, ...KEY_HEADER)],
    // X=1 S=1 | I=1 | M=0 PictureID=5 (7 bits). Read as 15 bits, the header would be 0x01.
    ['X+I and a 7-bit PictureID', rtp(0x90, 0x80, 0x05, ...KEY_HEADER)],
    // X=1 S=1 | I=1 | M=1 PictureID=0x0123 (15 bits). Read as 7 bits, the header would be 0x23.
    ['X+I and a 15-bit PictureID', rtp(0x90, 0x80, 0x81, 0x23, ...KEY_HEADER)],
    // X=1 S=1 | L=1 | TL0PICIDX=7. Not skipped, the header would be 0x07.
    ['X+L', rtp(0x90, 0x40, 0x07, ...KEY_HEADER)],
    // X=1 S=1 | T=1 | TID=1 Y=0 KEYIDX=1
    ['X+T', rtp(0x90, 0x20, 0x41, ...KEY_HEADER)],
    // X=1 S=1 | K=1 | TID=0 Y=0 KEYIDX=3
    ['X+K', rtp(0x90, 0x10, 0x03, ...KEY_HEADER)],
    // T and K share one byte: X=1 S=1 | T=1 K=1 | TID=2 Y=1 KEYIDX=1. Two bytes skipped would land on 0x01.
    ['X+T+K sharing one byte', rtp(0x90, 0x30, 0xa1, ...KEY_HEADER)],
    // X=1 S=1 | I L T K | M=1 PictureID=0x0123 | TL0PICIDX=7 | TID=1 KEYIDX=1
    ['X with I (15-bit), L, T and K', rtp(0x90, 0xf0, 0x81, 0x23, 0x07, 0x41, ...KEY_HEADER)],
    // X=1 S=1 | I L | M=0 PictureID=0x7f | TL0PICIDX=0xff
    ['X with I (7-bit PictureID 127) and L', rtp(0x90, 0xc0, 0x7f, 0xff, ...KEY_HEADER)],
  ])('isVp8KeyframeStart() finds a keyframe start with %s', (_name, packet) => {
    expect(isVp8KeyframeStart(packet)).toBe(true);
    // The same from the payload alone (what a werift receiver hands over).
    expect(vp8PayloadStartsKeyframe(packet.subarray(12))).toBe(true);
  });

  test.each([
    ['P=1 (an interframe)', rtp(0x10, ...DELTA_HEADER)],
    ['P=1 behind a 15-bit PictureID', rtp(0x90, 0x80, 0x80, 0x01, ...DELTA_HEADER)],
    ['P=1 behind I, L, T and K', rtp(0x90, 0xf0, 0x05, 0x07, 0x41, ...DELTA_HEADER)],
    ['S=0 (a continuation of the frame)', rtp(0x00, ...KEY_HEADER)],
    ['S=0 with X+I', rtp(0x80, 0x80, 0x81, 0x23, ...KEY_HEADER)],
    ['PID=1 (the start of the second partition)', rtp(0x11, ...KEY_HEADER)],
    ['PID=7', rtp(0x17, ...KEY_HEADER)],
    ['PID=3 with X+I', rtp(0x93, 0x80, 0x05, ...KEY_HEADER)],
  ])('isVp8KeyframeStart() is false for %s', (_name, packet) => {
    expect(isVp8KeyframeStart(packet)).toBe(false);
    expect(vp8PayloadStartsKeyframe(packet.subarray(12))).toBe(false);
  });

  test.each([
    ['an empty payload', rtp()],
    ['a descriptor and no payload header', rtp(0x10)],
    ['X=1 and no extension byte', rtp(0x90)],
    ['I=1 and no PictureID', rtp(0x90, 0x80)],
    ['a 15-bit PictureID cut after its first byte', rtp(0x90, 0x80, 0x81)],
    ['a 15-bit PictureID and no payload header', rtp(0x90, 0x80, 0x81, 0x23)],
    ['L=1 and no payload header', rtp(0x90, 0x40, 0x07)],
    ['a bare 12-byte RTP header', rtp().subarray(0, 12)],
  ])('isVp8KeyframeStart() is false, without throwing, for %s', (_name, packet) => {
    expect(isVp8KeyframeStart(packet)).toBe(false);
  });

  it('isVp8KeyframeStart() reads the descriptor after the CSRCs and the header extension', () => {
    const packet = Buffer.from([
      0x91, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // X=1 CC=1
      0x00, 0x00, 0x00, 0x07, // CSRC 7
      0xbe, 0xde, 0x00, 0x01, // one-byte-header extension, 1 word
      0x31, 0x11, 0x00, 0x00, // ID=3 L=1 "\x11\x00" (odd bytes where a VP8 parser must not look)
      0x90, 0x80, 0x05, ...KEY_HEADER, // X=1 S=1 | I | PictureID 5 | keyframe header
    ]);
    expect(isVp8KeyframeStart(packet)).toBe(true);
    // The same packet with P=1 in the payload header
    packet[27] = 0x31;
    expect(isVp8KeyframeStart(packet)).toBe(false);
  });

  // RFC 7741 §4.2: PID is the low three bits; the R bit above it must be ignored.
  it('isVp8KeyframeStart() ignores the second reserved bit of the descriptor (RFC 7741 §4.2)', () => {
    expect(isVp8KeyframeStart(rtp(0x18, ...KEY_HEADER))).toBe(true); // R=1 S=1 PID=0
  });
});

describe('isVp8KeyframeStart() on VP8 that FFmpeg sent over RTP', () => {
  const packets = readVp8Capture();

  it('the capture holds one keyframe in seven packets, then two one-packet interframes', () => {
    expect(packets.map((p) => p.length)).toEqual([1200, 1200, 1200, 1200, 1200, 1200, 785, 583, 577]);
    expect(packets.map(readSeq)).toEqual([1345, 1346, 1347, 1348, 1349, 1350, 1351, 1352, 1353]);
    expect(packets.map(readMarker)).toEqual([false, false, false, false, false, false, true, true, true]);
    const [first] = packets;
    expect(packets.map((p) => readTimestamp(p) - readTimestamp(first!))).toEqual([0, 0, 0, 0, 0, 0, 0, 3000, 6000]);
  });

  it('the first packet is a keyframe start', () => {
    // 90 80 80 00 | 10 70 00 9d 01 2a: X=1 S=1 PID=0 | I=1 | M=1 PictureID=0 | P=0, start code
    expect([...packets[0]!.subarray(12, 22)]).toEqual([0x90, 0x80, 0x80, 0x00, 0x10, 0x70, 0x00, 0x9d, 0x01, 0x2a]);
    expect(isVp8KeyframeStart(packets[0]!)).toBe(true);
  });

  it('the rest of the keyframe (S=0) is not a keyframe start', () => {
    for (const packet of packets.slice(1, 7)) {
      expect(packet[12]).toBe(0x80); // X=1 S=0 PID=0
      expect(isVp8KeyframeStart(packet)).toBe(false);
    }
  });

  it('the interframes start a frame (S=1) but are not keyframes (P=1)', () => {
    for (const [i, packet] of packets.slice(7).entries()) {
      // 90 80 80 0n | 31: X=1 S=1 PID=0 | I=1 | M=1 PictureID=n | P=1
      expect([...packet.subarray(12, 17)]).toEqual([0x90, 0x80, 0x80, i + 1, 0x31]);
      expect(isVp8KeyframeStart(packet)).toBe(false);
    }
  });

  it('exactly one packet of the capture is a keyframe start', () => {
    expect(packets.map(isVp8KeyframeStart)).toEqual([true, false, false, false, false, false, false, false, false]);
  });
});

describe('Vp8PictureIdRewriter', () => {
  /** RTP header + VP8 descriptor X=1 S=1, extension I=1, 15-bit PictureID, payload header. */
  const packet = (pictureId: number): Buffer =>
    Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x90, 0x80, 0x80 | (pictureId >> 8), pictureId & 0xff, 0x00]);
  const idOf = (p: Buffer): number => p.readUInt16BE(14) & 0x7fff;

  it('passes the first source through and continues the numbering by one across a switch', () => {
    const rewriter = new Vp8PictureIdRewriter();
    const out: number[] = [];
    for (const id of [100, 100, 101, 102]) {
      const p = packet(id);
      rewriter.rewrite(p, 1);
      out.push(idOf(p));
    }
    // a new compositor starts again at 0
    for (const id of [0, 0, 1]) {
      const p = packet(id);
      rewriter.rewrite(p, 2);
      out.push(idOf(p));
    }
    expect(out).toEqual([100, 100, 101, 102, 103, 103, 104]);
  });

  it('wraps the 15-bit field and keeps the M bit set', () => {
    const rewriter = new Vp8PictureIdRewriter();
    const a = packet(0x7fff);
    rewriter.rewrite(a, 1);
    const b = packet(5);
    rewriter.rewrite(b, 2);
    expect(idOf(b)).toBe(0);
    expect(b[14]! & 0x80).toBe(0x80);
  });

  it('leaves a packet without a PictureID unchanged', () => {
    const rewriter = new Vp8PictureIdRewriter();
    const p = Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00]);
    const copy = Buffer.from(p);
    rewriter.rewrite(p, 1);
    expect(p).toEqual(copy);
  });
});
