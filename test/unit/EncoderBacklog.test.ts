import { describe, expect, it } from 'vitest';
import { EncoderBacklog } from '../../mixer/logic/EncoderBacklog.ts';

describe('EncoderBacklog', () => {
  it('writes while the encoder keeps up: one frame in, one packet out', () => {
    const backlog = new EncoderBacklog(3);
    for (let i = 0; i < 100; i++) {
      expect(backlog.offer()).toBe(true);
      backlog.encoded();
    }
    expect(backlog.dropped).toBe(0);
    expect(backlog.inFlight).toBe(0);
  });

  it('drops what comes while an encoder that is starting reads nothing, so it never sends a backlog', () => {
    const backlog = new EncoderBacklog(3);
    // 300 ms of start-up: 15 frames offered, no packet out.
    const written = Array.from({ length: 15 }, () => backlog.offer()).filter(Boolean).length;
    expect(written).toBe(3);
    expect(backlog.dropped).toBe(12);
    // It starts: the three frames come out, and the next ones are written again.
    for (let i = 0; i < 3; i++) backlog.encoded();
    expect(backlog.offer()).toBe(true);
    expect(backlog.inFlight).toBe(1);
  });

  it('bounds a stalled encoder at maxFrames and takes up again when it resumes', () => {
    const backlog = new EncoderBacklog(2);
    backlog.offer();
    backlog.encoded();
    let written = 0;
    for (let i = 0; i < 50; i++) if (backlog.offer()) written++;
    expect(written).toBe(2);
    expect(backlog.inFlight).toBe(2);
    backlog.encoded();
    expect(backlog.offer()).toBe(true);
  });

  it('does not count packets it never wrote (an encoder cannot be behind by less than nothing)', () => {
    const backlog = new EncoderBacklog(2);
    backlog.encoded();
    backlog.encoded();
    expect(backlog.inFlight).toBe(0);
    expect(backlog.offer()).toBe(true);
    expect(backlog.offer()).toBe(true);
    expect(backlog.offer()).toBe(false);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new EncoderBacklog(0)).toThrow(RangeError);
    expect(() => new EncoderBacklog(1.5)).toThrow(RangeError);
  });
});
