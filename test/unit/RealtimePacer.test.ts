import { describe, expect, it } from 'vitest';
import { RealtimePacer } from '../../src/rtp/RealtimePacer.ts';

const FRAME = 960; // 20 ms of Opus at 48 kHz
const opusPacer = () => new RealtimePacer({ clockRate: 48000, frameTicks: FRAME, slackMs: 15, holdMs: 30, staleMs: 80, resetAfterMs: 200 });

describe('RealtimePacer', () => {
  it('sends a stream that comes at the pace of its timestamps, jitter included, with its timestamps', () => {
    const pacer = opusPacer();
    const jitter = [0, 4, -3, 9, -8, 2, 12, -12, 0, 5];
    for (let i = 0; i < 200; i++) {
      const at = 5000 + i * 20 + jitter[i % jitter.length]!;
      expect(pacer.admit(1000 + i * FRAME, at)).toEqual({ send: true, at, timestamp: 1000 + i * FRAME });
    }
    expect(pacer.dropped).toBe(0);
  });

  it('sends packets held up and then bunched by a busy sender (jitter, not a backlog)', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // Frames 10-13 held up 60 ms, then all at once; the next ones on time again.
    for (const i of [10, 11, 12, 13]) expect(pacer.admit(i * FRAME, 260).send).toBe(true);
    for (let i = 14; i < 30; i++) expect(pacer.admit(i * FRAME, i * 20)).toEqual({ send: true, at: i * 20, timestamp: i * FRAME });
    expect(pacer.dropped).toBe(0);
    expect(pacer.shifts).toBe(0);
  });

  it('drops the burst of an encoder that starts with a backlog, and keeps the pace of its newest packet', () => {
    const pacer = opusPacer();
    // 300 ms queued while the encoder started: 15 packets at once, then one every 20 ms.
    const decisions = Array.from({ length: 15 }, (_, i) => pacer.admit(i * FRAME, 1000 + i * 0.1));
    // The first is sent, the second held for its time, the rest dropped.
    expect(decisions.map((d) => d.send)).toEqual([true, true, ...Array<boolean>(13).fill(false)]);
    expect(decisions[1]!.at).toBe(1020);
    for (let i = 15; i < 100; i++) expect(pacer.admit(i * FRAME, 1001.4 + (i - 14) * 20).send).toBe(true);
    expect(pacer.early).toBe(13);
    expect(pacer.stale).toBe(0);
  });

  it('drops a backlog: packets that come at once, long after their time', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // Nothing for 200 ms, then the ten frames of it at once: the older ones are stale.
    const decisions = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => pacer.admit(i * FRAME, 400).send);
    const lateness = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19].map((i) => 400 - i * 20);
    // The first of the burst is sent (nothing came right before it); after it, all that are over 80 ms late are dropped.
    expect(decisions).toEqual(lateness.map((late, k) => k === 0 || late <= 80));
    expect(pacer.admit(20 * FRAME, 400).send).toBe(true);
  });

  it('moves the timestamps of a stream that lost time upstream on by what it lost, so that it keeps the wall clock', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // The session's clock skipped 100 ms: from frame 10 on, every frame comes 100 ms after its time, at the usual pace.
    const out = Array.from({ length: 40 }, (_, k) => pacer.admit((10 + k) * FRAME, 100 + (10 + k) * 20));
    expect(out.every((d) => d.send)).toBe(true);
    expect(pacer.shifts).toBe(1);
    // Once moved on, a frame's timestamp is where the wall clock says: 5 frames (100 ms) later.
    expect(out[out.length - 1]!.timestamp).toBe((49 + 5) * FRAME);
    // And it stays there.
    expect(pacer.admit(50 * FRAME, 100 + 50 * 20)).toEqual({ send: true, at: 1100, timestamp: 55 * FRAME });
  });

  it('holds a packet that comes a frame early until its time (an Opus encoder reading 1024 samples sends two at once now and then)', () => {
    const pacer = opusPacer();
    for (let i = 0; i < 10; i++) pacer.admit(i * FRAME, i * 20);
    // Frame 10 a little late, frame 11 with it.
    expect(pacer.admit(10 * FRAME, 205)).toEqual({ send: true, at: 205, timestamp: 10 * FRAME });
    expect(pacer.admit(11 * FRAME, 203)).toEqual({ send: true, at: 220, timestamp: 11 * FRAME });
    expect(pacer.held).toBe(1);
    expect(pacer.dropped).toBe(0);
  });

  it('handles timestamps across the 32-bit wrap', () => {
    const pacer = opusPacer();
    const start = 0xffffffff - 5 * FRAME;
    for (let i = 0; i < 20; i++) expect(pacer.admit((start + i * FRAME) % 0x100000000, i * 20).send).toBe(true);
  });
});
