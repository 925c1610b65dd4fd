import { describe, expect, test } from 'vitest';
import { TopSpeakers, type SlotChange } from '../../mixer/logic/TopSpeakers.ts';

const TALK = -21;
const QUIET = -120;
const TICK_MS = 20;

/** Runs `ticks` 20 ms ticks from `start` with the levels `at(tick)` gives; returns every change with its time. */
function run(top: TopSpeakers, start: number, ticks: number, at: (t: number) => Record<string, number>): { at: number; change: SlotChange }[] {
  const out: { at: number; change: SlotChange }[] = [];
  for (let t = 0; t < ticks; t++) {
    const now = start + t * TICK_MS;
    for (const change of top.process(new Map(Object.entries(at(t))), now)) out.push({ at: now, change });
  }
  return out;
}

describe('TopSpeakers', () => {
  test('a newcomer who talks takes a free slot within two ticks; silence takes none', () => {
    const top = new TopSpeakers({ slots: 3 });
    run(top, 0, 50, () => ({ a: QUIET, b: QUIET }));
    expect(top.slots).toEqual([undefined, undefined, undefined]);
    const changes = run(top, 1000, 5, () => ({ a: TALK, b: QUIET }));
    expect(changes).toEqual([{ at: 1020, change: { slot: 0, from: undefined, to: 'a' } }]);
    expect(top.isSpeaker('a')).toBe(true);
    expect(top.slotOf('b')).toBeUndefined();
  });

  test('at most `slots` speakers: a fourth voice as loud as the others stays out, however long it talks', () => {
    const top = new TopSpeakers({ slots: 3 });
    run(top, 0, 10, () => ({ a: TALK, b: TALK, c: TALK }));
    const changes = run(top, 200, 500, () => ({ a: TALK, b: TALK, c: TALK, d: TALK }));
    expect(changes).toEqual([]);
    expect(new Set(top.slots)).toEqual(new Set(['a', 'b', 'c']));
  });

  test('a voice 6 dB louder than the quietest speaker replaces it after the hold (600 ms), not before', () => {
    const top = new TopSpeakers({ slots: 2 });
    run(top, 0, 10, () => ({ a: TALK, b: -30 }));
    const changes = run(top, 200, 60, () => ({ a: TALK, b: -30, c: -20 }));
    expect(changes).toHaveLength(1);
    const { at, change } = changes[0]!;
    expect(change).toEqual({ slot: 1, from: 'b', to: 'c' });
    // c passes b + 6 dB within a couple of ticks; the swap comes 600 ms after that.
    expect(at).toBeGreaterThanOrEqual(200 + 600);
    expect(at).toBeLessThanOrEqual(200 + 600 + 3 * TICK_MS);
  });

  test('a speaker silent for 1.5 s gives its slot up; the next voice then takes it at once', () => {
    const top = new TopSpeakers({ slots: 1 });
    run(top, 0, 10, () => ({ a: TALK, b: QUIET }));
    const freed = run(top, 200, 100, () => ({ a: QUIET, b: QUIET }));
    expect(freed).toHaveLength(1);
    expect(freed[0]!.change).toEqual({ slot: 0, from: 'a', to: undefined });
    // Heard last at about 300 ms (the release takes its level under the floor), freed 1.5 s later.
    expect(freed[0]!.at).toBeGreaterThan(200 + 1500);
    expect(freed[0]!.at).toBeLessThan(200 + 1500 + 300);
    expect(run(top, 2200, 3, () => ({ a: QUIET, b: TALK })).map((c) => c.change)).toEqual([{ slot: 0, from: undefined, to: 'b' }]);
  });

  test('every slot held by someone who has gone quiet: a talker gets in after 100 ms, before the slot frees itself', () => {
    const top = new TopSpeakers({ slots: 1 });
    run(top, 0, 10, () => ({ a: TALK }));
    // a stops; 400 ms later b starts.
    run(top, 200, 20, () => ({ a: QUIET, b: QUIET }));
    const changes = run(top, 600, 20, () => ({ a: QUIET, b: TALK }));
    expect(changes.map((c) => c.change)).toEqual([{ slot: 0, from: 'a', to: 'b' }]);
    expect(changes[0]!.at).toBeLessThanOrEqual(600 + 100 + 3 * TICK_MS);
  });

  test('two voices trading places within 6 dB of each other do not flap the single slot', () => {
    const top = new TopSpeakers({ slots: 1 });
    const changes = run(top, 0, 500, (t) => (Math.floor(t / 15) % 2 ? { a: -24, b: -20 } : { a: -20, b: -24 }));
    expect(changes).toHaveLength(1);
  });

  test('remove() frees the slot of one who left and reports it; a non-speaker leaving changes nothing', () => {
    const top = new TopSpeakers({ slots: 2 });
    run(top, 0, 5, () => ({ a: TALK, b: QUIET }));
    expect(top.remove('b')).toBeUndefined();
    expect(top.remove('a')).toEqual({ slot: 0, from: 'a', to: undefined });
    expect(top.slots).toEqual([undefined, undefined]);
  });

  test('refuses no slots and bad timing', () => {
    expect(() => new TopSpeakers({ slots: 0 })).toThrow(RangeError);
    expect(() => new TopSpeakers({ attackMs: 0 })).toThrow(RangeError);
  });
});
