import type { SessionParticipant } from '../../mixer/SessionTypes.ts';
import type { ParticipantSummary } from '../signaling/messages.ts';
import type { NegotiatedMedia, ParticipantSignal } from './ParticipantTypes.ts';

/** What the members' record needs of a participant (Participant has it; tests give plain objects). */
export interface MemberParticipant {
  readonly id: string;
  readonly name: string;
  /** Listed to nobody (a hidden or recorder token). */
  readonly hidden: boolean;
}

/**
 * One participant in a room: everything the room holds for it, in one place. The room's parts
 * (its session, its media, its stats, its broadcasts) read a participant from here and nowhere else.
 */
export interface Member<P extends MemberParticipant, M extends { port: number }> {
  readonly participant: P;
  /** Its signaling connection (kicks, broadcasts). */
  readonly signal: ParticipantSignal;
  /** What its offer negotiated; set when the room attaches its media. */
  media?: NegotiatedMedia;
  /** The mix it hears (everyone but itself): a participant that publishes audio has its own. */
  mix?: M;
}

/** The composite is VP8, or H.264 for a client that offered no VP8 (README: Signaling, Codecs). */
export function receivesH264(media: NegotiatedMedia): boolean {
  return media.plan.video?.receives === true && media.plan.video.codec === 'H264';
}

/**
 * The members of a room, by participant id: the single record of who is in the room and what the
 * room holds for each. Pure bookkeeping (no I/O): the room opens and closes what a record names.
 * A record removed is gone for good: a step that finds its id missing knows the participant left.
 */
export class RoomMembers<P extends MemberParticipant, M extends { port: number }> {
  readonly #members = new Map<string, Member<P, M>>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#members.size;
  }

  get full(): boolean {
    return this.#members.size >= this.#capacity;
  }

  has(id: string): boolean {
    return this.#members.has(id);
  }

  get(id: string): Member<P, M> | undefined {
    return this.#members.get(id);
  }

  /** Adds a participant; throws if it is in already (an id is never reused). */
  add(participant: P, signal: ParticipantSignal): Member<P, M> {
    if (this.#members.has(participant.id)) throw new Error(`participant ${participant.id} is in the room already`);
    const member: Member<P, M> = { participant, signal };
    this.#members.set(participant.id, member);
    return member;
  }

  /** Records what a participant's offer negotiated; false if it has left. */
  setMedia(id: string, media: NegotiatedMedia): boolean {
    const member = this.#members.get(id);
    if (member) member.media = media;
    return member !== undefined;
  }

  /** Records a participant's own mix; false if it has left (the caller then closes the mix). */
  setMix(id: string, mix: M): boolean {
    const member = this.#members.get(id);
    if (member) member.mix = mix;
    return member !== undefined;
  }

  /** Removes a participant and returns its record (undefined: not in the room). */
  remove(id: string): Member<P, M> | undefined {
    const member = this.#members.get(id);
    this.#members.delete(id);
    return member;
  }

  /** Removes everyone; returns their records. */
  clear(): Member<P, M>[] {
    const all = [...this.#members.values()];
    this.#members.clear();
    return all;
  }

  list(): Member<P, M>[] {
    return [...this.#members.values()];
  }

  /** The roster the participants see (the protocol's `participants` message): hidden ones left out. */
  roster(): ParticipantSummary[] {
    return this.list()
      .filter((m) => !m.participant.hidden)
      .map(({ participant }) => ({ id: participant.id, name: participant.name }));
  }

  /** The participants' own mixes. */
  mixes(): M[] {
    return this.list().flatMap((m) => (m.mix ? [m.mix] : []));
  }

  /** What the session is told of a participant: its negotiated media and where its mix goes. */
  forSession(id: string): SessionParticipant | undefined {
    const member = this.#members.get(id);
    if (!member) return undefined;
    const { participant, media, mix } = member;
    return {
      id: participant.id,
      name: participant.name,
      ...(media?.video ? { video: media.video } : {}),
      ...(media?.audio ? { audio: media.audio } : {}),
      ...(mix ? { mixPort: mix.port } : {}),
      ...(media && receivesH264(media) ? { receivesH264: true } : {}),
    };
  }
}
