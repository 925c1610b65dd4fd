import { TopSpeakers, type SlotChange, type TopSpeakersOptions } from './TopSpeakers.ts';

/** The router's name for the encoder of the mix the non-speakers hear (and viewers, and recordings). */
export const SHARED = 'shared';
export const slotSource = (slot: number): string => `slot ${slot}`;

/** What one 20 ms audio tick makes and sends. */
export interface MixTickPlan {
  /** Ticks run so far before this one: the number of the PCM frame every encoder gets now. */
  tick: number;
  /** Who took or left which slot (from the previous tick's levels). */
  changes: SlotChange[];
  /**
   * Listener `id` hears encoder `source` from tick `fromTick` on. A speaker who leaves its slot
   * hears the shared mix one tick later: an Opus packet carries the last 6.5 ms of the frame
   * before its own (the encoder's lookahead, RFC 6716 §4.2.5 pre-skip), and the shared mix of
   * the tick before still had that speaker's voice in it.
   */
  routes: { id: string; source: string; fromTick: number }[];
  /** The voices of the shared mix: the speakers. */
  voices: Set<string>;
  /** Speakers who listen: each gets the shared mix less its own voice. */
  ownMixes: string[];
  /** The speaker whose own mix each slot's encoder gets this tick (undefined: a free slot). */
  slots: readonly (string | undefined)[];
}

/**
 * The decisions of the speaker mix's audio tick (SpeakerMix.ts runs the encoders): who speaks,
 * from the levels of the previous tick (TopSpeakers.ts); which listener moves to which encoder,
 * and from which tick; which mixes to make; how many speaker-slot encoders the listeners need.
 * Ticks are numbered by the ones run: the audio clock catches up a late timer by running the
 * ticks it missed back to back and drops the rest (FrameClock.ts), and an encoder's frames and
 * their numbers go on by one either way. Pure: levels and the time in, a plan out.
 */
export class MixTick {
  readonly #top: TopSpeakers;
  readonly #listeners = new Set<string>();
  #tick = 0;

  constructor(options: Partial<TopSpeakersOptions> = {}) {
    this.#top = new TopSpeakers(options);
  }

  /** Speaker ids by slot (undefined: a free slot). */
  get speakers(): readonly (string | undefined)[] {
    return this.#top.slots;
  }

  /** Adds a listener (it hears the shared mix until it speaks); false if it is one already. */
  addListener(id: string): boolean {
    if (this.#listeners.has(id)) return false;
    this.#listeners.add(id);
    return true;
  }

  /** Speaker-slot encoders wanted: one per listener up to the slot count, started before anyone speaks. */
  get slotsWanted(): number {
    return Math.min(this.#top.slotCount, this.#listeners.size);
  }

  /** A participant left: out of the mix and of the listeners. */
  remove(id: string): void {
    this.#top.remove(id);
    this.#listeners.delete(id);
  }

  /** The next tick, with the levels of the last mix at `now`. */
  next(levels: ReadonlyMap<string, number>, now: number): MixTickPlan {
    const tick = this.#tick++;
    const changes = this.#top.process(levels, now);
    const routes: MixTickPlan['routes'] = [];
    for (const change of changes) {
      if (change.from !== undefined) routes.push({ id: change.from, source: SHARED, fromTick: tick + 1 });
      if (change.to !== undefined) routes.push({ id: change.to, source: slotSource(change.slot), fromTick: tick });
    }
    const slots = this.#top.slots;
    const voices = new Set(slots.filter((id): id is string => id !== undefined));
    return { tick, changes, routes, voices, ownMixes: [...voices].filter((id) => this.#listeners.has(id)), slots };
  }

  toJSON(): Record<string, unknown> {
    return this.#top.toJSON();
  }
}
