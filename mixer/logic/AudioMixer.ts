import { levelDb, SILENCE_DB } from './SpeakerDetector.ts';

/**
 * The mix: per-participant PCM in, one 20 ms mix per listener out. Pure (no timers, no pipes):
 * the session's clock calls `mix()` every 20 ms and writes the results to the Opus encoders.
 *
 * Mix-minus: a participant's own voice is subtracted from the sum, so nobody hears themselves.
 */

export const SAMPLE_RATE = 48000;
/** 20 ms of mono audio at 48 kHz. */
export const FRAME_SAMPLES = (SAMPLE_RATE * 20) / 1000;

export interface AudioMixerOptions {
  /** Samples a source must have queued before it is first mixed, to ride out decoder jitter. */
  startThreshold: number;
  /** Samples a source may queue at most; older ones are dropped so latency stays bounded. */
  maxQueued: number;
  /**
   * A queue that stays above this for `trimAfterTicks` ticks in a row is cut back to the start
   * threshold: a burst (a stalled sender catching up) must not add latency for good.
   */
  trimAbove: number;
  trimAfterTicks: number;
}

/**
 * A source's queue is the mix's jitter buffer and adds to what everyone hears: 40 ms to start
 * with, cut back when it stays above 80 ms for half a second, never more than 240 ms. With 100 ms
 * held for a second and up to 500 ms, a busy machine's bursts kept the mix 100-200 ms behind the
 * composite; with 60 ms and 160 ms, a publisher's bursts on a loaded machine cost a quarter of
 * its audio (README: Latency).
 */
export const AUDIO_MIXER_DEFAULTS: AudioMixerOptions = {
  startThreshold: 2 * FRAME_SAMPLES,
  maxQueued: 12 * FRAME_SAMPLES,
  trimAbove: 4 * FRAME_SAMPLES,
  trimAfterTicks: 25,
};

/** The key of the mix that holds everyone, for viewers and the recorder. */
export const EVERYONE = '*';

interface Source {
  chunks: Int16Array[];
  /** Offset into chunks[0]. */
  offset: number;
  queued: number;
  started: boolean;
  underruns: number;
  dropped: number;
  /** Ticks in a row the queue has been above `trimAbove`. */
  highTicks: number;
}

/** Soft limiter: linear up to the knee, then a smooth curve that never exceeds int16 range. */
export function limit(sample: number): number {
  const KNEE = 24576; // 0.75 of full scale
  const MAX = 32767;
  const magnitude = Math.abs(sample);
  if (magnitude <= KNEE) return sample;
  const room = MAX - KNEE;
  const over = magnitude - KNEE;
  const squeezed = KNEE + room * (1 - Math.exp(-over / room));
  return Math.sign(sample) * Math.min(MAX, Math.round(squeezed));
}

export class AudioMixer {
  readonly #options: AudioMixerOptions;
  readonly #sources = new Map<string, Source>();
  readonly #levels = new Map<string, number>();

  constructor(options: Partial<AudioMixerOptions> = {}) {
    this.#options = {
      startThreshold: options.startThreshold ?? AUDIO_MIXER_DEFAULTS.startThreshold,
      maxQueued: options.maxQueued ?? AUDIO_MIXER_DEFAULTS.maxQueued,
      trimAbove: options.trimAbove ?? AUDIO_MIXER_DEFAULTS.trimAbove,
      trimAfterTicks: options.trimAfterTicks ?? AUDIO_MIXER_DEFAULTS.trimAfterTicks,
    };
    for (const [name, value] of Object.entries(this.#options)) {
      if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number of samples`);
    }
    if (this.#options.maxQueued < this.#options.startThreshold + FRAME_SAMPLES) {
      throw new RangeError('maxQueued must hold the start threshold plus one frame');
    }
  }

  addSource(id: string): void {
    if (!this.#sources.has(id)) {
      this.#sources.set(id, { chunks: [], offset: 0, queued: 0, started: false, underruns: 0, dropped: 0, highTicks: 0 });
    }
  }

  removeSource(id: string): void {
    this.#sources.delete(id);
  }

  /** Queues decoded PCM of one source. */
  push(id: string, pcm: Int16Array): void {
    const source = this.#sources.get(id);
    if (!source || pcm.length === 0) return;
    source.chunks.push(pcm);
    source.queued += pcm.length;
    while (source.queued > this.#options.maxQueued) {
      const drop = Math.min(source.queued - this.#options.maxQueued, (source.chunks[0]?.length ?? 0) - source.offset);
      this.#consume(source, drop, undefined);
      source.dropped += drop;
    }
  }

  /**
   * One 20 ms tick: takes a frame from every source and returns the mix for each listener
   * (a source id, which hears everyone but itself) and for `EVERYONE`. With `included`, only
   * those sources are mixed (top-speaker mixing); every source's frame is still taken and its
   * level measured.
   */
  mix(listeners: Iterable<string>, included?: ReadonlySet<string>): Map<string, Int16Array> {
    const frames = new Map<string, Int16Array>();
    const sum = new Int32Array(FRAME_SAMPLES);
    this.#levels.clear();
    for (const [id, source] of this.#sources) {
      const frame = this.#takeFrame(source);
      this.#levels.set(id, frame ? levelDb(frame) : SILENCE_DB);
      if (!frame || (included && !included.has(id))) continue;
      frames.set(id, frame);
      for (let i = 0; i < FRAME_SAMPLES; i++) sum[i]! += frame[i]!;
    }
    const out = new Map<string, Int16Array>();
    const render = (own: Int16Array | undefined): Int16Array => {
      const pcm = new Int16Array(FRAME_SAMPLES);
      for (let i = 0; i < FRAME_SAMPLES; i++) pcm[i] = limit(sum[i]! - (own ? own[i]! : 0));
      return pcm;
    };
    out.set(EVERYONE, render(undefined));
    for (const listener of listeners) {
      if (listener !== EVERYONE) out.set(listener, render(frames.get(listener)));
    }
    return out;
  }

  /** The level (dBFS) of each source's frame in the last `mix()`: the speaker detector's input. */
  levels(): ReadonlyMap<string, number> {
    return this.#levels;
  }

  #takeFrame(source: Source): Int16Array | undefined {
    if (!source.started) {
      if (source.queued < this.#options.startThreshold) return undefined;
      source.started = true;
    }
    if (source.queued < FRAME_SAMPLES) {
      // Underrun: play what there is and wait for the threshold again.
      source.underruns++;
      source.started = false;
      if (source.queued === 0) return undefined;
    }
    const frame = new Int16Array(FRAME_SAMPLES);
    this.#consume(source, Math.min(FRAME_SAMPLES, source.queued), frame);
    source.highTicks = source.queued > this.#options.trimAbove ? source.highTicks + 1 : 0;
    if (source.highTicks >= this.#options.trimAfterTicks) {
      const excess = source.queued - this.#options.startThreshold;
      this.#consume(source, excess, undefined);
      source.dropped += excess;
      source.highTicks = 0;
    }
    return frame;
  }

  #consume(source: Source, count: number, into: Int16Array | undefined): void {
    let written = 0;
    while (written < count) {
      const chunk = source.chunks[0];
      if (!chunk) break;
      const take = Math.min(count - written, chunk.length - source.offset);
      into?.set(chunk.subarray(source.offset, source.offset + take), written);
      written += take;
      source.offset += take;
      if (source.offset >= chunk.length) {
        source.chunks.shift();
        source.offset = 0;
      }
    }
    source.queued -= written;
  }

  toJSON(): Record<string, unknown> {
    return Object.fromEntries(
      [...this.#sources].map(([id, s]) => [id, { queued: s.queued, underruns: s.underruns, dropped: s.dropped }]),
    );
  }
}
