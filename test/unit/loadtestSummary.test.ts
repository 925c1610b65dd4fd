import { describe, expect, test } from 'vitest';
import { emptyReceiveCounts } from '../../src/bot/ReceiveCounter.ts';
import { receiverFigures, statusLine, windowFigures, type ReceiverWindow } from '../../src/loadtest/summary.ts';

const sent = { videoBytes: 0, audioBytes: 0 };

function window(over: Partial<ReceiverWindow> = {}): ReceiverWindow {
  return {
    name: 'p0',
    role: 'publisher',
    alive: true,
    start: { received: { ...emptyReceiveCounts(), videoFrames: 100, videoBytes: 1000, audioBytes: 100, videoSsrcChanges: 1 }, sent },
    end: {
      received: { ...emptyReceiveCounts(), videoFrames: 400, videoBytes: 1000 + 1_875_000, audioBytes: 100 + 40_000, keyframes: 5, videoSsrcChanges: 1, videoSeqJumps: 2 },
      sent: { ...sent, videoBytes: 1_000_000, audioBytes: 40_000 },
    },
    seconds: 10,
    secondFrames: [30, 30, 29, 31, 30, 30, 30, 30, 30, 30],
    longestGapMs: 66.4,
    ...over,
  };
}

describe('load test summary', () => {
  test('receiverFigures() counts only what happened inside the window', () => {
    expect(receiverFigures(window())).toEqual({
      name: 'p0',
      role: 'publisher',
      alive: true,
      fps: 30,
      lowestSecondFps: 29,
      longestGapMs: 66,
      downVideoKbps: 1500,
      downAudioKbps: 32,
      upKbps: 832,
      keyframes: 5,
      ssrcChanges: 0,
      seqJumps: 2,
    });
  });

  test('a viewer has no uplink, and a window shorter than a second no lowest second', () => {
    expect(receiverFigures(window({ role: 'viewer', secondFrames: [] }))).toMatchObject({ upKbps: null, lowestSecondFps: null });
  });

  test('windowFigures() takes the median and the worst receiver, and the mean downlink', () => {
    const a = receiverFigures(window());
    const b = { ...receiverFigures(window({ role: 'viewer' })), fps: 20, lowestSecondFps: 3, longestGapMs: 900, downVideoKbps: 1000 };
    expect(windowFigures([a, b], 10)).toEqual({
      seconds: 10,
      receivers: 2,
      fps: { median: 20, min: 20, lowestSecond: 3 },
      longestGapMs: { median: 66, max: 900 },
      downlinkKbps: { video: 1250, audio: 32, totalMin: 1032, totalMax: 1532 },
      uplinkKbpsPerPublisher: 832,
      ssrcChanges: 0,
      seqJumps: 4,
    });
  });

  test('statusLine() shows every figure on one line, "-" for what is not known yet', () => {
    const line = statusLine({
      phase: 'measuring',
      publishers: { connected: 3, requested: 4 },
      viewers: { connected: 0, requested: 0 },
      fps: [30, 29, 30],
      gapMs: 45.2,
      downKbps: 1534,
      latencyP50Ms: null,
      cpuCores: 0.314,
      lateMaxMs: 2,
      elapsedSeconds: 12.4,
    });
    expect(line).toBe('measuring 12 s | pub 3/4 view 0/0 | fps 30 (min 29) | gap 45 ms | down 1534 kbit/s | latency p50 - ms | cpu 0.31 | late 2 ms');
  });
});
