import { describe, expect, it } from 'vitest';
import { KeyframeLimiter } from '../../mixer/logic/KeyframeLimiter.ts';

describe('KeyframeLimiter', () => {
  it('serves the first request at once', () => {
    expect(new KeyframeLimiter(1000).request(5000, false)).toEqual({ make: 'now' });
  });

  it('makes a request within the interval wait for its end, and folds later ones into it', () => {
    const limiter = new KeyframeLimiter(1000);
    limiter.request(0, false);
    expect(limiter.request(300, false)).toEqual({ make: 'later', waitMs: 700 });
    expect(limiter.request(400, false)).toEqual({ make: 'no', why: 'waiting' });
    expect(limiter.due(1000, false)).toBe(true);
    // The one made at 1000 starts a new interval.
    expect(limiter.request(1500, false)).toEqual({ make: 'later', waitMs: 500 });
  });

  it('turns a burst of requests (one every 50 ms for 3 s) into at most one keyframe a second', () => {
    const limiter = new KeyframeLimiter(1000);
    const made: number[] = [];
    let dueAt: number | undefined;
    for (let now = 0; now <= 3000; now += 50) {
      if (dueAt !== undefined && now >= dueAt) {
        if (limiter.due(now, false)) made.push(now);
        dueAt = undefined;
      }
      const decision = limiter.request(now, false);
      if (decision.make === 'now') made.push(now);
      if (decision.make === 'later') dueAt = now + decision.waitMs;
    }
    expect(made).toEqual([0, 1000, 2000, 3000]);
  });

  it('makes none while a keyframe is coming anyway, and does not count that as one made', () => {
    const limiter = new KeyframeLimiter(1000);
    expect(limiter.request(0, true)).toEqual({ make: 'no', why: 'coming' });
    expect(limiter.request(10, false)).toEqual({ make: 'now' });
  });

  it('drops a waiting request when a keyframe came meanwhile, and serves the next at once after the interval', () => {
    const limiter = new KeyframeLimiter(1000);
    limiter.request(0, false);
    expect(limiter.request(200, false).make).toBe('later');
    expect(limiter.due(1000, true)).toBe(false);
    expect(limiter.request(1100, false)).toEqual({ make: 'now' });
  });

  it('drops a waiting request that a keyframe sent after it answered, but not one that a keyframe sent before it', () => {
    const limiter = new KeyframeLimiter(1000);
    limiter.request(0, false);
    limiter.sent(150);
    expect(limiter.request(200, false).make).toBe('later');
    expect(limiter.due(1000, false)).toBe(true);
    expect(limiter.request(1300, false).make).toBe('later');
    limiter.sent(1500);
    expect(limiter.due(2000, false)).toBe(false);
  });

  it('serves a request at once right after a keyframe sent for another reason (it may have been missed)', () => {
    const limiter = new KeyframeLimiter(1000);
    limiter.sent(100);
    expect(limiter.request(120, false)).toEqual({ make: 'now' });
  });

  it('gives the time a waiting request is due at, serves it then, and counts the keyframes made', () => {
    const limiter = new KeyframeLimiter(1000);
    expect(limiter.nextDeadline()).toBeUndefined();
    limiter.request(0, false);
    limiter.request(250, false);
    expect(limiter.nextDeadline()).toBe(1000);
    expect(limiter.atDeadline(999, false)).toBe(false);
    expect(limiter.nextDeadline()).toBe(1000);
    expect(limiter.atDeadline(1002, false)).toBe(true);
    expect(limiter.nextDeadline()).toBeUndefined();
    expect(limiter.atDeadline(1500, false)).toBe(false);
    expect(limiter.made).toBe(2);
    // One waiting while a new compositor comes anyway is dropped, and not counted.
    limiter.request(1200, false);
    expect(limiter.atDeadline(2002, true)).toBe(false);
    expect(limiter.made).toBe(2);
  });

  it('refuses a negative interval', () => {
    expect(() => new KeyframeLimiter(-1)).toThrow(RangeError);
  });
});
