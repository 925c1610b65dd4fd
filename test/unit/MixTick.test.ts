import { describe, expect, it } from 'vitest';
import { FrameClock, type ClockTimers } from '../../mixer/logic/FrameClock.ts';
import { MixTick, SHARED, slotSource } from '../../mixer/logic/MixTick.ts';

const LOUD = -20;
const QUIET = -120;
const levels = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe('MixTick', () => {
  it('numbers ticks by the ones run, and mixes nobody while nobody speaks', () => {
    const t = new MixTick();
    t.addListener('a');
    const first = t.next(levels({ a: QUIET }), 0);
    const second = t.next(levels({ a: QUIET }), 20);
    expect([first.tick, second.tick]).toEqual([0, 1]);
    expect(second.routes).toEqual([]);
    expect([...second.voices]).toEqual([]);
    expect(second.ownMixes).toEqual([]);
  });

  it('moves a listener who speaks to its slot from that tick on, with its own mix; a viewer-only voice gets none', () => {
    const t = new MixTick({ slots: 2 });
    t.addListener('a');
    t.addListener('b');
    // Levels are smoothed (a fast attack): a voice counts from its second tick.
    expect(t.next(levels({ a: LOUD, b: QUIET, bot: LOUD }), 0).routes).toEqual([]);
    const plan = t.next(levels({ a: LOUD, b: QUIET, bot: LOUD }), 20);
    expect(plan.tick).toBe(1);
    expect(plan.routes).toEqual([
      { id: 'a', source: slotSource(0), fromTick: 1 },
      { id: 'bot', source: slotSource(1), fromTick: 1 },
    ]);
    expect([...plan.voices].sort()).toEqual(['a', 'bot']);
    // `bot` publishes audio but hears no mix (no listener): no mix is made for it.
    expect(plan.ownMixes).toEqual(['a']);
    expect(plan.slots).toEqual(['a', 'bot']);
  });

  it('sends a speaker who goes quiet back to the shared mix once its slot idles out', () => {
    const t = new MixTick({ slots: 1, idleMs: 1500 });
    t.addListener('a');
    t.next(levels({ a: LOUD }), 0);
    expect(t.next(levels({ a: LOUD }), 20).routes).toEqual([{ id: 'a', source: slotSource(0), fromTick: 1 }]);
    let now = 20;
    let plan = t.next(levels({ a: QUIET }), (now += 20));
    while (plan.routes.length === 0 && now < 5000) plan = t.next(levels({ a: QUIET }), (now += 20));
    // Its voice leaves the shared mix at this tick; it hears that mix from the next one (the encoder's lookahead).
    expect(plan.routes).toEqual([{ id: 'a', source: SHARED, fromTick: plan.tick + 1 }]);
    expect([...plan.voices]).toEqual([]);
    expect(now).toBeGreaterThanOrEqual(1500);
    expect(now).toBeLessThan(2000);
  });

  it('forgets a speaker who leaves and wants a slot encoder per listener up to the slot count', () => {
    const t = new MixTick({ slots: 2 });
    expect(t.slotsWanted).toBe(0);
    expect(t.addListener('a')).toBe(true);
    expect(t.addListener('a')).toBe(false);
    t.addListener('b');
    t.addListener('c');
    expect(t.slotsWanted).toBe(2);
    t.next(levels({ a: LOUD }), 0);
    t.next(levels({ a: LOUD }), 20);
    expect(t.speakers).toEqual(['a', undefined]);
    t.remove('a');
    expect(t.speakers).toEqual([undefined, undefined]);
    expect(t.next(levels({}), 40).ownMixes).toEqual([]);
  });

  it('after a late timer, catches up five ticks back to back, drops the rest, and numbers the frames without a gap', () => {
    // Injected time: one timer pending at a time, fired by hand.
    let now = 0;
    let pending: (() => void) | undefined;
    let dueAt = 0;
    const timers: ClockTimers = {
      now: () => now,
      setTimeout: (fn, ms) => {
        pending = fn;
        dueAt = now + ms;
        return 1;
      },
      clearTimeout: () => (pending = undefined),
    };
    const t = new MixTick();
    const ticks: number[] = [];
    const clock = new FrameClock(20, () => ticks.push(t.next(levels({}), now).tick), { maxBurst: 5, timers });
    clock.start();
    for (let i = 0; i < 3; i++) {
      now = dueAt;
      pending!();
    }
    expect(ticks).toEqual([0, 1, 2, 3]);
    // The event loop was held up for 200 ms: ten ticks were due by then.
    now = dueAt + 200;
    pending!();
    expect(ticks).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(clock.skipped).toBe(6);
    // On time again: one tick per timer.
    now = dueAt;
    pending!();
    expect(ticks.at(-1)).toBe(9);
    clock.stop();
  });
});
