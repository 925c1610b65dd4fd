import { MediaStreamTrack, RtpHeader, RtpPacket } from 'werift';
import { isPaddingOnly } from '../../rtp/padding.ts';
import { payloadOffset } from '../../rtp/rtpHeader.ts';
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
  /** Undefined while paused. */
  #current: number | undefined;
  #packetSource: number;
  #closed = false;
  /** Bytes handed to its sender (media and padding), for the estimate of what its link carries. */
  bytesSent = 0;
  /** Called when it shows a new source (a switch made at that source's keyframe). */
  onSwitched: ((source: number) => void) | undefined;

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
    this.#chain = new Chain(stream, options.factories ?? VIEWER_LINKS, (packet) => {
      this.bytesSent += packet.length;
      this.track.writeRtp(isPaddingOnly(packet) ? weriftPadding(packet) : packet);
    });
    this.#subscribe(source);
  }

  /** The source it shows now (until a switch has happened, the one it switches from); undefined while paused. */
  get source(): number | undefined {
    return this.#current;
  }

  /** Sends nothing more until the next switchTo(): the viewer keeps its last picture. */
  pause(): void {
    if (this.#closed || this.#current === undefined) return;
    for (const id of [...this.#sources.keys()]) this.#drop(id);
    this.#current = undefined;
    this.#chain.control({ type: 'pause' });
  }

  /** Sends padding-only packets of these sizes now, in the stream's numbering (a probe of the link). */
  pad(sizes: readonly number[]): void {
    if (!this.#closed && sizes.length > 0) this.#chain.control({ type: 'pad', sizes });
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
      () => (source.id === this.#current || this.#sources.size === 1 ? this.close() : this.#drop(source.id)),
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
    this.onSwitched?.(id);
    for (const source of [...this.#sources.keys()]) if (source !== id) this.#drop(source);
  }

  #drop(source: number): void {
    this.#sources.get(source)?.();
    this.#sources.delete(source);
  }
}

/**
 * werift's sender parses a packet and drops its padding, yet keeps the P bit: the packet would
 * leave malformed. Handed as a parsed packet whose payload is the padding, it leaves as it came.
 */
function weriftPadding(packet: Buffer): RtpPacket {
  const header = RtpHeader.deSerialize(packet);
  header.paddingSize = 0;
  return new RtpPacket(header, packet.subarray(payloadOffset(packet)));
}
