import { beforeEach, describe, expect, it, test } from 'vitest';
import { FrameClock, type ClockTimers } from '../../mixer/logic/FrameClock.ts';

/**
 * Injected time: a list of pending callbacks with due times. `advance(ms)` moves the clock
 * forward, running every callback that falls due on the way at its due time. `lateness` makes
 * every timer fire that much after the time it asked for; `postponePending(ms)` delays the
 * timers already waiting, as a busy event loop would.
 */
interface PendingTimer {
  id: number;
  due: number;
  fn: () => void;
}

class FakeTimers implements ClockTimers {
  time: number;
  lateness = 0;
  cleared = 0;
  #pending: PendingTimer[] = [];
  #nextId = 1;

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    expect(ms).toBeGreaterThanOrEqual(0);
    const id = this.#nextId++;
    this.#pending.push({ id, due: this.time + ms + this.lateness, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.cleared++;
    this.#pending = this.#pending.filter((timer) => timer.id !== handle);
  }

  get pending(): number {
    return this.#pending.length;
  }

  postponePending(ms: number): void {
    for (const timer of this.#pending) timer.due += ms;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.#pending) if (timer.due <= end && (!next || timer.due < next.due)) next = timer;
      if (!next) break;
      const due = next;
      this.#pending = this.#pending.filter((timer) => timer !== due);
      this.time = Math.max(this.time, due.due);
      due.fn();
    }
    this.time = end;
  }
}

interface Tick {
  n: number;
  at: number;
}

let timers: FakeTimers;
let ticks: Tick[];
const record = (n: number): void => {
  ticks.push({ n, at: timers.now() });
};
const numbers = (): number[] => ticks.map((t) => t.n);
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeEach(() => {
  timers = new FakeTimers(5000);
  ticks = [];
});

describe('FrameClock timing', () => {
  it('start() runs tick 0 at once and one tick per period after it', () => {
    const clock = new FrameClock(20, record, { timers });
    clock.start();
    expect(ticks).toEqual([{ n: 0, at: 5000 }]);
    timers.advance(19);
    expect(ticks).toHaveLength(1);
    timers.advance(1);
    expect(ticks).toEqual([
      { n: 0, at: 5000 },
      { n: 1, at: 5020 },
    ]);
    timers.advance(60);
    expect(ticks.map((t) => t.at)).toEqual([5000, 5020, 5040, 5060, 5080]);
    expect(numbers()).toEqual([0, 1, 2, 3, 4]);
    expect(clock.ticks).toBe(5);
    expect(clock.skipped).toBe(0);
    expect(timers.pending).toBe(1);
    clock.stop();
  });

  it.each([
    ['ticks stay on exact multiples of the period over 300 ticks when every timer fires 3 ms late', 3, 10],
    ['ticks stay on exact multiples of a fractional period over 300 ticks with on-time timers', 0, 1e-6],
  ])('%s', (_what, lateness, slackMs) => {
    const period = 1000 / 30;
    const clock = new FrameClock(period, record, { timers });
    timers.lateness = lateness;
    clock.start();
    timers.advance(300 * period + slackMs);
    expect(numbers()).toEqual(range(0, 300));
    expect(ticks[0]).toEqual({ n: 0, at: 5000 });
    // every later tick n happens `lateness` ms after start + n × period: the lateness does not add up
    for (const t of ticks.slice(1)) expect(t.at).toBeCloseTo(5000 + t.n * period + lateness, 6);
    expect(ticks.at(-1)!.at).toBeCloseTo(5000 + 10_000 + lateness, 6);
    expect(clock.skipped).toBe(0);
    expect(clock.ticks).toBe(301);
    clock.stop();
  });

  it('a timer 100 ms late with maxBurst 1 skips the missed ticks and the next tick number follows real time', () => {
    const clock = new FrameClock(20, record, { maxBurst: 1, timers });
    clock.start();
    timers.postponePending(100); // tick 1 was due at 5020; the timer fires at 5120
    timers.advance(120);
    expect(ticks).toEqual([
      { n: 0, at: 5000 },
      { n: 6, at: 5120 },
    ]);
    expect(clock.skipped).toBe(5);
    expect(clock.ticks).toBe(2);
    // back on the original grid afterwards
    timers.advance(40);
    expect(ticks.slice(2)).toEqual([
      { n: 7, at: 5140 },
      { n: 8, at: 5160 },
    ]);
    expect(clock.skipped).toBe(5);
    clock.stop();
  });

  it('maxBurst defaults to 1', () => {
    const clock = new FrameClock(20, record, { timers });
    clock.start();
    timers.postponePending(100);
    timers.advance(120);
    expect(numbers()).toEqual([0, 6]);
    expect(clock.skipped).toBe(5);
    clock.stop();
  });

  /** Ticks `first` to `last`, all run at `at` (a burst). */
  const burst = (at: number, first: number, last: number): Array<{ n: number; at: number }> =>
    Array.from({ length: last - first + 1 }, (_, i) => ({ n: first + i, at }));

  it.each([
    ['a timer 100 ms late with maxBurst 5 runs 5 ticks back to back and skips only the rest', 100, [{ n: 0, at: 5000 }, ...burst(5120, 2, 6)], 1],
    // Fires at 5080, when ticks 1 to 4 are due.
    ['a timer 60 ms late with maxBurst 5 catches up on every missed tick without skipping', 60, [{ n: 0, at: 5000 }, ...burst(5080, 1, 4)], 0],
  ])('%s', (_what, lateMs, expected, skipped) => {
    const clock = new FrameClock(20, record, { maxBurst: 5, timers });
    clock.start();
    timers.postponePending(lateMs);
    timers.advance(lateMs + 20);
    expect(ticks).toEqual(expected);
    expect(clock.skipped).toBe(skipped);
    timers.advance(20);
    const last = expected.at(-1)!;
    expect(ticks.at(-1)).toEqual({ n: last.n + 1, at: last.at + 20 });
    expect(clock.ticks).toBe(expected.length + 1);
    clock.stop();
  });

  it('skipped adds up over several late timers', () => {
    const clock = new FrameClock(20, record, { maxBurst: 2, timers });
    clock.start();
    timers.postponePending(100); // due ticks 1..6 at 5120: runs 5, 6, skips 4
    timers.advance(120);
    timers.postponePending(45); // tick 7 due at 5140, fires at 5185: due ticks 7..9, runs 8, 9, skips 1
    timers.advance(65);
    expect(numbers()).toEqual([0, 5, 6, 8, 9]);
    expect(clock.skipped).toBe(5);
    expect(clock.ticks).toBe(5);
    timers.advance(15);
    expect(ticks.at(-1)).toEqual({ n: 10, at: 5200 });
    clock.stop();
  });

  it.each([0, -1, 1.5, Number.NaN])('the constructor throws a RangeError for maxBurst %s', (maxBurst) => {
    expect(() => new FrameClock(20, record, { maxBurst, timers })).toThrow(RangeError);
  });
});

describe('FrameClock lifecycle', () => {
  it('stop() stops further ticks and cancels the pending timer', () => {
    const clock = new FrameClock(20, record, { timers });
    clock.start();
    timers.advance(40);
    expect(clock.running).toBe(true);
    clock.stop();
    expect(clock.running).toBe(false);
    expect(timers.pending).toBe(0);
    timers.advance(1000);
    expect(numbers()).toEqual([0, 1, 2]);
  });

  it('stop() twice is harmless and clears the timer only once', () => {
    const clock = new FrameClock(20, record, { timers });
    clock.start();
    clock.stop();
    expect(() => clock.stop()).not.toThrow();
    expect(timers.cleared).toBe(1);
    expect(clock.running).toBe(false);
  });

  it('stop() before start() is harmless', () => {
    const clock = new FrameClock(20, record, { timers });
    expect(() => clock.stop()).not.toThrow();
    expect(ticks).toEqual([]);
  });

  it('stop() from inside a tick ends the clock, even in the middle of a burst', () => {
    let clock: FrameClock | undefined;
    clock = new FrameClock(
      20,
      (n) => {
        record(n);
        if (n === 3) clock?.stop();
      },
      { maxBurst: 5, timers },
    );
    clock.start();
    timers.postponePending(100); // a burst of ticks 2..6 at 5120
    timers.advance(1000);
    expect(numbers()).toEqual([0, 2, 3]);
    expect(clock.running).toBe(false);
    expect(timers.pending).toBe(0);
  });

  it('start() twice does not double the ticks', () => {
    const clock = new FrameClock(20, record, { timers });
    clock.start();
    timers.advance(10);
    clock.start();
    expect(timers.pending).toBe(1);
    timers.advance(90);
    expect(ticks.map((t) => t.at)).toEqual([5000, 5020, 5040, 5060, 5080, 5100]);
    expect(numbers()).toEqual(range(0, 5));
    clock.stop();
  });

  it('start() after stop() ticks again, once per period, from the new start time', () => {
    const clock = new FrameClock(20, record, { timers });
    clock.start();
    timers.advance(20);
    clock.stop();
    timers.advance(1005);
    ticks = [];
    clock.start();
    timers.advance(40);
    expect(ticks.map((t) => t.at)).toEqual([6025, 6045, 6065]);
    expect(numbers()[1]! - numbers()[0]!).toBe(1);
    expect(numbers()[2]! - numbers()[1]!).toBe(1);
    expect(timers.pending).toBe(1);
    clock.stop();
  });

  test.each([0, -20, Number.NaN])('the constructor throws a RangeError for a period of %s', (period) => {
    expect(() => new FrameClock(period, record, { timers })).toThrow(RangeError);
  });

  it('the constructor does not start the clock', () => {
    const clock = new FrameClock(20, record, { timers });
    expect(clock.running).toBe(false);
    expect(clock.periodMs).toBe(20);
    timers.advance(100);
    expect(ticks).toEqual([]);
    expect(timers.pending).toBe(0);
  });
});
