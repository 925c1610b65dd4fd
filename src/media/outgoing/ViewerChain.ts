import { MediaStreamTrack } from 'werift';
import { Chain, type LinkFactory } from '../chain.ts';
import { VIEWER_LINKS } from './viewerLinks.ts';
import type { OutgoingSource, ViewerControl, ViewerStream } from './ViewerStream.ts';

export interface ViewerChainOptions {
  now?: () => number;
  factories?: readonly LinkFactory<ViewerStream, ViewerControl>[];
}

/**
 * What one viewer receives of one kind: packets of its source, through its own links (a copy of
 * its own, continuity across a change of source, picture ids), into a track of its own that its
 * sender sends. `switchTo` moves it to another source of the same codec (make before break: the
 * old one's packets flow until the new one's first keyframe).
 */
export class ViewerChain {
  /** The track the viewer's sender sends (stopped when the viewer leaves: the chain then closes). */
  readonly track: MediaStreamTrack;
  readonly #chain: Chain<ViewerStream, ViewerControl>;
  readonly #kind: 'audio' | 'video';
  readonly #codec: OutgoingSource['codec'];
  /** Sources it takes packets from (two while it switches), by id, with their removal. */
  readonly #sources = new Map<number, () => void>();
  #current: number;
  #packetSource: number;
  #closed = false;

  constructor(source: OutgoingSource, options: ViewerChainOptions = {}) {
    this.#kind = source.kind;
    this.#codec = source.codec;
    this.#current = source.id;
    this.#packetSource = source.id;
    this.track = new MediaStreamTrack({ kind: source.kind });
    const stream: ViewerStream = {
      kind: source.kind,
      codec: source.codec,
      source: () => this.#packetSource,
      switched: (id) => this.#switched(id),
      now: options.now ?? (() => performance.now()),
    };
    this.#chain = new Chain(stream, options.factories ?? VIEWER_LINKS, (packet) => this.track.writeRtp(packet));
    this.#subscribe(source);
  }

  /** The source it shows now (until a switch has happened, the one it switches from). */
  get source(): number {
    return this.#current;
  }

  /** Moves the viewer to `source`, at its next keyframe. */
  switchTo(source: OutgoingSource): void {
    if (this.#closed) return;
    if (source.kind !== this.#kind || source.codec !== this.#codec) {
      throw new Error(`a ${this.#codec} viewer cannot switch to a ${source.codec} source`);
    }
    // A switch still waiting for its keyframe is called off.
    for (const id of [...this.#sources.keys()]) if (id !== this.#current && id !== source.id) this.#drop(id);
    if (!this.#sources.has(source.id)) this.#subscribe(source);
    this.#chain.control({ type: 'switch', source: source.id });
  }

  /** Stops taking packets and stops its track. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const remove of this.#sources.values()) remove();
    this.#sources.clear();
    this.#chain.close();
    this.track.stop();
  }

  #subscribe(source: OutgoingSource): void {
    const remove = source.onRtp(
      (packet) => this.#onPacket(source.id, packet),
      // Its current source gone, a viewer has nothing more to show.
      () => (source.id === this.#current ? this.close() : this.#drop(source.id)),
    );
    this.#sources.set(source.id, remove);
  }

  #onPacket(source: number, packet: Buffer): void {
    if (this.track.stopped) return this.close();
    this.#packetSource = source;
    this.#chain.push(packet);
  }

  #switched(id: number): void {
    this.#current = id;
    for (const source of [...this.#sources.keys()]) if (source !== id) this.#drop(source);
  }

  #drop(source: number): void {
    this.#sources.get(source)?.();
    this.#sources.delete(source);
  }
}
