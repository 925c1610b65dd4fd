import { describe, expect, it } from 'vitest';
import { levelDb, SpeakerDetector } from '../../mixer/logic/SpeakerDetector.ts';

/** Feeds constant levels for `ms` in 20 ms steps from `start`; returns every change seen. */
function feed(d: SpeakerDetector, levels: Record<string, number>, start: number, ms: number): (string | null)[] {
  const changes: (string | null)[] = [];
  for (let t = start; t < start + ms; t += 20) {
    const change = d.process(new Map(Object.entries(levels)), t);
    if (change !== undefined) changes.push(change);
  }
  return changes;
}

describe('levelDb()', () => {
  it('is 0 dBFS for a full-scale square wave, about -6 for half scale, and the floor for silence', () => {
    expect(levelDb(Int16Array.from({ length: 960 }, (_, i) => (i % 2 ? 32767 : -32768)))).toBeCloseTo(0, 1);
    expect(levelDb(new Int16Array(960).fill(16384))).toBeCloseTo(-6.02, 1);
    expect(levelDb(new Int16Array(960))).toBe(-120);
    expect(levelDb(new Int16Array(0))).toBe(-120);
  });
});

describe('SpeakerDetector', () => {
  it('names the only loud participant after the hold time, once', () => {
    const d = new SpeakerDetector({ holdMs: 600, smoothingMs: 100 });
    expect(feed(d, { a: -20, b: -90 }, 0, 2000)).toEqual(['a']);
    expect(d.speaker).toBe('a');
  });

  it('does not switch for a challenger only slightly louder (hysteresis)', () => {
    const d = new SpeakerDetector({ holdMs: 300, marginDb: 6, smoothingMs: 50 });
    feed(d, { a: -20, b: -90 }, 0, 1000);
    expect(feed(d, { a: -20, b: -16 }, 1000, 3000)).toEqual([]);
    expect(d.speaker).toBe('a');
  });

  it('does not switch for a short burst shorter than the hold time', () => {
    const d = new SpeakerDetector({ holdMs: 600, smoothingMs: 20 });
    feed(d, { a: -20, b: -90 }, 0, 1000);
    expect(feed(d, { a: -40, b: -10 }, 1000, 300)).toEqual([]);
    expect(feed(d, { a: -20, b: -90 }, 1300, 1000)).toEqual([]);
    expect(d.speaker).toBe('a');
  });

  it('switches to a clearly louder participant who keeps talking', () => {
    const d = new SpeakerDetector({ holdMs: 600, smoothingMs: 50 });
    feed(d, { a: -20, b: -90 }, 0, 1000);
    expect(feed(d, { a: -60, b: -15 }, 1000, 2000)).toEqual(['b']);
  });

  it('does not flap when two talk alternately every 200 ms', () => {
    const d = new SpeakerDetector({ holdMs: 600, smoothingMs: 100 });
    feed(d, { a: -20, b: -90 }, 0, 1000);
    const changes: (string | null)[] = [];
    for (let i = 0; i < 20; i++) {
      const loud = i % 2 ? { a: -20, b: -80 } : { a: -80, b: -20 };
      changes.push(...feed(d, loud, 1000 + i * 200, 200));
    }
    expect(changes.length).toBeLessThanOrEqual(1);
  });

  it('ignores everyone below the floor', () => {
    const d = new SpeakerDetector({ floorDb: -50 });
    expect(feed(d, { a: -60, b: -70 }, 0, 3000)).toEqual([]);
    expect(d.speaker).toBeNull();
  });

  it('reports null when the speaker leaves', () => {
    const d = new SpeakerDetector({ holdMs: 100 });
    feed(d, { a: -20 }, 0, 1000);
    expect(d.remove('b')).toBeUndefined();
    expect(d.remove('a')).toBeNull();
    expect(d.speaker).toBeNull();
  });
});
