import { describe, expect, it } from 'vitest';
import { SilenceGate } from '../../src/rtp/SilenceGate.ts';

const silence = { dBov: 127, voice: false };
const voice = { dBov: 25, voice: true };

/** Feeds `count` packets 20 ms apart from `from` ms; returns how many passed. */
function feed(gate: SilenceGate, level: typeof silence | undefined, from: number, count: number): number {
  let passed = 0;
  for (let i = 0; i < count; i++) if (gate.admit(level, from + i * 20)) passed++;
  return passed;
}

describe('SilenceGate', () => {
  it('passes sound, and silence for a second after it; then holds silence back', () => {
    const gate = new SilenceGate({ keepaliveEvery: 1000 });
    expect(feed(gate, voice, 0, 10)).toBe(10);
    // The last voice at 180 ms: silence passes up to 1180 ms.
    expect(feed(gate, silence, 200, 100)).toBe(50);
    expect(gate.closed).toBe(true);
    expect(gate.heldTotal).toBe(50);
    expect(gate.admit(voice, 2200)).toBe(true);
    expect(gate.closed).toBe(false);
  });

  it('takes a quiet sound (louder than -60 dBov) or the voice bit as sound, and a packet without a level too', () => {
    const gate = new SilenceGate({ keepaliveEvery: 1000 });
    feed(gate, silence, 0, 100);
    expect(gate.admit({ dBov: 70, voice: false }, 2000)).toBe(false);
    expect(gate.admit({ dBov: 60, voice: false }, 2020)).toBe(true);
    feed(gate, silence, 3100, 10);
    expect(gate.admit({ dBov: 127, voice: true }, 3400)).toBe(true);
    feed(gate, silence, 4500, 10);
    expect(gate.admit(undefined, 4800)).toBe(true);
  });

  it('lets one packet in a hundred through a long silence (FFmpeg ends its input after 10 s without one)', () => {
    const gate = new SilenceGate();
    const passed = feed(gate, silence, 0, 50 * 60); // a minute
    // The first second (0 to 1000 ms: 51 packets), then one in every hundred after it (one every 2 s).
    expect(passed).toBe(51 + Math.floor((3000 - 51) / 100));
  });

  it('renumbers what passes into one unbroken sequence, across the wrap', () => {
    const gate = new SilenceGate({ keepaliveEvery: 1000, hangoverMs: 0 });
    const out: number[] = [];
    let seq = 65_500;
    const send = (level: typeof silence, at: number): void => {
      if (gate.admit(level, at)) out.push(gate.seq(seq & 0xffff));
      seq++;
    };
    for (let i = 0; i < 300; i++) send(i % 3 === 0 ? voice : silence, i * 20);
    expect(out.length).toBe(100);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => (65_500 + i) & 0xffff));
  });
});
