import { TypedEmitter } from '../../base/TypedEmitter.ts';
import type { SessionEvents, SessionLike } from '../../mixer/SessionTypes.ts';
import { describe, expect, it, test } from 'vitest';
import { originAllowed, type OriginPolicy } from '../../src/auth/origin.ts';
import { KeyedRateLimiter, TokenBucket } from '../../src/auth/rateLimit.ts';
import { LimitError } from '../../src/errors.ts';
import { Refusals } from '../../src/metrics/refusals.ts';
import { createMetrics } from '../../src/metrics/metrics.ts';
import { SessionSlots } from '../../src/rooms/SessionSlots.ts';

/** A clock the test moves. */
function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('TokenBucket', () => {
  it('lets a burst through, then one per 1/perSecond, never more than the burst after a pause', () => {
    const time = clock();
    const bucket = new TokenBucket({ burst: 3, perSecond: 2 }, time.now);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    time.advance(499);
    expect(bucket.take()).toBe(false);
    time.advance(1);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
    time.advance(60_000);
    expect(bucket.full).toBe(true);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
  });

  it('refuses nonsense limits', () => {
    expect(() => new TokenBucket({ burst: 0, perSecond: 1 })).toThrow(TypeError);
    expect(() => new TokenBucket({ burst: 1, perSecond: 0 })).toThrow(TypeError);
  });
});

describe('KeyedRateLimiter', () => {
  it('keeps one bucket per key', () => {
    const time = clock();
    const limiter = new KeyedRateLimiter({ burst: 2, perSecond: 1 }, { now: time.now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([true, true, false]);
    expect(limiter.take('b')).toBe(true);
  });

  it('never holds more keys than its bound: refilled buckets are forgotten first, then the oldest', () => {
    const time = clock();
    const limiter = new KeyedRateLimiter({ burst: 1, perSecond: 1 }, { now: time.now, maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) limiter.take(`10.0.${i >> 8}.${i & 255}`);
    expect(limiter.size).toBeLessThanOrEqual(100);
    // The last key is remembered as spent; its bucket refills with time.
    expect(limiter.take('10.0.39.15')).toBe(false);
    time.advance(1000);
    expect(limiter.take('10.0.39.15')).toBe(true);
  });
});

describe('originAllowed', () => {
  const lan: OriginPolicy = { allowed: ['https://app.example.com'], loopbackOnly: false };
  const dev: OriginPolicy = { allowed: [], loopbackOnly: true };
  test.each([
    ['no Origin (a bot, a script)', lan, undefined, 'mcu.example.com:8443', true, true],
    ['the page itself over TLS', lan, 'https://mcu.example.com:8443', 'mcu.example.com:8443', true, true],
    ['the page itself, but http while the server is https', lan, 'http://mcu.example.com:8443', 'mcu.example.com:8443', true, false],
    ['a configured origin', lan, 'https://app.example.com', 'mcu.example.com:8443', true, true],
    ['a configured origin with a trailing slash (not exact)', lan, 'https://app.example.com/', 'mcu.example.com:8443', true, false],
    ['another site', lan, 'https://evil.example', 'mcu.example.com:8443', true, false],
    ['another port of the same host', lan, 'https://mcu.example.com:9999', 'mcu.example.com:8443', true, false],
    ['an opaque origin', lan, 'null', 'mcu.example.com:8443', true, false],
    ['no Host', lan, 'https://mcu.example.com:8443', undefined, true, false],
    ['a loopback page of a loopback server', dev, 'http://127.0.0.1:8080', '127.0.0.1:8080', false, true],
    ['localhost of a loopback server', dev, 'http://localhost:8080', 'localhost:8080', false, true],
    ['[::1] of a loopback server', dev, 'http://[::1]:8080', '[::1]:8080', false, true],
    ['a rebound name on a loopback server', dev, 'http://evil.example:8080', 'evil.example:8080', false, false],
    ['a name that merely starts with 127.', dev, 'http://127.evil.example:8080', '127.evil.example:8080', false, false],
  ] as const)('%s: %s', (_what, policy, origin, host, tls, expected) => {
    expect(originAllowed(policy, origin, host, tls)).toBe(expected);
  });
});

describe('SessionSlots', () => {
  it('hands out its slots, refuses with session_limit when none is left, and takes each back once', () => {
    const slots = new SessionSlots(2);
    const a = slots.take();
    slots.take();
    expect(() => slots.take()).toThrow(LimitError);
    expect(() => slots.take()).toThrow(expect.objectContaining({ code: 'session_limit' }));
    a.release();
    a.release();
    expect(slots.used).toBe(1);
    expect(() => slots.take()).not.toThrow();
    expect(() => slots.take()).toThrow(LimitError);
  });

  it('refuses at once when no session is closing, and waits a moment for the slot of one that is', async () => {
    const slots = new SessionSlots(1);
    const session = new TypedEmitter<SessionEvents>() as TypedEmitter<SessionEvents> & { closed: boolean };
    session.closed = false;
    await slots.start(() => Promise.resolve(session as unknown as SessionLike));
    await expect(slots.available(1000)).rejects.toMatchObject({ code: 'session_limit' });
    slots.closing(session as unknown as SessionLike);
    setTimeout(() => session.safeEmit('@close'), 30);
    await expect(slots.available(1000)).resolves.toBeUndefined();
    expect(slots.used).toBe(0);
  });
});

describe('mcu_refusals_total', () => {
  it('is in /metrics with every code at 0 from the start, and counts by code and surface', async () => {
    const refusals = new Refusals();
    const metrics = createMetrics(async () => [], { processMetrics: false, refusals });
    const before = await metrics.render();
    expect(before).toContain('mcu_refusals_total{code="session_limit",via="socket"} 0');
    expect(before).toContain('mcu_refusals_total{code="forbidden",via="api"} 0');
    refusals.count('rate_limited', 'socket');
    refusals.count('rate_limited', 'socket');
    refusals.count('unauthorized', 'api');
    const after = await metrics.render();
    expect(after).toContain('mcu_refusals_total{code="rate_limited",via="socket"} 2');
    expect(after).toContain('mcu_refusals_total{code="unauthorized",via="api"} 1');
    // A counter, not a running sum of scrapes.
    expect(await metrics.render()).toContain('mcu_refusals_total{code="rate_limited",via="socket"} 2');
  });
});
