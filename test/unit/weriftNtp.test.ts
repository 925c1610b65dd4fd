import { ntpTime, ntpTimeFromEpochMs, ntpTimeToEpochMs } from 'werift';
import { describe, expect, it } from 'vitest';

// The NTP time werift puts into every sender report and abs-send-time (patches/werift+0.24.4.patch):
// 32 bits of seconds since 1900, then a binary fraction of a second (RFC 3550 §4). Chromium maps
// RTP to wall-clock time with it to put the composite and the mix in sync.
const bytes = (ntp: bigint): string => {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(ntp);
  return buf.toString('hex');
};

describe('werift NTP time (patched)', () => {
  it.each([
    // 1970-01-01 is 2,208,988,800 s after 1900-01-01 = 0x83aa7e80.
    [0, '83aa7e8000000000'],
    [500, '83aa7e8080000000'],
    [1500, '83aa7e8180000000'],
    [250, '83aa7e8040000000'],
    [750, '83aa7e80c0000000'],
    // 2026-12-06T00:00:00.125Z
    [Date.UTC(2026, 11, 6, 0, 0, 0, 125), `${(Date.UTC(2026, 11, 6) / 1000 + 2208988800).toString(16)}20000000`],
  ])('writes %s ms as the bytes %s', (ms, hex) => {
    expect(bytes(ntpTimeFromEpochMs(ms))).toBe(hex);
  });

  it('reads back what it writes, to the microsecond', () => {
    for (const ms of [0, 1, 123.456, 999, 1_765_000_000_123.5]) {
      expect(ntpTimeToEpochMs(ntpTimeFromEpochMs(ms))).toBeCloseTo(ms, 3);
    }
  });

  it('is the wall clock now, fraction included (the unpatched one was up to a second off)', () => {
    const before = Date.now();
    const now = ntpTimeToEpochMs(ntpTime());
    const after = Date.now();
    expect(now).toBeGreaterThanOrEqual(before - 2);
    expect(now).toBeLessThanOrEqual(after + 2);
  });
});
