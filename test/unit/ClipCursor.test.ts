import { describe, expect, test } from 'vitest';
import { ClipCursor, type ClipTimeline } from '../../src/loadtest/ClipCursor.ts';

/** A 1 s clip at 10 fps with 20 ms audio: small enough to follow by hand. */
const clip: ClipTimeline = Object.freeze({
  durationMs: 1000,
  videoPtsMs: Array.from({ length: 10 }, (_, k) => k * 100),
  audioFrames: 50,
  audioFrameMs: 20,
});

describe('ClipCursor', () => {
  test('gives nothing before its epoch, then the first video frame and audio frame together, video first', () => {
    const cursor = new ClipCursor(clip, 5000);
    expect(cursor.due(4999)).toEqual([]);
    expect(cursor.due(5000)).toEqual([
      { kind: 'video', index: 0, loop: 0, dueAt: 5000, rtpTicks: 0 },
      { kind: 'audio', index: 0, loop: 0, dueAt: 5000, rtpTicks: 0 },
    ]);
  });

  test('a late call gets everything due meanwhile, in time order, each item once', () => {
    const cursor = new ClipCursor(clip, 0);
    const items = cursor.due(105);
    expect(items.map((i) => `${i.kind[0]}${i.index}`)).toEqual(['v0', 'a0', 'a1', 'a2', 'a3', 'a4', 'v1', 'a5']);
    expect(cursor.due(105)).toEqual([]);
    expect(cursor.nextDueAt()).toBe(120);
  });

  test('loops: after the last frame comes frame 0 of the next loop, timestamps going on (90 kHz video, 48 kHz audio)', () => {
    const cursor = new ClipCursor(clip, 0);
    cursor.due(999);
    const next = cursor.due(1000);
    expect(next).toEqual([
      { kind: 'video', index: 0, loop: 1, dueAt: 1000, rtpTicks: 90_000 },
      { kind: 'audio', index: 0, loop: 1, dueAt: 1000, rtpTicks: 48_000 },
    ]);
    const later = cursor.due(2950).filter((i) => i.kind === 'video');
    expect(later.at(-1)).toMatchObject({ index: 9, loop: 2, dueAt: 2900, rtpTicks: 2900 * 90 });
  });

  test('capturedAt() puts a code in the loop that makes the latency small and not negative', () => {
    const cursor = new ClipCursor(clip, 10_000);
    // Code 900 (clip time), arriving at 12_950: captured at 12_900 (loop 2), 50 ms before.
    expect(cursor.capturedAt(900, 12_950)).toBe(12_900);
    // Code 900 arriving at 13_010: still loop 2 (110 ms), not loop 3 (in the future).
    expect(cursor.capturedAt(900, 13_010)).toBe(12_900);
    // A code a little ahead of the arrival (clocks read on two threads) within the slack: the same loop.
    expect(cursor.capturedAt(100, 11_080)).toBe(11_100);
  });

  test('refuses an empty clip and a frame outside it', () => {
    expect(() => new ClipCursor({ ...clip, videoPtsMs: [], audioFrames: 0 }, 0)).toThrow(RangeError);
    expect(() => new ClipCursor({ ...clip, videoPtsMs: [0, 1000] }, 0)).toThrow(RangeError);
  });
});
