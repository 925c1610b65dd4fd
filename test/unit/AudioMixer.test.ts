import { describe, expect, it, test } from 'vitest';
import {
  AUDIO_MIXER_DEFAULTS,
  AudioMixer,
  EVERYONE,
  FRAME_SAMPLES,
  limit,
  SAMPLE_RATE,
  type AudioMixerOptions,
} from '../../mixer/logic/AudioMixer.ts';

const KNEE = 24576;
const MAX = 32767;

const constant = (value: number, samples = FRAME_SAMPLES): Int16Array => new Int16Array(samples).fill(value);
const ramp = (from: number, count: number): Int16Array => Int16Array.from({ length: count }, (_, i) => from + i);

/** Every sample of `pcm` equals `value`. */
function expectConstant(pcm: Int16Array | undefined, value: number): void {
  expect(pcm).toBeInstanceOf(Int16Array);
  expect(pcm).toHaveLength(FRAME_SAMPLES);
  expect(new Set(pcm), `expected every sample to be ${value}`).toEqual(new Set([value]));
}

type SourceStats = { queued: number; underruns: number; dropped: number };
const stats = (mixer: AudioMixer, id: string): SourceStats | undefined =>
  (mixer.toJSON() as Record<string, SourceStats | undefined>)[id];

describe('AudioMixer constants', () => {
  it('a frame is 20 ms of mono audio at 48 kHz', () => {
    expect(SAMPLE_RATE).toBe(48000);
    expect(FRAME_SAMPLES).toBe(960);
    expect((FRAME_SAMPLES / SAMPLE_RATE) * 1000).toBe(20);
    expect(AUDIO_MIXER_DEFAULTS).toEqual({ startThreshold: 1920, maxQueued: 11520, trimAbove: 3840, trimAfterTicks: 25 });
  });
});

describe('AudioMixer mix-minus', () => {
  const values = { alice: 100, bob: 1000, carol: 10000 } as const;

  function mixerOfThree(): AudioMixer {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: 10 * FRAME_SAMPLES });
    for (const [id, value] of Object.entries(values)) {
      mixer.addSource(id);
      mixer.push(id, constant(value, 3 * FRAME_SAMPLES));
    }
    return mixer;
  }

  it('with `included` (top-speaker mixing) only those are mixed; every source still gives its level and moves on', () => {
    const mixer = mixerOfThree();
    const out = mixer.mix(['bob', 'carol'], new Set(['bob', 'carol']));
    expect([...out.keys()].sort()).toEqual([EVERYONE, 'bob', 'carol'].sort());
    expectConstant(out.get(EVERYONE), 1000 + 10000);
    expectConstant(out.get('bob'), 10000);
    expectConstant(out.get('carol'), 1000);
    expect([...mixer.levels().keys()].sort()).toEqual(['alice', 'bob', 'carol']);
    expect(stats(mixer, 'alice')?.queued).toBe(2 * FRAME_SAMPLES);
  });

  it('a listener never hears itself: each mix is the sum of the other two', () => {
    const mixer = mixerOfThree();
    for (let tick = 0; tick < 3; tick++) {
      const out = mixer.mix(['alice', 'bob', 'carol']);
      expect([...out.keys()].sort()).toEqual([EVERYONE, 'alice', 'bob', 'carol'].sort());
      expectConstant(out.get('alice'), 1000 + 10000);
      expectConstant(out.get('bob'), 100 + 10000);
      expectConstant(out.get('carol'), 100 + 1000);
    }
  });

  it('the EVERYONE mix holds all three sources', () => {
    const mixer = mixerOfThree();
    expectConstant(mixer.mix(['alice']).get(EVERYONE), 100 + 1000 + 10000);
  });

  it('mix() always returns the EVERYONE mix, even with no listeners and no sources', () => {
    const out = new AudioMixer().mix([]);
    expect([...out.keys()]).toEqual([EVERYONE]);
    expectConstant(out.get(EVERYONE), 0);
  });

  it('a listener that is not a source (a viewer) hears everyone', () => {
    const mixer = mixerOfThree();
    expectConstant(mixer.mix(['viewer']).get('viewer'), 11100);
  });

  it('a listener named EVERYONE is not mixed twice: its mix holds everyone', () => {
    const mixer = mixerOfThree();
    const out = mixer.mix([EVERYONE, 'alice']);
    expect(out.size).toBe(2);
    expectConstant(out.get(EVERYONE), 11100);
  });

  it('each listener gets its own array (writing one mix does not change another)', () => {
    const mixer = mixerOfThree();
    const out = mixer.mix(['alice', 'viewer']);
    expect(out.get('viewer')).not.toBe(out.get(EVERYONE));
    out.get(EVERYONE)!.fill(0);
    expectConstant(out.get('viewer'), 11100);
  });

  it('a removed source stops contributing and disappears from toJSON()', () => {
    const mixer = mixerOfThree();
    mixer.mix([]);
    mixer.removeSource('carol');
    const out = mixer.mix(['alice', 'bob', 'carol']);
    expectConstant(out.get(EVERYONE), 1100);
    expectConstant(out.get('alice'), 1000);
    expectConstant(out.get('bob'), 100);
    // carol as a listener now hears everyone left
    expectConstant(out.get('carol'), 1100);
    expect(Object.keys(mixer.toJSON()).sort()).toEqual(['alice', 'bob']);
    // pushes for a removed source are ignored
    mixer.push('carol', constant(10000, 3 * FRAME_SAMPLES));
    expectConstant(mixer.mix([]).get(EVERYONE), 1100);
  });

  it('pushes for a source that was never added are ignored', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES });
    mixer.push('ghost', constant(5000, 2 * FRAME_SAMPLES));
    expect(mixer.toJSON()).toEqual({});
    expectConstant(mixer.mix([]).get(EVERYONE), 0);
  });

  it('adding a source twice keeps its queue', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', constant(7, FRAME_SAMPLES));
    mixer.addSource('a');
    expect(stats(mixer, 'a')).toEqual({ queued: FRAME_SAMPLES, underruns: 0, dropped: 0 });
    expectConstant(mixer.mix([]).get(EVERYONE), 7);
  });
});

describe('AudioMixer start threshold and underruns', () => {
  it('a source is not mixed until it has startThreshold samples queued', () => {
    const mixer = new AudioMixer({ startThreshold: 2 * FRAME_SAMPLES, maxQueued: 10 * FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', constant(500, 2 * FRAME_SAMPLES - 1));
    expectConstant(mixer.mix([]).get(EVERYONE), 0);
    // nothing was taken while waiting
    expect(stats(mixer, 'a')).toEqual({ queued: 2 * FRAME_SAMPLES - 1, underruns: 0, dropped: 0 });
    mixer.push('a', constant(500, 1));
    expectConstant(mixer.mix([]).get(EVERYONE), 500);
    expect(stats(mixer, 'a')?.queued).toBe(FRAME_SAMPLES);
  });

  it('an empty queue after a start is one underrun, then the source waits for the threshold again', () => {
    const mixer = new AudioMixer({ startThreshold: 2 * FRAME_SAMPLES, maxQueued: 10 * FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', constant(300, 2 * FRAME_SAMPLES));
    expectConstant(mixer.mix([]).get(EVERYONE), 300);
    expectConstant(mixer.mix([]).get(EVERYONE), 300);
    expect(stats(mixer, 'a')).toEqual({ queued: 0, underruns: 0, dropped: 0 });

    expectConstant(mixer.mix([]).get(EVERYONE), 0);
    expect(stats(mixer, 'a')?.underruns).toBe(1);
    // further empty ticks while waiting are not counted again
    mixer.mix([]);
    mixer.mix([]);
    expect(stats(mixer, 'a')?.underruns).toBe(1);

    // one frame is below the threshold: still silent, and kept
    mixer.push('a', constant(400, FRAME_SAMPLES));
    expectConstant(mixer.mix([]).get(EVERYONE), 0);
    expect(stats(mixer, 'a')?.queued).toBe(FRAME_SAMPLES);
    mixer.push('a', constant(400, FRAME_SAMPLES));
    expectConstant(mixer.mix([]).get(EVERYONE), 400);
    expect(stats(mixer, 'a')).toEqual({ queued: FRAME_SAMPLES, underruns: 1, dropped: 0 });
  });

  it('a short queue after a start plays what there is, padded with silence, and counts an underrun', () => {
    const mixer = new AudioMixer({ startThreshold: 2 * FRAME_SAMPLES, maxQueued: 10 * FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', constant(1000, 2 * FRAME_SAMPLES + 100));
    mixer.mix([]);
    mixer.mix([]);
    const frame = mixer.mix([]).get(EVERYONE)!;
    expect([...frame.subarray(0, 100)]).toEqual(new Array<number>(100).fill(1000));
    expect([...frame.subarray(100)]).toEqual(new Array<number>(FRAME_SAMPLES - 100).fill(0));
    expect(stats(mixer, 'a')).toEqual({ queued: 0, underruns: 1, dropped: 0 });
    // and it waits for the threshold before playing again
    mixer.push('a', constant(1000, FRAME_SAMPLES));
    expectConstant(mixer.mix([]).get(EVERYONE), 0);
  });

  it('one source underrunning does not silence the others', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: 10 * FRAME_SAMPLES });
    mixer.addSource('steady');
    mixer.addSource('flaky');
    mixer.push('steady', constant(20, 4 * FRAME_SAMPLES));
    mixer.push('flaky', constant(3, FRAME_SAMPLES));
    expectConstant(mixer.mix(['steady', 'flaky']).get('steady'), 3);
    const out = mixer.mix(['steady', 'flaky']);
    expectConstant(out.get('steady'), 0);
    expectConstant(out.get('flaky'), 20);
    expectConstant(out.get(EVERYONE), 20);
    expect(stats(mixer, 'flaky')?.underruns).toBe(1);
    expect(stats(mixer, 'steady')?.underruns).toBe(0);
  });
});

describe('AudioMixer queue bound', () => {
  it('a queue longer than maxQueued drops the oldest samples and counts them in toJSON()', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: 2 * FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', ramp(0, 1000));
    mixer.push('a', ramp(1000, 1000));
    mixer.push('a', ramp(2000, 1000));
    expect(stats(mixer, 'a')).toEqual({ queued: 1920, underruns: 0, dropped: 1080 });
    expect([...mixer.mix([]).get(EVERYONE)!]).toEqual([...ramp(1080, FRAME_SAMPLES)]);
    expect([...mixer.mix([]).get(EVERYONE)!]).toEqual([...ramp(2040, FRAME_SAMPLES)]);
  });

  it('one push bigger than maxQueued keeps only its newest maxQueued samples', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: 2 * FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', ramp(0, 5000));
    expect(stats(mixer, 'a')).toEqual({ queued: 1920, underruns: 0, dropped: 3080 });
    expect([...mixer.mix([]).get(EVERYONE)!]).toEqual([...ramp(3080, FRAME_SAMPLES)]);
  });

  it('drops accumulate across pushes', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: 2 * FRAME_SAMPLES });
    mixer.addSource('a');
    for (let i = 0; i < 5; i++) mixer.push('a', constant(1, FRAME_SAMPLES));
    expect(stats(mixer, 'a')).toEqual({ queued: 1920, underruns: 0, dropped: 3 * FRAME_SAMPLES });
  });

  it('the queue never exceeds maxQueued, whatever the push sizes', () => {
    const maxQueued = 3 * FRAME_SAMPLES;
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued });
    mixer.addSource('a');
    let pushed = 0;
    for (const size of [1, 7, 333, 1000, 2881, 5000, 13, 960, 4000]) {
      mixer.push('a', constant(1, size));
      pushed += size;
      const s = stats(mixer, 'a')!;
      expect(s.queued).toBeLessThanOrEqual(maxQueued);
      expect(s.queued + s.dropped).toBe(pushed);
    }
  });

  it('an empty push changes nothing', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES });
    mixer.addSource('a');
    mixer.push('a', new Int16Array(0));
    expect(stats(mixer, 'a')).toEqual({ queued: 0, underruns: 0, dropped: 0 });
  });
});

describe('AudioMixer chunked pushes', () => {
  const total = 20 * FRAME_SAMPLES; // 0..19199, all below the limiter's knee

  test.each([[7], [333], [1000], [961]])('pushes of %i samples reassemble into the same ramp', (size) => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: total, trimAbove: total });
    mixer.addSource('a');
    const input = ramp(0, total);
    for (let at = 0; at < total; at += size) mixer.push('a', input.subarray(at, Math.min(total, at + size)));
    const output: number[] = [];
    for (let tick = 0; tick < total / FRAME_SAMPLES; tick++) output.push(...mixer.mix([]).get(EVERYONE)!);
    expect(output).toEqual([...input]);
    expect(stats(mixer, 'a')).toEqual({ queued: 0, underruns: 0, dropped: 0 });
  });

  it('pushes of 7, 333 and 1000 samples in turn, mixed while they arrive, give back the same ramp', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES, maxQueued: 10 * FRAME_SAMPLES });
    mixer.addSource('a');
    const input = ramp(0, total);
    const sizes = [7, 333, 1000];
    const output: number[] = [];
    let at = 0;
    for (let i = 0; at < total; i++) {
      const size = sizes[i % sizes.length]!;
      mixer.push('a', input.subarray(at, Math.min(total, at + size)));
      at += size;
      // mix whenever a whole frame is there, as a clock that is never early would
      while (stats(mixer, 'a')!.queued >= FRAME_SAMPLES) output.push(...mixer.mix([]).get(EVERYONE)!);
    }
    expect(output).toEqual([...input]);
    expect(stats(mixer, 'a')).toEqual({ queued: 0, underruns: 0, dropped: 0 });
  });

  it('mix() output is not a view of a pushed buffer: refilling that buffer later does not change it', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES });
    mixer.addSource('a');
    const buffer = constant(5, FRAME_SAMPLES);
    mixer.push('a', buffer);
    const out = mixer.mix([]).get(EVERYONE)!;
    buffer.fill(9);
    expectConstant(out, 5);
  });
});

describe('limit()', () => {
  /** The inputs in `from..to` (step `step`) for which `bad(x)` holds: empty when the property holds. */
  const violations = (from: number, to: number, step: number, bad: (x: number) => boolean): number[] => {
    const found: number[] = [];
    for (let x = from; x <= to; x += step) if (bad(x)) found.push(x);
    return found;
  };

  it('limit() is the identity up to the knee (0.75 of full scale)', () => {
    expect(violations(-KNEE, KNEE, 1, (x) => limit(x) !== x)).toEqual([]);
    expect(limit(KNEE)).toBe(KNEE);
    expect(limit(-KNEE)).toBe(-KNEE);
    expect(limit(0)).toBe(0);
  });

  it('limit() squeezes samples above the knee below the input', () => {
    for (const x of [KNEE + 100, 30000, MAX, 40000, 100000]) {
      expect(limit(x)).toBeLessThan(x);
      expect(limit(x)).toBeGreaterThan(KNEE);
    }
  });

  it('limit() is monotonic from -1e6 to 1e6 and never leaves [-32767, 32767]', () => {
    expect(violations(-1_000_000, 1_000_000, 1, (x) => limit(x + 1) < limit(x))).toEqual([]);
    expect(violations(-1_000_000, 1_000_000, 1, (x) => Math.abs(limit(x)) > MAX)).toEqual([]);
  });

  it('limit() rises at most one step per input step around the knee', () => {
    expect(violations(KNEE - 1000, KNEE + 20000, 1, (x) => limit(x + 1) - limit(x) > 1)).toEqual([]);
  });

  test.each([
    32768,
    65534,
    25 * 32767, // 25 participants at full scale
    2 ** 31 - 1,
    Number.MAX_SAFE_INTEGER,
    Number.POSITIVE_INFINITY,
  ])('limit(±%d) stays within ±32767 and is an integer', (x) => {
    expect(limit(x)).toBeLessThanOrEqual(MAX);
    expect(limit(x)).toBeGreaterThan(KNEE);
    expect(limit(-x)).toBeGreaterThanOrEqual(-MAX);
    expect(Number.isInteger(limit(x))).toBe(true);
  });

  it('limit() is symmetric: limit(-x) is -limit(x)', () => {
    expect(violations(0, 1_000_000, 1, (x) => limit(-x) !== -limit(x))).toEqual([]);
  });

  it('limit() returns integers for integer input', () => {
    expect(violations(-1_000_000, 1_000_000, 1, (x) => !Number.isInteger(limit(x)))).toEqual([]);
  });

  it('a mix of loud sources is limited, not wrapped around', () => {
    const mixer = new AudioMixer({ startThreshold: FRAME_SAMPLES });
    for (const id of ['a', 'b', 'c', 'd']) {
      mixer.addSource(id);
      mixer.push(id, constant(30000, FRAME_SAMPLES));
    }
    const out = mixer.mix(['a']);
    expectConstant(out.get(EVERYONE), limit(120000));
    expectConstant(out.get('a'), limit(90000));
    expect(limit(120000)).toBeGreaterThan(limit(90000));
    expect(limit(120000)).toBeLessThanOrEqual(MAX);
  });
});

describe('AudioMixer options', () => {
  it('the defaults are used when no options are given', () => {
    const mixer = new AudioMixer();
    mixer.addSource('a');
    mixer.push('a', constant(1, AUDIO_MIXER_DEFAULTS.startThreshold - 1));
    expectConstant(mixer.mix([]).get(EVERYONE), 0);
    mixer.push('a', constant(1, 1));
    expectConstant(mixer.mix([]).get(EVERYONE), 1);
  });

  test.each<[string, Partial<AudioMixerOptions>]>([
    ['maxQueued below the start threshold', { startThreshold: 1920, maxQueued: 1000 }],
    ['maxQueued one sample short of threshold plus a frame', { startThreshold: 1920, maxQueued: 1920 + 959 }],
    ['a start threshold the default maxQueued cannot hold', { startThreshold: 24000 }],
  ])('the constructor throws a RangeError for %s', (_what, options) => {
    expect(() => new AudioMixer(options)).toThrow(RangeError);
  });

  it('the constructor accepts maxQueued of exactly the threshold plus one frame', () => {
    expect(() => new AudioMixer({ startThreshold: 1920, maxQueued: 1920 + 960 })).not.toThrow();
  });

  // Regression: NaN, negative or fractional sizes once slipped past the constructor.
  it.each<[string, Partial<AudioMixerOptions>]>([
    ['maxQueued NaN', { maxQueued: Number.NaN }],
    ['a negative start threshold', { startThreshold: -960 }],
    ['a fractional maxQueued', { maxQueued: 9600.5 }],
  ])('the constructor throws a RangeError for %s', (_what, options) => {
    expect(() => new AudioMixer(options)).toThrow(RangeError);
  });
});

describe('AudioMixer latency trim', () => {
  it('cuts a queue that stays above trimAbove for trimAfterTicks ticks back to the start threshold', () => {
    const mixer = new AudioMixer({ startThreshold: 1920, maxQueued: 24000, trimAbove: 4800, trimAfterTicks: 10 });
    mixer.addSource('a');
    // A burst: 400 ms at once, then real time (one frame per tick).
    mixer.push('a', new Int16Array(19200).fill(1));
    for (let tick = 0; tick < 9; tick++) {
      mixer.push('a', new Int16Array(960).fill(1));
      mixer.mix([]);
    }
    expect((mixer.toJSON().a as { queued: number }).queued).toBe(19200);
    mixer.push('a', new Int16Array(960).fill(1));
    mixer.mix([]);
    expect(mixer.toJSON().a).toEqual({ queued: 1920, underruns: 0, dropped: 19200 - 1920 });
  });

  it('leaves a queue alone that dips below trimAbove now and then', () => {
    const mixer = new AudioMixer({ startThreshold: 1920, maxQueued: 24000, trimAbove: 4800, trimAfterTicks: 10 });
    mixer.addSource('a');
    mixer.push('a', new Int16Array(4800).fill(1));
    for (let tick = 0; tick < 40; tick++) {
      // alternately two frames and none: the queue swings across the trim line (5760, 4800, ...)
      if (tick % 2 === 0) mixer.push('a', new Int16Array(1920).fill(1));
      mixer.mix([]);
    }
    expect((mixer.toJSON().a as { dropped: number }).dropped).toBe(0);
  });
});
