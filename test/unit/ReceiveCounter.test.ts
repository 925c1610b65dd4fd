import { describe, expect, test } from 'vitest';
import { ReceiveCounter, type VideoPacket } from '../../src/bot/ReceiveCounter.ts';

const packet = (over: Partial<VideoPacket>): VideoPacket => ({ ssrc: 1, sequenceNumber: 100, timestamp: 0, payloadBytes: 1000, keyframe: false, ...over });

describe('ReceiveCounter', () => {
  test('a new RTP timestamp is a new frame; the gap between frames is their arrival difference', () => {
    const c = new ReceiveCounter();
    expect(c.video(packet({ sequenceNumber: 1, timestamp: 3000 }), 1000)).toEqual({ newFrame: true, gapMs: undefined });
    expect(c.video(packet({ sequenceNumber: 2, timestamp: 3000 }), 1005)).toEqual({ newFrame: false, gapMs: undefined });
    expect(c.video(packet({ sequenceNumber: 3, timestamp: 6000 }), 1040)).toEqual({ newFrame: true, gapMs: 40 });
    c.video(packet({ sequenceNumber: 4, timestamp: 9000 }), 1070);
    expect(c.counts).toMatchObject({ videoFrames: 3, maxGapMs: 40, videoBytes: 4000 });
    expect(c.lastFrameAt).toBe(1070);
  });

  test('a keyframe split over packets (or H.264 SPS then IDR) counts once per timestamp', () => {
    const c = new ReceiveCounter();
    c.video(packet({ sequenceNumber: 1, timestamp: 10, keyframe: true }), 0);
    c.video(packet({ sequenceNumber: 2, timestamp: 10, keyframe: true }), 0);
    c.video(packet({ sequenceNumber: 3, timestamp: 20, keyframe: true }), 33);
    expect(c.counts.keyframes).toBe(2);
  });

  test('counts SSRC changes and sequence jumps (more than 100), not small losses, across the 65535 wrap', () => {
    const c = new ReceiveCounter();
    for (const [seq, ssrc] of [[65534, 1], [65535, 1], [3, 1], [500, 1], [501, 2]] as const) c.video(packet({ sequenceNumber: seq, ssrc, timestamp: seq }), seq);
    expect(c.counts).toMatchObject({ videoSsrcChanges: 1, videoSeqJumps: 1 });
  });

  test('audio counts packets and payload bytes', () => {
    const c = new ReceiveCounter();
    c.audio(80);
    c.audio(90);
    expect(c.counts).toMatchObject({ audioPackets: 2, audioBytes: 170, videoFrames: 0 });
  });
});
