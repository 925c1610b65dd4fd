import { describe, expect, it } from 'vitest';
import { DecoderLag } from '../../src/media/incoming/DecoderLag.ts';

const lagOf = () => new DecoderLag({ maxFrames: 6, windowMs: 5000 });

describe('DecoderLag', () => {
  it('is not behind while the decoder keeps up, whatever the constant offset (frames sent before it listened)', () => {
    const lag = lagOf();
    for (let t = 0; t < 10_000; t += 100) expect(lag.report(40 + t / 33, t / 33 - 1, t)).toBe(false);
  });

  it('is behind once the decoder falls more than maxFrames behind its usual', () => {
    const lag = lagOf();
    let behindAt: number | undefined;
    // 30 fps in, 20 fps decoded from t=1000 on: 10 frames a second more in its queue.
    for (let t = 0; t < 3000 && behindAt === undefined; t += 100) {
      const decoded = t < 1000 ? t * 0.03 : 30 + (t - 1000) * 0.02;
      if (lag.report(Math.floor(t * 0.03) + 3, Math.floor(decoded), t)) behindAt = t;
    }
    expect(behindAt).toBeGreaterThan(1500);
    expect(behindAt).toBeLessThanOrEqual(1800);
  });

  it('ignores short jitter in the reports (a frame or two either way)', () => {
    const lag = lagOf();
    const jitter = [0, 2, -1, 3, 1, -2, 4];
    for (let t = 0; t < 5000; t += 100) expect(lag.report(t / 10, t / 10 - 2 + jitter[(t / 100) % jitter.length]!, t)).toBe(false);
  });

  it('forgets the old baseline: a lag that grew slowly for longer than the window is the new usual', () => {
    const lag = lagOf();
    lag.report(0, 0, 0);
    // One frame more behind every second: never more than 6 above the lowest of the last 5 s.
    for (let t = 1000; t <= 60_000; t += 1000) expect(lag.report(t / 1000, 0, t)).toBe(false);
  });

  it('starts afresh after a reset', () => {
    const lag = lagOf();
    lag.report(0, 0, 0);
    expect(lag.report(10, 0, 100)).toBe(true);
    lag.reset();
    expect(lag.report(10, 0, 200)).toBe(false);
  });
});
