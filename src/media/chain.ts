/**
 * A media chain: small links that each do one thing to the packets of one stream, in the shape
 * of pion's interceptors. A chain is built per stream from a list of factories; a factory looks
 * at what was negotiated for the stream and returns no link when its job does not apply (no
 * audio level tap without the header extension, no picture ids for H.264). Packets go down the
 * chain (`handle`, `next`); control messages (a decoder's state, a change of source) go to every
 * link, from the far end up (`control`, `upstream`), as RTCP does in pion's.
 */

/** What a link may call: the links after it (packets), the links before it (control). */
export interface LinkPorts<C> {
  /** Passes a packet on to the rest of the chain; a link may call it later too (from a timer). */
  next(packet: Buffer): void;
  /** Tells the links before this one (e.g. "this stream needs a keyframe"). */
  upstream(message: C): void;
}

export interface Link<C> {
  /** One packet of the stream, going down the chain. */
  handle(packet: Buffer): void;
  /** A control message about the stream (see LinkPorts.upstream, Chain.control). */
  control?(message: C): void;
  /** Stops its timers; it is handed nothing more. */
  close?(): void;
}

/** Makes a link for one stream, or none when what it does was not negotiated for that stream. */
export interface LinkFactory<S, C> {
  readonly name: string;
  bind(stream: S, ports: LinkPorts<C>): Link<C> | undefined;
}

/** The links bound to one stream, in order, ending in `sink`. */
export class Chain<S, C> {
  readonly #links: Link<C>[] = [];
  readonly #sink: (packet: Buffer) => void;
  /** The names of the links bound, in order (what the stream goes through). */
  readonly names: string[] = [];
  #closed = false;

  constructor(stream: S, factories: readonly LinkFactory<S, C>[], sink: (packet: Buffer) => void) {
    this.#sink = sink;
    for (const factory of factories) {
      const at = this.#links.length;
      const link = factory.bind(stream, {
        next: (packet) => this.#from(at + 1, packet),
        upstream: (message) => this.#controlUpTo(at, message),
      });
      if (!link) continue;
      this.#links.push(link);
      this.names.push(factory.name);
    }
  }

  /** A packet into the first link. */
  push(packet: Buffer): void {
    this.#from(0, packet);
  }

  /** A control message to every link, the last first. */
  control(message: C): void {
    this.#controlUpTo(this.#links.length, message);
  }

  /** Closes every link. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links) link.close?.();
  }

  #from(index: number, packet: Buffer): void {
    if (this.#closed) return;
    const link = this.#links[index];
    if (link) link.handle(packet);
    else this.#sink(packet);
  }

  #controlUpTo(end: number, message: C): void {
    if (this.#closed) return;
    for (let i = end - 1; i >= 0; i--) this.#links[i]!.control?.(message);
  }
}
