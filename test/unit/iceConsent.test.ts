import { consentResponseTimeoutMs } from 'werift';
import { describe, expect, it } from 'vitest';

// werift waited 500 ms (2 x RTT + 200 ms, on loopback) for each ICE consent response and dropped
// a later one; after 30 s without one on time the peer failed. A process starved for CPU reads
// its responses late: a bot's peer failed so in a fresh-clone run on two saturated cores, and at
// N=16 the load generator's. RFC 7675 asks only for a response within the 30 s.
describe('ICE consent freshness (patches/werift+0.24.4.patch)', () => {
  it('counts a consent response that comes up to 3 s late', () => {
    expect(consentResponseTimeoutMs(0.001)).toBe(3000);
    expect(consentResponseTimeoutMs(undefined)).toBe(3000);
    // A long round trip still waits longer (2 x RTT + 200 ms).
    expect(consentResponseTimeoutMs(2)).toBe(4200);
  });
});
