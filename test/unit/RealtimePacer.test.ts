import { describe, expect, it } from 'vitest';
import { RealtimePacer } from '../../src/rtp/RealtimePacer.ts';

const FRAME = 960; // 20 ms of Opus at 48 kHz
const opusPacer = () => new RealtimePacer({ clockRate: 48000, slackMs: 15, staleMs: 100, resetAfterMs: 500 });

describe('RealtimePacer', () => {
  it('sends a stream that comes at the pace of its timestamps, jitter included', () => {
    const pacer = opusPacer();
    const jitter = [0, 4, -3, 9, -8, 2, 12, -12, 0, 5];
    for (let i = 0; i < 200; i++) expect(pacer.admit(1000 + i * FRAME, 5000 + i * 20 + jitter[i % jitter.length]!)).toBe('send');
    expect(pacer.dropped).toBe(0);
  });

  it('sends packets held up and then bunched by a busy sender (jitter, not a backlog)', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // Frames 10-13 held up 60 ms, then all at once; the next ones on time again.
    for (const i of [10, 11, 12, 13]) expect(pacer.admit(i * FRAME, 260)).toBe('send');
    for (let i = 14; i < 30; i++) expect(pacer.admit(i * FRAME, i * 20)).toBe('send');
    expect(pacer.dropped).toBe(0);
  });

  it('drops the burst of an encoder that starts with a backlog, and keeps the pace of its newest packet', () => {
    const pacer = opusPacer();
    // 300 ms queued while the encoder started: 15 packets at once, then one every 20 ms.
    const decisions = Array.from({ length: 15 }, (_, i) => pacer.admit(i * FRAME, 1000 + i * 0.1));
    expect(decisions[0]).toBe('send');
    expect(decisions.slice(1).every((d) => d === 'drop')).toBe(true);
    for (let i = 15; i < 100; i++) expect(pacer.admit(i * FRAME, 1001.4 + (i - 14) * 20)).toBe('send');
    expect(pacer.early).toBe(14);
    expect(pacer.stale).toBe(0);
  });

  it('drops packets that come more than the stale limit after their time', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // 250 ms of frames held up, then sent at once: the older ones are stale.
    const decisions = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22].map((i) => pacer.admit(i * FRAME, 450));
    expect(decisions.filter((d) => d === 'drop').length).toBe(decisions.filter((_, k) => 450 - (10 + k) * 20 > 100).length);
    expect(pacer.admit(23 * FRAME, 460)).toBe('send');
  });

  it('takes a stream that stays late as its new pace instead of dropping it for ever', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // From frame 10 on, every frame is 150 ms late: dropped as stale for half a second, then sent.
    const decisions = Array.from({ length: 60 }, (_, k) => pacer.admit((10 + k) * FRAME, 150 + (10 + k) * 20));
    const firstSent = decisions.indexOf('send');
    expect(firstSent).toBeGreaterThan(0);
    expect(firstSent * 20).toBeLessThanOrEqual(520);
    expect(decisions.slice(firstSent).every((d) => d === 'send')).toBe(true);
  });

  it('handles timestamps across the 32-bit wrap', () => {
    const pacer = opusPacer();
    const start = 0xffffffff - 5 * FRAME;
    for (let i = 0; i < 20; i++) expect(pacer.admit((start + i * FRAME) % 0x100000000, i * 20)).toBe('send');
  });
});
