/**
 * Who is mixed: the few loudest speakers (top-N mixing, as FreeSWITCH's conferences and most
 * MCUs do), each given a slot. Everyone else is left out of the mix and hears one shared mix of
 * the speakers; a speaker hears that mix without itself. So the Opus encoders are the slots plus
 * one, whatever the number of participants.
 *
 * Pure: the audio clock feeds it one level per source every 20 ms with the time.
 *
 * - Levels are smoothed with a fast attack and a slow release: a voice counts as soon as it
 *   starts and does not drop out between words.
 * - A source above the floor takes a free slot at once (a newcomer who talks is heard at once).
 * - A speaker silent for `idleMs` gives its slot up.
 * - With every slot taken, a challenger replaces the quietest speaker only when louder by
 *   `marginDb` for `holdMs` (hysteresis: no flapping between two voices), or, if that speaker
 *   is silent, after `silentHoldMs`.
 */

export interface TopSpeakersOptions {
  slots: number;
  /** Smoothed levels (dBFS) at or below this are silence. */
  floorDb: number;
  marginDb: number;
  holdMs: number;
  silentHoldMs: number;
  idleMs: number;
  attackMs: number;
  releaseMs: number;
}

export const TOP_SPEAKERS_DEFAULTS: TopSpeakersOptions = {
  slots: 3,
  floorDb: -50,
  marginDb: 6,
  holdMs: 600,
  silentHoldMs: 100,
  idleMs: 1500,
  attackMs: 20,
  releaseMs: 300,
};

const SILENCE_DB = -120;

/** A change of who holds which slot. */
export interface SlotChange {
  slot: number;
  /** Who leaves the slot, and who takes it (undefined: it was free, or becomes free). */
  from: string | undefined;
  to: string | undefined;
}

export class TopSpeakers {
  readonly #o: TopSpeakersOptions;
  readonly #smoothed = new Map<string, number>();
  /** Slot index → its speaker. */
  readonly #slots: (string | undefined)[];
  /** When each speaker was last above the floor. */
  readonly #lastHeard = new Map<string, number>();
  #challenger: { id: string; since: number } | undefined;
  #lastAt: number | undefined;

  constructor(options: Partial<TopSpeakersOptions> = {}) {
    this.#o = { ...TOP_SPEAKERS_DEFAULTS, ...options };
    const o = this.#o;
    if (!Number.isInteger(o.slots) || o.slots < 1) throw new RangeError(`slots must be a whole number from 1, got ${o.slots}`);
    if (!(o.attackMs > 0 && o.releaseMs > 0 && o.holdMs >= 0 && o.silentHoldMs >= 0 && o.idleMs >= 0)) throw new RangeError('bad top-speaker timing');
    this.#slots = new Array<string | undefined>(o.slots).fill(undefined);
  }

  get slotCount(): number {
    return this.#o.slots;
  }

  /** The speaker in each slot. */
  get slots(): readonly (string | undefined)[] {
    return this.#slots;
  }

  /** The slot a source holds, or undefined if it is not mixed. */
  slotOf(id: string): number | undefined {
    const slot = this.#slots.indexOf(id);
    return slot < 0 ? undefined : slot;
  }

  isSpeaker(id: string): boolean {
    return this.#slots.includes(id);
  }

  /** Forgets a source (it left); returns the change if it held a slot. */
  remove(id: string): SlotChange | undefined {
    this.#smoothed.delete(id);
    this.#lastHeard.delete(id);
    if (this.#challenger?.id === id) this.#challenger = undefined;
    const slot = this.slotOf(id);
    if (slot === undefined) return undefined;
    this.#slots[slot] = undefined;
    return { slot, from: id, to: undefined };
  }

  /** One tick: the level of every source (dBFS, SILENCE for none) at `now` (ms). Returns the slot changes, in order. */
  process(levels: ReadonlyMap<string, number>, now: number): SlotChange[] {
    const o = this.#o;
    const dt = this.#lastAt === undefined ? 20 : Math.max(0, now - this.#lastAt);
    this.#lastAt = now;
    for (const [id, level] of levels) {
      const previous = this.#smoothed.get(id) ?? SILENCE_DB;
      const alpha = 1 - Math.exp(-dt / (level > previous ? o.attackMs : o.releaseMs));
      const smoothed = previous + alpha * (level - previous);
      this.#smoothed.set(id, smoothed);
      if (smoothed > o.floorDb) this.#lastHeard.set(id, now);
    }
    const changes: SlotChange[] = [];
    // Speakers silent for long enough free their slots.
    this.#slots.forEach((id, slot) => {
      if (id !== undefined && now - (this.#lastHeard.get(id) ?? -Infinity) >= o.idleMs) {
        this.#slots[slot] = undefined;
        changes.push({ slot, from: id, to: undefined });
      }
    });
    // Those who talk and are not mixed, loudest first, take free slots.
    const waiting = [...this.#smoothed]
      .filter(([id, db]) => db > o.floorDb && !this.isSpeaker(id))
      .sort((a, b) => b[1] - a[1]);
    for (const [id] of waiting) {
      const free = this.#slots.indexOf(undefined);
      if (free < 0) break;
      this.#slots[free] = id;
      changes.push({ slot: free, from: undefined, to: id });
    }
    const challenger = waiting.find(([id]) => !this.isSpeaker(id));
    if (!challenger) {
      this.#challenger = undefined;
      return changes;
    }
    // Every slot is taken: the loudest of the others against the quietest speaker.
    let victim = 0;
    for (let slot = 1; slot < this.#slots.length; slot++) {
      if (this.#db(this.#slots[slot]) < this.#db(this.#slots[victim])) victim = slot;
    }
    const victimDb = this.#db(this.#slots[victim]);
    const silent = victimDb <= o.floorDb;
    if (!silent && challenger[1] < victimDb + o.marginDb) {
      this.#challenger = undefined;
      return changes;
    }
    if (this.#challenger?.id !== challenger[0]) this.#challenger = { id: challenger[0], since: now };
    if (now - this.#challenger.since < (silent ? o.silentHoldMs : o.holdMs)) return changes;
    changes.push({ slot: victim, from: this.#slots[victim], to: challenger[0] });
    this.#slots[victim] = challenger[0];
    this.#challenger = undefined;
    return changes;
  }

  #db(id: string | undefined): number {
    return id === undefined ? SILENCE_DB : (this.#smoothed.get(id) ?? SILENCE_DB);
  }

  toJSON(): Record<string, unknown> {
    return { slots: [...this.#slots], levels: Object.fromEntries([...this.#smoothed].map(([id, db]) => [id, Math.round(db)])) };
  }
}
