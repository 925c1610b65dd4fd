import { MAX_GRID_TILES } from './layout.ts';
import { tileFrame } from './tileFrames.ts';

/** What the roster keeps of a participant in the session: its decoders (of type D), its latest pictures and their times. */
export interface RosterMember<D> {
  readonly info: { readonly id: string; readonly video?: unknown; readonly receivesH264?: boolean };
  videoDecoder?: D;
  /** A video decoder at a new tile-source size, until its first frame (then it is `videoDecoder`). */
  resizingDecoder?: D;
  audioDecoder?: D;
  latestFrame?: Buffer;
  /** While the tile-source size changes: its last frame at the old size, for compositors of that size. */
  heldFrame?: Buffer;
  lastFrameAt: number;
  /** Video frames decoded, across decoder restarts. */
  framesDecoded: number;
  removed: boolean;
}

export const newRosterState = (): Pick<RosterMember<unknown>, 'lastFrameAt' | 'framesDecoded' | 'removed'> => ({
  lastFrameAt: 0,
  framesDecoded: 0,
  removed: false,
});

/** What a member's decoder delivered (`close`: a decoder it replaced, to stop). */
export interface FrameOutcome<D> {
  is: 'dropped' | 'first' | 'next' | 'moved';
  close?: D;
}

/**
 * The participants of a session in join order, their decoders and decoded pictures, and what
 * they imply: who has a tile and in which order, whether the composite is wanted in H.264, which
 * frame each tile shows, which decoder takes over or restarts. A decoded frame belongs to a pool;
 * the roster gives back (`release`) every frame it lets go of. Pure: the session passes the time
 * and runs the decoders (of type D).
 */
export class Roster<D, M extends RosterMember<D>> {
  readonly #members = new Map<string, M>();
  readonly #release: (frame: Buffer) => void;
  /** Decoders that died and are started again. */
  decoderRestarts = 0;

  constructor(release: (frame: Buffer) => void) {
    this.#release = release;
  }

  get size(): number {
    return this.#members.size;
  }

  has(id: string): boolean {
    return this.#members.has(id);
  }

  get(id: string): M | undefined {
    return this.#members.get(id);
  }

  values(): IterableIterator<M> {
    return this.#members.values();
  }

  add(member: M): void {
    if (this.#members.has(member.info.id)) throw new Error(`participant ${member.info.id} is already in the session`);
    this.#members.set(member.info.id, member);
  }

  /** Takes a member out, its frames back to their pool. */
  remove(id: string): M | undefined {
    const member = this.#members.get(id);
    if (!member) return undefined;
    this.#members.delete(id);
    member.removed = true;
    for (const frame of [member.latestFrame, member.heldFrame]) if (frame) this.#release(frame);
    return member;
  }

  /** Everyone out (the session closes). */
  clear(): M[] {
    const members = [...this.#members.values()];
    this.#members.clear();
    for (const m of members) m.removed = true;
    return members;
  }

  /** Someone receives the composite in H.264. */
  get receivesH264(): boolean {
    return [...this.#members.values()].some((m) => m.info.receivesH264 === true);
  }

  /**
   * Participants that get a tile: those with a decoded picture (and `newcomer`, whose first one
   * is coming), in join order; `focus` (the speaker or presenter: tile 0 is the large one) first.
   */
  tileIds(focus?: string, newcomer?: string): string[] {
    const ids = [...this.#members.values()].filter((m) => m.latestFrame !== undefined || m.info.id === newcomer).map((m) => m.info.id);
    const at = focus ? ids.indexOf(focus) : -1;
    if (at > 0) ids.unshift(...ids.splice(at, 1));
    return ids.slice(0, MAX_GRID_TILES);
  }

  /** `decoder` of `member` started (`replacing`: at a new tile-source size, in place of a stopped one). */
  decoderStarted(member: M, kind: 'video' | 'audio', decoder: D, replacing: boolean): D | undefined {
    if (kind === 'audio') member.audioDecoder = decoder;
    // A decoder at a new size takes over at its first frame (`videoFrame`); any other at once.
    else if (replacing && member.videoDecoder !== undefined) {
      const old = member.resizingDecoder;
      member.resizingDecoder = decoder;
      return old;
    } else member.videoDecoder = decoder;
    return undefined;
  }

  /** `decoder` of `member` died: start it again ('resize': at the new size), or not (one replaced already). */
  decoderDied(member: M, kind: 'video' | 'audio', decoder: D): 'restart' | 'resize' | 'ignore' {
    const resizing = member.resizingDecoder === decoder;
    if (resizing) member.resizingDecoder = undefined;
    else if (kind === 'video' && member.videoDecoder !== decoder) return 'ignore';
    this.decoderRestarts++;
    return resizing ? 'resize' : 'restart';
  }

  /**
   * A frame from a member's video decoder at `now`: 'first' is its first picture (it gets a tile);
   * 'moved': the first of a decoder at a new size, which replaces the old one (to close), whose
   * last frame is held for compositors of the old size.
   */
  videoFrame(member: M, decoder: D, frame: Buffer, now: number): FrameOutcome<D> {
    if (member.removed) {
      this.#release(frame);
      return { is: 'dropped' };
    }
    const previous = member.latestFrame;
    member.latestFrame = frame;
    member.lastFrameAt = now;
    if (decoder !== member.videoDecoder) {
      const old = member.videoDecoder;
      member.videoDecoder = decoder;
      if (member.resizingDecoder === decoder) member.resizingDecoder = undefined;
      if (member.heldFrame) this.#release(member.heldFrame);
      member.heldFrame = previous;
      return { is: 'moved', ...(old !== undefined ? { close: old } : {}) };
    }
    member.framesDecoded++;
    if (!previous) return { is: 'first' };
    this.#release(previous);
    return { is: 'next' };
  }

  /** Every member's video decoder is `moved` (or it has none). */
  allMoved(moved: (decoder: D) => boolean): boolean {
    return [...this.#members.values()].every((m) => m.videoDecoder === undefined || moved(m.videoDecoder));
  }

  /** A member's decoders, to stop. */
  decodersOf(member: M): D[] {
    return [member.videoDecoder, member.resizingDecoder, member.audioDecoder].filter((d) => d !== undefined);
  }

  /** No compositor of the old size is left: the frames held for one go back. */
  releaseHeld(): void {
    for (const member of this.#members.values()) {
      if (member.heldFrame) this.#release(member.heldFrame);
      member.heldFrame = undefined;
    }
  }

  /**
   * One frame per tile of a compositor of tiles `ids` (one black frame when it has none), of the
   * size of `tiles.black`: while the tile-source size changes, a tile whose picture is of the
   * other size shows its held frame, or black.
   */
  tileFrames(ids: readonly string[], now: number, placeholderAfterMs: number, tiles: { black: Buffer; placeholder: Buffer }): Buffer[] {
    if (ids.length === 0) return [tiles.black];
    const bytes = tiles.black.length;
    return ids.map((id) => {
      const member = this.#members.get(id);
      const frame = tileFrame(member, now, placeholderAfterMs, tiles);
      return frame.length === bytes ? frame : member?.heldFrame?.length === bytes ? member.heldFrame : tiles.black;
    });
  }
}
