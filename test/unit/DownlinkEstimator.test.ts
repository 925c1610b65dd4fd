import { describe, expect, it } from 'vitest';
import { DownlinkEstimator } from '../../src/ladder/DownlinkEstimator.ts';

/** Sends `bps` for `ms` in 20 ms packets, from `from`. */
function send(estimator: DownlinkEstimator, from: number, ms: number, bps: number): number {
  for (let t = from; t < from + ms; t += 20) estimator.sent(t, (bps / 8) * 0.02);
  return from + ms;
}

/** Sends 1.5 Mb/s for a second under a REMB of `first`, then 200 ms more and a REMB of `then`; returns the time then. */
function rembFall(estimator: DownlinkEstimator, first: number, then: number): number {
  let now = send(estimator, 0, 1000, 1_500_000);
  estimator.remb(now, first);
  now = send(estimator, now, 200, 1_500_000);
  estimator.remb(now, then);
  return now;
}

describe('DownlinkEstimator', () => {
  it('says nothing of the link before the browser does, and measures what is sent', () => {
    const e = new DownlinkEstimator();
    const now = send(e, 0, 2000, 1_500_000);
    const estimate = e.estimate(now);
    expect(estimate.remb).toBeUndefined();
    expect(estimate.capacityBps).toBeUndefined();
    expect(estimate.congested).toBe(false);
    expect(estimate.sendingBps).toBeGreaterThan(1_400_000);
    expect(estimate.sendingBps).toBeLessThan(1_600_000);
  });

  it('does not take a low REMB that climbs (after a join) for a weak link', () => {
    const e = new DownlinkEstimator();
    let now = 0;
    for (let remb = 300_000; remb < 1_500_000; remb *= 1.016) {
      now = send(e, now, 200, 1_500_000);
      e.remb(now, remb);
      expect(e.estimate(now).congested).toBe(false);
    }
  });

  it('takes a REMB that falls as the capacity of the link: what arrived, before Chromium backed off', () => {
    const e = new DownlinkEstimator();
    const now = rembFall(e, 1_200_000, 255_000);
    const estimate = e.estimate(now);
    expect(estimate.capacityBps).toBeCloseTo(300_000, -3);
    expect(estimate.congested).toBe(true);
    expect(estimate.headroom).toBe(false);
    // Forgotten a second later, and at once after a switch.
    expect(e.estimate(now + 1500).capacityBps).toBeUndefined();
    e.forgetCongestion(now);
    expect(e.estimate(now).congested).toBe(false);
  });

  it('does not call a small fall at the rate it sends congestion (jitter on a loaded machine)', () => {
    const e = new DownlinkEstimator();
    const now = rembFall(e, 2_000_000, 0.85 * 1_500_000);
    expect(e.estimate(now).congested).toBe(false);
  });

  it('cuts the capacity to what gets through when receiver reports show more than 10 % loss', () => {
    const e = new DownlinkEstimator();
    let now = send(e, 0, 1000, 1_000_000);
    e.remb(now, 1_400_000);
    e.receiverReport(now - 1500, 0); // the first: of the join too, not counted
    e.receiverReport(now - 1000, 64); // 25 %
    // One report alone may be a burst the queue dropped: not yet.
    expect(e.estimate(now - 1000).congested).toBe(false);
    e.receiverReport(now, 64);
    let estimate = e.estimate(now);
    expect(estimate.loss).toBeCloseTo(0.25, 2);
    // 75 % of the 0.95-1 Mbit/s measured over the last second.
    expect(estimate.capacityBps).toBeGreaterThan(700_000);
    expect(estimate.capacityBps).toBeLessThanOrEqual(750_000);
    expect(estimate.congested).toBe(true);
    now = send(e, now, 2500, 1_000_000);
    e.receiverReport(now, 5); // 2 %: the burst is over, and older reports are forgotten
    estimate = e.estimate(now);
    expect(estimate.congested).toBe(false);
    expect(estimate.capacityBps).toBeUndefined();
  });

  it('sees headroom in a REMB at its ceiling with no loss, and none in a stale one', () => {
    const e = new DownlinkEstimator();
    let now = send(e, 0, 1000, 200_000);
    e.remb(now, 300_000);
    e.receiverReport(now - 1000, 0);
    e.receiverReport(now, 0);
    expect(e.estimate(now).headroom).toBe(true);
    e.receiverReport(now, 13); // 5 %
    expect(e.estimate(now).headroom).toBe(false);
    now = send(e, now, 6000, 200_000);
    expect(e.estimate(now)).toMatchObject({ remb: undefined, headroom: false });
  });

  it('does not count a receiver report that spans a switch: its loss was of the old rate', () => {
    const e = new DownlinkEstimator();
    e.receiverReport(0, 0);
    e.forgetCongestion(500);
    e.receiverReport(1000, 128);
    expect(e.estimate(1000).loss).toBe(0);
    e.receiverReport(2000, 128);
    expect(e.estimate(2000).loss).toBe(0.5);
  });

  it('ignores nonsense from the wire', () => {
    const e = new DownlinkEstimator();
    e.remb(0, Number.NaN);
    e.remb(0, -5);
    e.receiverReport(0, 0);
    e.receiverReport(1, 9999);
    expect(e.estimate(1)).toMatchObject({ remb: undefined, loss: 255 / 256 });
  });
  it('reads a client that sends no REMB (a bot, a werift peer) from its receiver reports: headroom after two clean ones', () => {
    const e = new DownlinkEstimator();
    let now = send(e, 0, 1500, 500_000);
    e.receiverReport(now, 0); // the first speaks of the join
    now = send(e, now, 1000, 500_000);
    e.receiverReport(now, 0);
    expect(e.estimate(now).headroom).toBe(false);
    now = send(e, now, 1000, 500_000);
    e.receiverReport(now, 0);
    expect(e.estimate(now).headroom).toBe(true);
    now = send(e, now, 1000, 500_000);
    e.receiverReport(now, 40); // 16 %
    expect(e.estimate(now).headroom).toBe(false);
  });

  it('once a browser has sent REMB, clean reports are headroom only while its REMB climbs, not while it stays low', () => {
    const e = new DownlinkEstimator();
    let now = send(e, 0, 1000, 500_000);
    e.remb(now, 600_000);
    e.remb(now, 300_000); // a fall: the link queued
    // Low and flat (Chromium still sees queues: a weak link, a starved machine): no headroom.
    for (let i = 0; i < 4; i++) {
      now = send(e, now, 1000, 500_000);
      e.receiverReport(now, 0);
      e.remb(now, 300_000);
      expect(e.estimate(now).headroom, `flat, ${now} ms`).toBe(false);
    }
    // Climbing 8 % a second (nothing holds the stream back): headroom once it has climbed 15 % in 3 s.
    let remb = 300_000;
    const climb: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      now = send(e, now, 1000, 500_000);
      e.receiverReport(now, 0);
      remb *= 1.08;
      e.remb(now, remb);
      climb.push(e.estimate(now).headroom);
    }
    expect(climb).toEqual([false, true, true, true]);
    e.remb(now, remb * 0.8);
    expect(e.estimate(now).headroom).toBe(false);
  });
});
