import { describe, expect, it } from 'vitest';
import { AudioAligner } from '../../src/recording/AudioAligner.ts';

const FRAME = 960; // 20 ms at 48 kHz

describe('AudioAligner', () => {
  it('passes a mix that arrives in real time untouched', () => {
    const aligner = new AudioAligner(1000);
    const out = [0, 1, 2, 3, 4].map((i) => aligner.map(5000 + i * FRAME, 1000 + i * 20 + (i % 2) * 15));
    expect(out).toEqual([5000, 5960, 6920, 7880, 8840]);
    expect(aligner.dropped).toBe(0);
  });

  it('leaves out a startup burst beyond the slack and keeps the timestamps continuous after it', () => {
    const aligner = new AudioAligner(0, 100);
    // 0.4 s of queued audio (20 packets) arrives within 10 ms, then real time from 20 ms on.
    const burst = Array.from({ length: 20 }, (_, i) => aligner.map(i * FRAME, i * 0.5));
    const kept = burst.filter((t) => t !== undefined);
    expect(kept).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * FRAME)); // up to 100 ms ahead
    expect(aligner.dropped).toBe(14);
    // The next packets follow on from the last one kept, and stay within the slack of real time.
    expect(aligner.map(20 * FRAME, 20)).toBe(6 * FRAME);
    expect(aligner.map(21 * FRAME, 40)).toBe(7 * FRAME);
  });

  it('never holds back audio that is late (a stalled mixer catching up stays in)', () => {
    const aligner = new AudioAligner(0, 100);
    aligner.map(0, 0);
    // Nothing for 300 ms, then 15 packets at once: still behind the wall clock, all kept.
    const out = Array.from({ length: 15 }, (_, i) => aligner.map((i + 1) * FRAME, 300));
    expect(out.every((t) => t !== undefined)).toBe(true);
  });

  it('handles the 32-bit timestamp wrap', () => {
    const aligner = new AudioAligner(0);
    const start = 0xffff_ffff - FRAME + 1;
    expect(aligner.map(start, 0)).toBe(start);
    expect(aligner.map(0, 20)).toBe(0);
  });
});
