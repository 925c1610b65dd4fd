import { describe, expect, it } from 'vitest';
import { RateMeter } from '../../src/metrics/RateMeter.ts';

describe('RateMeter', () => {
  it('is 0 until two samples are apart in time', () => {
    const meter = new RateMeter(5000);
    expect(meter.rate()).toBe(0);
    meter.sample(1000, 10);
    expect(meter.rate()).toBe(0);
    meter.sample(1000, 20);
    expect(meter.rate()).toBe(0);
  });

  it('gives 30 per second for a count that grows by 30 every second', () => {
    const meter = new RateMeter(5000);
    for (let s = 0; s <= 10; s++) meter.sample(s * 1000, s * 30);
    expect(meter.rate()).toBeCloseTo(30, 6);
  });

  it('forgets what is older than its window: a stall shows within the window', () => {
    const meter = new RateMeter(5000);
    for (let s = 0; s <= 10; s++) meter.sample(s * 1000, s * 30);
    // No frames for 5 s.
    for (let s = 11; s <= 15; s++) meter.sample(s * 1000, 300);
    expect(meter.rate()).toBe(0);
    meter.sample(16_000, 330);
    expect(meter.rate()).toBeCloseTo(6, 6);
  });

  it('refuses a window that is not positive and samples that go back in time', () => {
    expect(() => new RateMeter(0)).toThrow(RangeError);
    const meter = new RateMeter();
    meter.sample(10, 1);
    expect(() => meter.sample(9, 2)).toThrow(RangeError);
  });
});
