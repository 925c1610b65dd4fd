import { MAX_GRID_TILES } from './layout.ts';
import { tileFrame } from './tileFrames.ts';

/** What the roster keeps of a participant in the session: its latest pictures and their times. */
export interface RosterMember {
  readonly info: { readonly id: string; readonly video?: unknown; readonly receivesH264?: boolean };
  latestFrame?: Buffer;
  /** While the tile-source size changes: its last frame at the old size, for compositors of that size. */
  heldFrame?: Buffer;
  lastFrameAt: number;
  lastPliAt: number;
  /** Video frames decoded, across decoder restarts. */
  framesDecoded: number;
  removed: boolean;
}

export const newRosterState = (): Pick<RosterMember, 'lastFrameAt' | 'lastPliAt' | 'framesDecoded' | 'removed'> => ({
  lastFrameAt: 0,
  lastPliAt: 0,
  framesDecoded: 0,
  removed: false,
});

/**
 * The participants of a session in join order, their decoded pictures, and what they imply:
 * who has a tile and in which order, whether the composite is wanted in H.264, which frame each
 * tile shows. A decoded frame belongs to a pool; the roster gives back (`release`) every frame it
 * lets go of. Pure: the session passes the time.
 */
export class Roster<M extends RosterMember> {
  readonly #members = new Map<string, M>();
  readonly #release: (frame: Buffer) => void;

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

  /** A frame from a member's decoder at the size in use: 'first' is its first picture (it gets a tile). */
  frame(member: M, frame: Buffer, now: number): 'dropped' | 'first' | 'next' {
    if (member.removed) {
      this.#release(frame);
      return 'dropped';
    }
    member.framesDecoded++;
    const previous = member.latestFrame;
    member.latestFrame = frame;
    member.lastFrameAt = now;
    if (!previous) return 'first';
    this.#release(previous);
    return 'next';
  }

  /** The first frame of a member's decoder at a new size: its last frame at the old size is held for compositors of that size. */
  takeOver(member: M, frame: Buffer, now: number): void {
    if (member.removed) {
      this.#release(frame);
      return;
    }
    if (member.heldFrame) this.#release(member.heldFrame);
    member.heldFrame = member.latestFrame;
    member.latestFrame = frame;
    member.lastFrameAt = now;
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
