import { describe, expect, it } from 'vitest';
import type { StatsSample } from '../../scripts/bench/browserFigures.ts';
import { lossFigures } from '../../scripts/bench/lossFigures.ts';
import { dropsPacket, NO_LOSS, rtpPayloadType, turnPayload, type LossPattern } from '../../scripts/bench/lossModel.ts';

const N = 200_000;
const drops = (pattern: LossPattern): boolean[] => Array.from({ length: N }, (_, i) => dropsPacket(pattern, i));
const share = (d: boolean[]): number => d.filter(Boolean).length / d.length;
/** Lengths of the runs of dropped packets. */
function runs(d: boolean[]): number[] {
  const lengths: number[] = [];
  let run = 0;
  for (const dropped of [...d, false]) {
    if (dropped) run++;
    else if (run > 0) {
      lengths.push(run);
      run = 0;
    }
  }
  return lengths;
}

describe('the loss relay: which packets it drops', () => {
  it('drops nothing without loss', () => {
    expect(drops(NO_LOSS).some(Boolean)).toBe(false);
  });

  it('drops the share asked for, independently: mostly single packets, as many pairs as chance makes', () => {
    const d = drops({ percent: 5, burst: 1, seed: 1 });
    expect(share(d)).toBeGreaterThan(0.048);
    expect(share(d)).toBeLessThan(0.052);
    const lengths = runs(d);
    const singles = lengths.filter((l) => l === 1).length / lengths.length;
    expect(singles).toBeGreaterThan(0.93); // 1 - 0.05, give or take
    expect(singles).toBeLessThan(0.97);
  });

  it('in bursts: the same share, in runs of the burst length or a multiple of it', () => {
    const d = drops({ percent: 5, burst: 2, seed: 1 });
    expect(share(d)).toBeGreaterThan(0.047);
    expect(share(d)).toBeLessThan(0.053);
    const lengths = runs(d);
    expect(lengths.every((l) => l % 2 === 0)).toBe(true);
    expect(lengths.filter((l) => l === 2).length / lengths.length).toBeGreaterThan(0.93);
  });

  it('is the same for the same seed and another for another', () => {
    const a = drops({ percent: 5, burst: 1, seed: 7 });
    expect(drops({ percent: 5, burst: 1, seed: 7 })).toEqual(a);
    const b = drops({ percent: 5, burst: 1, seed: 8 });
    const both = a.filter((x, i) => x && b[i]).length / N;
    expect(both).toBeLessThan(0.005); // independent: about 0.25 %
  });
});

/** An RTP header (12 bytes) of payload type `pt`, then a payload. */
const rtp = (pt: number, marker = false): Buffer => Buffer.concat([Buffer.from([0x80, (marker ? 0x80 : 0) | pt, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]), Buffer.alloc(40, 0xab)]);

function channelData(channel: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(channel, 0);
  header.writeUInt16BE(payload.length, 2);
  // Over UDP, ChannelData is padded to 4 bytes.
  return Buffer.concat([header, payload, Buffer.alloc((4 - (payload.length % 4)) % 4)]);
}

function stun(type: number, attributes: { type: number; value: Buffer }[]): Buffer {
  const body = Buffer.concat(
    attributes.map(({ type: t, value }) => {
      const header = Buffer.alloc(4);
      header.writeUInt16BE(t, 0);
      header.writeUInt16BE(value.length, 2);
      return Buffer.concat([header, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
    }),
  );
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt16BE(body.length, 2);
  header.writeUInt32BE(0x2112a442, 4);
  return Buffer.concat([header, body]);
}

describe('the loss relay: what a TURN datagram carries', () => {
  it('takes the payload of ChannelData and the RTP payload type in it', () => {
    const packet = rtp(111, true);
    const payload = turnPayload(channelData(0x4001, packet));
    expect(payload).toEqual(packet);
    expect(rtpPayloadType(payload!)).toBe(111);
    // Chromium's channel numbers go up to 0x7FFE (RFC 5766's range), past RFC 8656's 0x4FFF.
    expect(rtpPayloadType(turnPayload(channelData(0x7ffe, rtp(96)))!)).toBe(96);
  });

  it('takes the DATA attribute of a Data indication, past the attributes before it', () => {
    const packet = rtp(111);
    const peerAddress = { type: 0x0012, value: Buffer.from([0, 1, 0x12, 0x34, 1, 2, 3, 4]) };
    const oddSized = { type: 0x8028, value: Buffer.from([1, 2, 3, 4, 5]) };
    expect(turnPayload(stun(0x0017, [peerAddress, oddSized, { type: 0x0013, value: packet }]))).toEqual(packet);
  });

  it("leaves out the TURN server's own messages, RTCP, DTLS and what is cut short", () => {
    expect(turnPayload(stun(0x0101, [{ type: 0x0020, value: Buffer.alloc(8) }]))).toBeUndefined(); // a Binding success response
    expect(turnPayload(stun(0x0017, [{ type: 0x0012, value: Buffer.alloc(8) }]))).toBeUndefined(); // no DATA
    expect(turnPayload(stun(0x0117, [{ type: 0x0013, value: rtp(111) }]))).toBeUndefined(); // the Data method's class bits say response, not indication
    expect(turnPayload(channelData(0x4001, rtp(111)).subarray(0, 20))).toBeUndefined();
    expect(turnPayload(Buffer.from([0x40]))).toBeUndefined();
    const rtcpSenderReport = Buffer.from([0x80, 200, 0, 6, ...Buffer.alloc(24)]);
    expect(rtpPayloadType(rtcpSenderReport)).toBeUndefined();
    expect(rtpPayloadType(Buffer.from([22, 0xfe, 0xfd, ...Buffer.alloc(20)]))).toBeUndefined(); // DTLS
    expect(rtpPayloadType(Buffer.from([0x80, 111, 0, 1]))).toBeUndefined();
  });
});

describe('the loss bench: figures of the mix at the browser', () => {
  const sample = (at: number, audio: NonNullable<StatsSample['in_audio']>): StatsSample => ({ at, connectionState: 'connected', in_audio: audio });
  const stats: StatsSample[] = [
    sample(500, { packetsReceived: 0, totalSamplesReceived: 0, jitter: 0.05 }), // before the window
    sample(1000, {
      packetsReceived: 100, packetsLost: 0, bytesReceived: 10_000, totalSamplesReceived: 96_000, concealedSamples: 1000, silentConcealedSamples: 200, concealmentEvents: 3,
      insertedSamplesForDeceleration: 10, removedSamplesForAcceleration: 20, jitterBufferDelay: 100, jitterBufferEmittedCount: 96_000, jitterBufferTargetDelay: 90, jitter: 0.002,
    }),
    sample(11_000, {
      packetsReceived: 575, packetsLost: 25, bytesReceived: 50_000, totalSamplesReceived: 576_000, concealedSamples: 25_000, silentConcealedSamples: 4200, concealmentEvents: 28,
      insertedSamplesForDeceleration: 1010, removedSamplesForAcceleration: 520, jitterBufferDelay: 100 + 28_800, jitterBufferEmittedCount: 576_000, jitterBufferTargetDelay: 90 + 24_000, jitter: 0.004,
    }),
  ];

  it('gives loss, concealment, time stretching, jitter and the jitter buffer between the window\'s first and last sample', () => {
    const f = lossFigures(stats, 1000, 11_000)!;
    expect(f.kbps).toBe(32); // 40,000 bytes in 10 s
    expect(f.packetsReceived).toBe(475);
    expect(f.packetsLost).toBe(25);
    expect(f.lostPercent).toBe(5);
    expect(f.concealedPercent).toBe(5); // 24,000 of 480,000
    expect(f.audibleConcealedPercent).toBe(4.17); // less 4,000 concealed as silence
    expect(f.concealmentEvents).toBe(25);
    expect(f.insertedSamplesForDeceleration).toBe(1000);
    expect(f.removedSamplesForAcceleration).toBe(500);
    expect(f.jitterMs).toEqual({ mean: 3, max: 4 });
    expect(f.jitterBufferMs).toBe(60); // 28,800 s over 480,000 samples
    expect(f.jitterBufferTargetMs).toBe(50);
    expect(f.fecPacketsReceived).toBeNull(); // not reported
  });

  it('gives nothing with fewer than two samples in the window', () => {
    expect(lossFigures(stats, 2000, 10_000)).toBeNull();
  });
});
