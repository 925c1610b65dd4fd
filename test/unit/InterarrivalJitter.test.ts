import { describe, expect, it } from 'vitest';
import { InterarrivalJitter } from '../../src/rtp/InterarrivalJitter.ts';

describe('InterarrivalJitter (RFC 3550 §6.4.1)', () => {
  it('is zero for packets that come exactly at their timestamps pace, whatever the offset', () => {
    const j = new InterarrivalJitter(48000);
    for (let i = 0; i < 100; i++) j.push(1234 + i * 960, 5000 + i * 20);
    expect(j.ms).toBe(0);
  });

  it('approaches the mean deviation of packets that alternate 10 ms early and late', () => {
    const j = new InterarrivalJitter(48000);
    for (let i = 0; i < 500; i++) j.push(i * 960, i * 20 + (i % 2 ? 10 : -10));
    expect(j.ms).toBeCloseTo(20, 0);
  });

  it('counts a burst: a backlog sent at once', () => {
    const j = new InterarrivalJitter(48000);
    for (let i = 0; i < 50; i++) j.push(i * 960, i * 20);
    for (let i = 50; i < 60; i++) j.push(i * 960, 50 * 20);
    expect(j.ms).toBeGreaterThan(5);
  });
});
