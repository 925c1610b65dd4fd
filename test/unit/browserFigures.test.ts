import { describe, expect, it } from 'vitest';
import { browserFigures, jitterBufferMs, latencyGrowth, probeBoxes, type ProbeSummary } from '../../scripts/bench/browserFigures.ts';

const SOURCE = { width: 640, height: 360 };
const CANVAS = { width: 1280, height: 720 };

/** A probe that showed a frame every 33 ms from t=1000 for 10 s, each 120 ms after its code, and heard a beep every 2 s 150 ms late. */
function summary(): ProbeSummary {
  const shown = Array.from({ length: 300 }, (_, i) => 1000 + i * 33.3);
  return {
    id: 'p1',
    marks: { socketOpen: 0, answer: 150, ice_connected: 300, pc_connected: 400, firstFrame: 900 },
    shown,
    frames: shown.map((at) => ({ at, box: 0, ms: at - 120, latency: 120 })),
    beeps: [2000, 4000, 6000, 8000, 10000].map((beep) => ({ at: beep + 150, latency: 150 })),
    stats: [
      { at: 1000, connectionState: 'connected', in_audio: { jitterBufferDelay: 10_000, jitterBufferEmittedCount: 100_000, jitterBufferTargetDelay: 8000, concealedSamples: 100, totalSamplesReceived: 100_000 }, in_video: { framesDecoded: 0, jitterBufferDelay: 1, jitterBufferEmittedCount: 10, jitterBufferTargetDelay: 1, freezeCount: 1, totalFreezesDuration: 0.5 } },
      { at: 11000, connectionState: 'connected', in_audio: { jitterBufferDelay: 58_000, jitterBufferEmittedCount: 580_000, jitterBufferTargetDelay: 56_000, concealedSamples: 2500, totalSamplesReceived: 580_000 }, in_video: { framesDecoded: 300, jitterBufferDelay: 25, jitterBufferEmittedCount: 310, jitterBufferTargetDelay: 22, freezeCount: 1, totalFreezesDuration: 0.5 } },
    ],
    errors: [],
  };
}

describe('browser figures', () => {
  it('gives glass-to-glass, the mix latency, the A/V offset, jitter buffers, frame rate and join steps over a window', () => {
    const f = browserFigures(summary(), 1000, 11000);
    expect(f.glassToGlassMs).toMatchObject({ p50: 120, p95: 120, count: 300 });
    expect(f.audioLatencyMs?.p50).toBe(150);
    expect(f.avOffsetMs).toBe(30);
    expect(f.audioJitterBufferMs).toBe(100); // 48,000 s of delay summed over 480,000 samples
    expect(f.audioJitterTargetMs).toBe(100);
    expect(f.videoJitterTargetMs).toBeCloseTo(70, 0);
    expect(f.videoJitterBufferMs).toBe(80); // 24 s over 300 frames
    expect(f.fps).toBeCloseTo(30, 0);
    expect(f.decodedFps).toBe(30);
    expect(f.freezes).toBe(0);
    expect(f.longestGapMs).toBe(33);
    expect(f.join).toEqual({ firstFrameMs: 900, answerMs: 150, iceMs: 300, connectedMs: 400 });
    expect(f.concealedShare).toBe(0.005);
  });

  it('is null where nothing was measured, not zero', () => {
    const empty: ProbeSummary = { id: null, marks: {}, shown: [], frames: [], beeps: [], stats: [], errors: [] };
    const f = browserFigures(empty, 0, 1000);
    expect(f.glassToGlassMs).toBeNull();
    expect(f.avOffsetMs).toBeNull();
    expect(f.audioJitterBufferMs).toBeNull();
    expect(f.fps).toBeNull();
    expect(f.join.firstFrameMs).toBeNull();
    expect(jitterBufferMs({ jitterBufferDelay: 1, jitterBufferEmittedCount: 5 }, { jitterBufferDelay: 1, jitterBufferEmittedCount: 5 })).toBeNull();
  });

  it('sees latency that grows over a long window', () => {
    const s = summary();
    s.frames = s.frames.map((f, i) => ({ ...f, latency: 100 + i }));
    const growth = latencyGrowth(s, 1000, 11000, 2000);
    expect(growth.growthMs).toBeGreaterThan(200);
  });

  it('gives each tile box of the grids up to N tiles once, with the strip height scaled', () => {
    const boxes = probeBoxes(SOURCE, CANVAS, 4);
    // 1 tile: the whole canvas, its 32-pixel blocks twice as high; 2: side by side, half size.
    expect(boxes[0]).toEqual({ x: 0, y: 0, width: 1280, blockHeight: 64 });
    expect(boxes[1]).toMatchObject({ x: 0, width: 640, blockHeight: 32 });
    expect(boxes.length).toBeGreaterThanOrEqual(7);
    expect(new Set(boxes.map((b) => `${b.x},${b.y},${b.width}`)).size).toBe(boxes.length);
  });
});
