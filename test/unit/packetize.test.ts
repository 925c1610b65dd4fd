import { dePacketizeRtpPackets, RtpHeader, RtpPacket, Vp8RtpPayload } from 'werift';
import { describe, expect, test } from 'vitest';
import { annexB } from '../helpers/media.ts';
import { h264Payloads, setVp8PictureId, vp8Payloads } from '../../src/loadtest/packetize.ts';

const packets = (payloads: Buffer[]): RtpPacket[] =>
  payloads.map((p, i) => new RtpPacket(new RtpHeader({ sequenceNumber: i, timestamp: 3000, marker: i === payloads.length - 1 }), p));

describe('vp8Payloads()', () => {
  test('a small frame is one payload: descriptor X=1 S=1 PID=0, I=1, 15-bit PictureID, then the frame', () => {
    expect([...vp8Payloads(Buffer.from([0x10, 0x02, 0x00]), 0x1234)[0]!]).toEqual([0x90, 0x80, 0x92, 0x34, 0x10, 0x02, 0x00]);
  });

  test('a large frame is cut into payloads of at most maxPayload bytes; only the first has S=1', () => {
    const frame = Buffer.alloc(25, 0xab);
    const payloads = vp8Payloads(frame, 5, 14);
    expect(payloads.map((p) => p.length)).toEqual([14, 14, 9]);
    expect(payloads.map((p) => p[0])).toEqual([0x90, 0x80, 0x80]);
    expect(Buffer.concat(payloads.map((p) => p.subarray(4)))).toEqual(frame);
  });

  test('werift reads the PictureID and gives the frame back', () => {
    const frame = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    const payloads = vp8Payloads(frame, 0).map((p) => setVp8PictureId(p, 32767 + 2));
    expect(Vp8RtpPayload.deSerialize(payloads[0]!).pictureId).toBe(1);
    expect(dePacketizeRtpPackets('VP8', packets(payloads)).data).toEqual(frame);
  });

  test('refuses an empty frame and a payload too small for the descriptor', () => {
    expect(() => vp8Payloads(Buffer.alloc(0), 0)).toThrow(RangeError);
    expect(() => vp8Payloads(Buffer.alloc(10), 0, 4)).toThrow(RangeError);
  });
});

describe('h264Payloads() (RFC 6184, packetization mode 1)', () => {
  const sps = Buffer.from([0x67, 0x42, 0xc0, 0x1f, 0xda]);
  const pps = Buffer.from([0x68, 0xce, 0x3c, 0x80]);
  const idr = (size: number): Buffer => Buffer.concat([Buffer.from([0x65]), Buffer.alloc(size - 1, 0x5a)]);

  test('small NAL units go together in one STAP-A: header with the highest NRI, then size and unit each', () => {
    const [stap] = h264Payloads([sps, pps]);
    expect([...stap!]).toEqual([0x78, 0, 5, ...sps, 0, 4, ...pps]);
  });

  test('a NAL unit alone in its packet goes as it is', () => {
    expect(h264Payloads([idr(20)], 20)).toEqual([idr(20)]);
  });

  test('a NAL unit larger than a packet becomes FU-A fragments: S on the first, E on the last, its type in each', () => {
    // 14 bytes hold the STAP-A of SPS and PPS exactly; the 30-byte IDR's 29 after its header go as 12 + 12 + 5.
    const payloads = h264Payloads([sps, pps, idr(30)], 14);
    expect(payloads[0]).toHaveLength(14);
    expect(payloads[0]![0]! & 0x1f).toBe(24);
    const fus = payloads.slice(1);
    expect(fus.map((p) => [p[0], p[1], p.length])).toEqual([[0x7c, 0x85, 14], [0x7c, 0x05, 14], [0x7c, 0x45, 7]]);
    expect(Buffer.concat(fus.map((p) => p.subarray(2)))).toEqual(idr(30).subarray(1));
  });

  test("werift's depacketizer gives the access unit back in Annex B", () => {
    const units = [sps, pps, idr(4000)];
    const { data, isKeyframe } = dePacketizeRtpPackets('MPEG4/ISO/AVC', packets(h264Payloads(units)));
    expect(data).toEqual(annexB(units));
    expect(isKeyframe).toBe(true);
  });
});
