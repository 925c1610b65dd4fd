/**
 * Active-speaker detection from audio levels, with hold and hysteresis so that it does not flap.
 * Pure: the audio clock feeds it one level per source every 20 ms with the time.
 */

export interface SpeakerDetectorOptions {
  /** Levels below this (dBFS) are silence. */
  floorDb: number;
  /** A challenger must be this much louder than the current speaker... */
  marginDb: number;
  /** ...for this long, continuously, to take over. */
  holdMs: number;
  /** How fast levels are smoothed (time constant). */
  smoothingMs: number;
}

export const SPEAKER_DEFAULTS: SpeakerDetectorOptions = {
  floorDb: -50,
  marginDb: 6,
  holdMs: 600,
  smoothingMs: 200,
};

export const SILENCE_DB = -120;

/** Level of one frame of s16 PCM in dBFS (RMS). */
export function levelDb(pcm: Int16Array): number {
  if (pcm.length === 0) return SILENCE_DB;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i]! * pcm[i]!;
  const rms = Math.sqrt(sum / pcm.length) / 32768;
  return rms > 0 ? Math.max(SILENCE_DB, 20 * Math.log10(rms)) : SILENCE_DB;
}

export class SpeakerDetector {
  readonly #options: SpeakerDetectorOptions;
  readonly #smoothed = new Map<string, number>();
  #speaker: string | null = null;
  #challenger: { id: string; since: number } | undefined;
  #lastAt: number | undefined;

  constructor(options: Partial<SpeakerDetectorOptions> = {}) {
    this.#options = { ...SPEAKER_DEFAULTS, ...options };
    if (!(this.#options.holdMs >= 0 && this.#options.smoothingMs > 0)) throw new RangeError('bad speaker detector timing');
  }

  get speaker(): string | null {
    return this.#speaker;
  }

  /** Forgets a source; returns the new speaker (null) if it was the speaker. */
  remove(id: string): string | null | undefined {
    this.#smoothed.delete(id);
    if (this.#challenger?.id === id) this.#challenger = undefined;
    if (this.#speaker !== id) return undefined;
    this.#speaker = null;
    return null;
  }

  /** Feeds one level per source; returns the new speaker when it changes, else undefined. */
  process(levels: ReadonlyMap<string, number>, now: number): string | null | undefined {
    const dt = this.#lastAt === undefined ? 20 : Math.max(0, now - this.#lastAt);
    this.#lastAt = now;
    const alpha = 1 - Math.exp(-dt / this.#options.smoothingMs);
    for (const [id, level] of levels) {
      const previous = this.#smoothed.get(id) ?? SILENCE_DB;
      this.#smoothed.set(id, previous + alpha * (level - previous));
    }
    let loudest: string | undefined;
    let loudestDb = this.#options.floorDb;
    for (const [id, db] of this.#smoothed) {
      if (db > loudestDb) {
        loudest = id;
        loudestDb = db;
      }
    }
    if (loudest === undefined || loudest === this.#speaker) {
      this.#challenger = undefined;
      return undefined;
    }
    const currentDb = this.#speaker === null ? SILENCE_DB : (this.#smoothed.get(this.#speaker) ?? SILENCE_DB);
    if (loudestDb < currentDb + this.#options.marginDb) {
      this.#challenger = undefined;
      return undefined;
    }
    if (this.#challenger?.id !== loudest) this.#challenger = { id: loudest, since: now };
    if (now - this.#challenger.since < this.#options.holdMs) return undefined;
    this.#speaker = loudest;
    this.#challenger = undefined;
    return loudest;
  }
}
