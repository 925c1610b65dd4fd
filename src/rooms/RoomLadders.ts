import { createLogger } from '../../base/log/logger.ts';
import type { Ladder } from '../../mixer/logic/ladder.ts';
import type { SessionLike } from '../../mixer/SessionTypes.ts';
import { rungNeeds } from '../ladder/RungChooser.ts';
import { RungDemand } from '../ladder/RungDemand.ts';
import { ViewerLadder, type LadderRoom, type ViewerLadderFigures, type ViewerLink } from '../ladder/ViewerLadder.ts';
import type { ViewerChain } from '../media/outgoing/ViewerChain.ts';
import type { OutgoingSource } from '../media/outgoing/ViewerStream.ts';
import type { ServerMessage } from '../signaling/messages.ts';

const log = createLogger('RoomLadders');

/** How often each viewer is told its rung and estimate (the page shows them). */
const REPORT_MS = 2000;

/** One viewer's figures with the size of what it receives (0x0: audio only). */
export interface ViewerRungFigures extends ViewerLadderFigures {
  width: number;
  height: number;
}

export interface RoomLaddersOptions {
  room: string;
  /** The room's ladder, best first: the composite itself, then its lower rungs. */
  ladder: Ladder;
  audioKbps: number;
  /** The renditions, in the ladder's order (RoomMedia.ladder). */
  renditions: readonly OutgoingSource[];
  /** Runs `use` on the running session, if there is one. */
  session(use: (session: SessionLike) => void): void;
  /** Sends a viewer a message (the protocol's signaling, with our additions). */
  send(viewer: string, message: ServerMessage): void;
}

/**
 * The ladder of a room: each VP8 viewer's ViewerLadder, and which rungs they receive between
 * them (RungDemand), which the session encodes. Exists so that the room's wiring stays out of
 * rung choosing.
 */
export class RoomLadders {
  readonly #o: RoomLaddersOptions;
  readonly #viewers = new Map<string, ViewerLadder>();
  readonly #demand = new RungDemand();
  readonly #room: LadderRoom;
  readonly #reportTimer: NodeJS.Timeout;
  #expiryTimer: NodeJS.Timeout | undefined;
  #wanted: number[] = [];

  constructor(options: RoomLaddersOptions) {
    this.#o = options;
    this.#room = {
      renditions: options.renditions,
      needs: rungNeeds(options.ladder, options.audioKbps),
      receives: (viewer, rung) => this.#receives(viewer, rung),
    };
    this.#reportTimer = setInterval(() => {
      for (const id of this.#viewers.keys()) this.#report(id);
    }, REPORT_MS);
    this.#reportTimer.unref();
  }

  /** The lower rungs some viewer receives (or did lately): what a session encodes. */
  get wanted(): number[] {
    return this.#wanted;
  }

  /** A viewer of the VP8 composite: it starts on the top rung and moves as its link allows. */
  add(viewer: string, video: ViewerChain, audio?: ViewerChain): void {
    this.remove(viewer);
    const ladder = new ViewerLadder({ viewer, video, ...(audio ? { audio } : {}), room: this.#room });
    ladder.on('change', (figures) => {
      log.info({ room: this.#o.room, participant: viewer, ...this.#withSize(figures) }, 'viewer rung changed');
      this.#report(viewer);
    });
    this.#viewers.set(viewer, ladder);
  }

  /** Its peer is up: the ladder listens to its browser from now on. */
  connect(viewer: string, link: ViewerLink): void {
    this.#viewers.get(viewer)?.connect(link);
  }

  remove(viewer: string): void {
    this.#viewers.get(viewer)?.close();
    this.#viewers.delete(viewer);
  }

  /** The viewer's own limit (0: none; the ladder's length: audio only). False: no such viewer. */
  setCap(viewer: string, cap: number): boolean {
    const ladder = this.#viewers.get(viewer);
    ladder?.setCap(cap);
    return ladder !== undefined;
  }

  figures(): Record<string, ViewerRungFigures> {
    return Object.fromEntries([...this.#viewers].map(([id, ladder]) => [id, this.#withSize(ladder.figures())]));
  }

  close(): void {
    clearInterval(this.#reportTimer);
    clearTimeout(this.#expiryTimer);
    for (const ladder of this.#viewers.values()) ladder.close();
    this.#viewers.clear();
  }

  #withSize(figures: ViewerLadderFigures): ViewerRungFigures {
    const rung = this.#o.ladder[figures.rung];
    return { ...figures, width: rung?.width ?? 0, height: rung?.height ?? 0 };
  }

  #report(viewer: string): void {
    const ladder = this.#viewers.get(viewer);
    if (!ladder) return;
    const figures = ladder.figures();
    this.#o.send(viewer, {
      type: 'rung',
      rung: figures.rung,
      cap: figures.cap,
      rungs: this.#o.ladder.map(({ width, height, kbps }) => ({ width, height, kbps })),
      estimateKbps: figures.estimateBps === undefined ? null : Math.round(figures.estimateBps / 1000),
      receivingKbps: Math.round(figures.sendingBps / 1000),
    });
  }

  #receives(viewer: string, rung: number | undefined): void {
    this.#demand.set(viewer, rung, performance.now());
    this.#updateWanted();
  }

  #updateWanted(): void {
    clearTimeout(this.#expiryTimer);
    const now = performance.now();
    const wanted = this.#demand.wanted(now).filter((i) => i < this.#o.ladder.length - 1);
    const expiry = this.#demand.nextExpiry();
    if (expiry !== undefined) this.#expiryTimer = setTimeout(() => this.#updateWanted(), Math.max(0, expiry - now) + 1);
    if (wanted.join() === this.#wanted.join()) return;
    this.#wanted = wanted;
    this.#o.session((s) => s.setRungsWanted(wanted));
  }
}
