import { describe, expect, it, test } from 'vitest';
import {
  RTP_MIN_HEADER,
  isRtp,
  payloadOffset,
  readMarker,
  readSeq,
  readSsrc,
  readTimestamp,
  writeSeqAndTimestamp,
} from '../../src/rtp/rtpHeader.ts';

// Literal packets, annotated field by field (RFC 3550 §5.1 fixed header, §5.3.1 extension,
// RFC 8285 §4.2 one-byte extension elements).

/** The smallest packet: no CSRC, no extension. */
const PLAIN = Buffer.from([
  0x80, //       V=2 P=0 X=0 CC=0
  0xe0, //       M=1 PT=96
  0x12, 0x34, // sequence number 0x1234 = 4660
  0xde, 0xad, 0xbe, 0xef, // timestamp 0xdeadbeef
  0x11, 0x22, 0x33, 0x44, // SSRC 0x11223344
  0x10, 0x70, 0x00, //     payload (the start of a VP8 payload header)
]);

/** Two contributing sources, as a mixer writes them. */
const WITH_CSRCS = Buffer.from([
  0x82, //       V=2 P=0 X=0 CC=2
  0x6f, //       M=0 PT=111
  0xff, 0xfe, // sequence number 65534
  0xff, 0xff, 0xff, 0xfe, // timestamp 0xfffffffe
  0xca, 0xfe, 0xba, 0xbe, // SSRC 0xcafebabe
  0x00, 0x00, 0x00, 0x01, // CSRC 1
  0x00, 0x00, 0x00, 0x02, // CSRC 2
  0xf8, 0xff, 0xfe, //     payload (an Opus TOC byte and data)
]);

/** A one-byte-header extension (0xBEDE) carrying the audio level, as browsers send Opus. */
const WITH_EXTENSION = Buffer.from([
  0x90, //       V=2 P=0 X=1 CC=0
  0x6f, //       M=0 PT=111
  0x00, 0x00, // sequence number 0
  0x00, 0x00, 0x03, 0xc0, // timestamp 960
  0x00, 0x00, 0x00, 0x2a, // SSRC 42
  0xbe, 0xde, // extension profile: one-byte header (RFC 8285)
  0x00, 0x01, // extension length: 1 word of 32 bits
  0x10, //       element ID=1 L=0 (one byte): ssrc-audio-level
  0x8a, //       V=1, level 10 dBov
  0x00, 0x00, // padding to the word
  0x78, 0x01, //  payload
]);

/** CSRCs and an extension together: the extension comes after the CSRC list. */
const WITH_CSRC_AND_EXTENSION = Buffer.from([
  0x91, //       V=2 P=0 X=1 CC=1
  0xe0, //       M=1 PT=96
  0xab, 0xcd, // sequence number 0xabcd
  0x01, 0x02, 0x03, 0x04, // timestamp 0x01020304
  0x05, 0x06, 0x07, 0x08, // SSRC 0x05060708
  0x00, 0x00, 0x00, 0x63, // CSRC 99
  0xbe, 0xde, // extension profile: one-byte header
  0x00, 0x02, // extension length: 2 words
  0x22, 0x12, 0x34, 0x56, // ID=2 L=2 (three bytes): abs-send-time
  0x30, 0x31, //             ID=3 L=0 (one byte): sdes:mid "1"
  0x00, 0x00, //             padding
  0x90, 0x80, 0x80, 0x00, 0x10, // payload: a VP8 descriptor and header
]);

/** Padding (P=1): the last byte counts the padding bytes, which do not move the payload start. */
const WITH_PADDING = Buffer.from([
  0xa0, //       V=2 P=1 X=0 CC=0
  0x60, //       M=0 PT=96
  0x00, 0x07, // sequence number 7
  0x00, 0x00, 0x00, 0x00, // timestamp 0
  0x00, 0x00, 0x00, 0x01, // SSRC 1
  0x10, 0x31, //  payload
  0x00, 0x00, 0x03, // padding, its last byte the count (3)
]);

describe('reading the fixed header', () => {
  test.each([
    // [name, packet, seq, timestamp, ssrc, marker, payload offset]
    ['a plain packet', PLAIN, 0x1234, 0xdeadbeef, 0x11223344, true, 12],
    ['a packet with two CSRCs', WITH_CSRCS, 65534, 0xfffffffe, 0xcafebabe, false, 20],
    ['a packet with a header extension', WITH_EXTENSION, 0, 960, 42, false, 20],
    ['a packet with a CSRC and a header extension', WITH_CSRC_AND_EXTENSION, 0xabcd, 0x01020304, 0x05060708, true, 28],
    ['a padded packet', WITH_PADDING, 7, 0, 1, false, 12],
  ])('%s reads its seq, timestamp, SSRC, marker and payload offset', (_name, packet, seq, timestamp, ssrc, marker, offset) => {
    expect(isRtp(packet)).toBe(true);
    expect(readSeq(packet)).toBe(seq);
    expect(readTimestamp(packet)).toBe(timestamp);
    expect(readSsrc(packet)).toBe(ssrc);
    expect(readMarker(packet)).toBe(marker);
    expect(payloadOffset(packet)).toBe(offset);
  });

  it('readTimestamp() and readSsrc() read the top bit as unsigned, never negative', () => {
    const packet = Buffer.from([0x80, 0x60, 0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff]);
    expect(readSeq(packet)).toBe(0x8000);
    expect(readTimestamp(packet)).toBe(0x80000000);
    expect(readSsrc(packet)).toBe(0xffffffff);
  });

  it('readMarker() reads only the top bit of byte 1, not the payload type', () => {
    expect(readMarker(Buffer.from([0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(false); // M=0 PT=127
    expect(readMarker(Buffer.from([0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(true); // M=1 PT=0
  });
});

describe('payloadOffset()', () => {
  it('payloadOffset() of the extension packet points at the first payload byte', () => {
    expect(WITH_EXTENSION.subarray(payloadOffset(WITH_EXTENSION))).toEqual(Buffer.from([0x78, 0x01]));
    expect(WITH_CSRC_AND_EXTENSION.subarray(payloadOffset(WITH_CSRC_AND_EXTENSION))).toEqual(
      Buffer.from([0x90, 0x80, 0x80, 0x00, 0x10]),
    );
  });

  it('payloadOffset() counts a two-byte-header extension (0x1000) by its length the same way', () => {
    const packet = Buffer.from([
      0x90, 0x60, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // X=1, no CSRC
      0x10, 0x00, // profile: two-byte header (RFC 8285 §4.3)
      0x00, 0x01, // 1 word
      0x05, 0x01, 0xaa, 0x00, // ID=5 length 1, value, padding
      0xee, //       payload
    ]);
    expect(payloadOffset(packet)).toBe(20);
  });

  it('payloadOffset() of a header-only packet is its length: the payload is empty', () => {
    expect(payloadOffset(PLAIN.subarray(0, 12))).toBe(12);
    expect(payloadOffset(WITH_CSRCS.subarray(0, 20))).toBe(20);
    expect(payloadOffset(WITH_EXTENSION.subarray(0, 20))).toBe(20);
  });

  test.each([
    ['the CSRC list is cut short', WITH_CSRCS.subarray(0, 16)],
    ['the extension header is cut short', WITH_EXTENSION.subarray(0, 14)],
    ['the extension header is missing', WITH_EXTENSION.subarray(0, 12)],
    ['the extension data is cut short', WITH_EXTENSION.subarray(0, 18)],
    ['the extension claims 0xffff words', Buffer.from([...WITH_EXTENSION.subarray(0, 14), 0xff, 0xff, 0x10, 0x8a, 0, 0, 0x78])],
  ])('payloadOffset() never points past the end when %s', (_name, packet) => {
    expect(payloadOffset(packet)).toBe(packet.length);
  });
});

describe('writeSeqAndTimestamp()', () => {
  test.each([
    ['a plain packet', PLAIN],
    ['a packet with two CSRCs', WITH_CSRCS],
    ['a packet with a CSRC and a header extension', WITH_CSRC_AND_EXTENSION],
  ])('writeSeqAndTimestamp() on %s changes bytes 2-7 and nothing else', (_name, original) => {
    const packet = Buffer.from(original);
    writeSeqAndTimestamp(packet, 0xbeef, 0x0badf00d);
    expect([...packet.subarray(2, 8)]).toEqual([0xbe, 0xef, 0x0b, 0xad, 0xf0, 0x0d]);
    expect(packet.subarray(0, 2)).toEqual(original.subarray(0, 2));
    expect(packet.subarray(8)).toEqual(original.subarray(8));
    expect(packet.length).toBe(original.length);
  });

  it('writeSeqAndTimestamp() round-trips through the readers at the top of both ranges', () => {
    const packet = Buffer.from(PLAIN);
    writeSeqAndTimestamp(packet, 65535, 0xffffffff);
    expect(readSeq(packet)).toBe(65535);
    expect(readTimestamp(packet)).toBe(0xffffffff);
    writeSeqAndTimestamp(packet, 0, 0);
    expect([...packet.subarray(2, 8)]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('writeSeqAndTimestamp() writes a timestamp past 2^31 without throwing', () => {
    const packet = Buffer.from(PLAIN);
    expect(() => writeSeqAndTimestamp(packet, 1, 0x80000000)).not.toThrow();
    expect(readTimestamp(packet)).toBe(0x80000000);
  });
});

describe('isRtp()', () => {
  test.each([
    ['an empty buffer', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x80])],
    ['eleven bytes of a valid header', PLAIN.subarray(0, RTP_MIN_HEADER - 1)],
    ['version 0', Buffer.from([0x00, ...PLAIN.subarray(1)])],
    ['version 1', Buffer.from([0x40, ...PLAIN.subarray(1)])],
    ['version 3', Buffer.from([0xc0, ...PLAIN.subarray(1)])],
    ['a STUN binding request (first two bits 00)', Buffer.from('000100002112a442000000000000000000000000', 'hex')],
  ])('isRtp() rejects %s', (_name, packet) => {
    expect(isRtp(packet)).toBe(false);
  });

  test.each([
    ['a bare 12-byte header', PLAIN.subarray(0, RTP_MIN_HEADER)],
    ['a plain packet', PLAIN],
    ['a padded packet', WITH_PADDING],
    ['a packet with CSRCs', WITH_CSRCS],
  ])('isRtp() accepts %s', (_name, packet) => {
    expect(isRtp(packet)).toBe(true);
  });

  // RFC 5761 §4: on a port shared with RTCP, a second byte of 192-223 is RTCP (this report is FFmpeg's).
  it('isRtp() rejects an RTCP sender report from FFmpeg (RFC 5761 §4)', () => {
    const senderReport = Buffer.from([
      0x80, //       V=2 P=0 RC=0
      0xc8, //       PT=200 (SR)
      0x00, 0x06, // length: 6 words after this one
      0x00, 0x00, 0x30, 0x39, // SSRC of the sender: 12345
      0xee, 0xaf, 0xac, 0xde, // NTP timestamp, seconds (read as an RTP SSRC: 0xeeafacde)
      0x94, 0x39, 0x58, 0x10, // NTP timestamp, fraction
      0x3c, 0xe7, 0x1d, 0x1b, // RTP timestamp
      0x00, 0x00, 0x00, 0x00, // sender's packet count
      0x00, 0x00, 0x00, 0x00, // sender's octet count
    ]);
    expect(isRtp(senderReport)).toBe(false);
  });
});
