import { describe, expect, it } from 'vitest';
import { RetransmissionPolicy } from '../../src/rtp/RetransmissionPolicy.ts';
import { retransmissionPolicyPatched } from '../../src/peers/weriftQuirks.ts';

/** 100 packets of 1000 bytes a second from t = 0 to `untilMs`, seq = ms / 10. */
function sending(policy: RetransmissionPolicy, untilMs: number): void {
  for (let t = 0; t < untilMs; t += 10) policy.sent(t / 10, 1000, t);
}

describe('RetransmissionPolicy', () => {
  it('sends a NACKed packet again at most twice, not twice within 100 ms', () => {
    const p = new RetransmissionPolicy();
    sending(p, 1000);
    expect(p.allow(95, 1000, 1000)).toBe(true);
    expect(p.allow(95, 1000, 1050)).toBe(false); // asked again within 100 ms
    expect(p.allow(95, 1000, 1100)).toBe(true);
    expect(p.allow(95, 1000, 1300)).toBe(false); // twice already
    expect(p.refused).toBe(2);
  });

  it('does not send what the receiver has given up on, nor what it never sent', () => {
    const p = new RetransmissionPolicy();
    sending(p, 3000);
    expect(p.allow(50, 1000, 2999)).toBe(false); // sent at 500 ms: 2.5 s old
    expect(p.allow(150, 1000, 2999)).toBe(true); // 1.5 s old
    expect(p.allow(40000, 1000, 2999)).toBe(false);
  });

  it('repairs a just-joined viewer\'s keyframe: a floor of 8 kB a second whatever little was sent', () => {
    const p = new RetransmissionPolicy();
    for (let seq = 0; seq < 10; seq++) p.sent(seq, 1000, 0); // a keyframe, 10 kB
    const allowed = Array.from({ length: 10 }, (_, seq) => p.allow(seq, 1000, 50)).filter(Boolean).length;
    expect(allowed).toBe(8);
  });

  it('keeps retransmissions within 30 % of the media sent over the last second', () => {
    const p = new RetransmissionPolicy();
    sending(p, 1000); // 100 kB in the last second
    const allowed = Array.from({ length: 60 }, (_, i) => p.allow(40 + i, 1000, 1000)).filter(Boolean).length;
    expect(allowed).toBe(30);
    // A second later the budget is back, for packets young enough.
    for (let t = 1000; t < 2000; t += 10) p.sent(t / 10, 1000, t);
    expect(p.allow(190, 1000, 2001)).toBe(true);
  });

  it('counts the budget over the last second only, however long it has been sending', () => {
    const p = new RetransmissionPolicy();
    sending(p, 60_000); // a minute: the window's store is compacted many times over
    const allowed = Array.from({ length: 60 }, (_, i) => p.allow(5950 + i, 1000, 60_000)).filter(Boolean).length;
    expect(allowed).toBe(30);
  });

  it('is consulted by the werift that runs (patches/werift+0.24.4.patch applied)', () => {
    expect(retransmissionPolicyPatched()).toBe(true);
  });
});
