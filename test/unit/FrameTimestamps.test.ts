import { describe, expect, it } from 'vitest';
import { FrameTimestamps } from '../../src/recording/FrameTimestamps.ts';

describe('FrameTimestamps', () => {
  it('keeps timestamps that are already at least 1 ms apart, and gives packets of one frame the same one', () => {
    const ts = new FrameTimestamps();
    expect([1000, 1000, 4000, 4000, 4000, 7000].map((t) => ts.map(t))).toEqual([1000, 1000, 4000, 4000, 4000, 7000]);
    expect(ts.moved).toBe(0);
  });

  it('spreads a burst of frames to 1 ms (90 ticks) apart, then goes back to the stream’s own timestamps', () => {
    const ts = new FrameTimestamps();
    // A new compositor's backlog: five frames within 2 ms, then 33 ms spacing again.
    const out = [9000, 9001, 9001, 9050, 9100, 9180, 12_000, 15_000].map((t) => ts.map(t));
    expect(out).toEqual([9000, 9090, 9090, 9180, 9270, 9360, 12_000, 15_000]);
    expect(ts.moved).toBe(4);
  });

  it('handles the 32-bit wrap (RFC 3550 §5.1)', () => {
    const ts = new FrameTimestamps();
    expect(ts.map(0xffff_ffd0)).toBe(0xffff_ffd0);
    expect(ts.map(0xffff_ffe0)).toBe((0xffff_ffd0 + 90) % 0x1_0000_0000);
    expect(ts.map(3000)).toBe(3000);
  });

  it('keeps an MP4’s frames a whole frame period apart (3000 ticks at 30 fps), then lets the stream catch up', () => {
    const ts = new FrameTimestamps(3000);
    const out = [0, 100, 200, 300, 9000, 12_000].map((t) => ts.map(t));
    expect(out).toEqual([0, 3000, 6000, 9000, 12_000, 15_000]);
    expect(ts.map(21_000)).toBe(21_000);
    expect(() => new FrameTimestamps(0)).toThrow(RangeError);
  });

  it('never moves a frame backwards when the input steps back (a new source before the switcher caught up)', () => {
    const ts = new FrameTimestamps();
    ts.map(50_000);
    expect(ts.map(40_000)).toBe(50_090);
    expect(ts.map(60_000)).toBe(60_000);
  });
});
