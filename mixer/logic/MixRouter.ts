/**
 * Routes the Opus RTP of a few mix encoders (the shared mix, one per speaker slot) to every
 * listener's port, each listener's packets made one continuous stream of its own (RFC 3550:
 * its own SSRC, sequence numbers going on by one, timestamps 960 per 20 ms tick, RFC 7587).
 *
 * A listener moves between encoders when the speakers change. The move happens at a tick: the
 * router knows which tick each encoder's packet carries (the session tells it which tick each
 * PCM frame written to an encoder belongs to; the n-th packet's timestamp is n frames after the
 * first), and takes the old encoder's packets before that tick and the new one's from it on. So
 * a speaker who becomes a listener of the shared mix never gets a packet of that mix from before
 * its voice left it: nobody hears themselves, even for the 20-40 ms an encoder takes.
 *
 * Pure: packets in, packets out with their port; the caller owns the sockets.
 */

const FRAME_TICKS = 960;
/** Frames remembered per encoder (the tick each was written at): 2.56 s at 20 ms. */
const FRAME_HISTORY = 128;
const RTP_HEADER = 12;

interface Source {
  ssrc: number;
  /** Tick of each written frame, by frame number modulo FRAME_HISTORY. */
  frameTicks: number[];
  framesWritten: number;
  /** The RTP timestamp of its first packet: frame 0. */
  firstTs: number | undefined;
}

interface Listener {
  port: number;
  ssrc: number;
  seq: number;
  tsBase: number;
  source: string;
  next: { source: string; fromTick: number } | undefined;
  lastTick: number | undefined;
}

export interface RoutedPacket {
  port: number;
  packet: Buffer;
}

export class MixRouter {
  readonly #sources = new Map<string, Source>();
  readonly #bySsrc = new Map<number, string>();
  readonly #listeners = new Map<string, Listener>();
  readonly #random: () => number;
  forwarded = 0;
  dropped = 0;

  /** `random` gives a 32-bit number (SSRCs, starting points; RFC 3550 §5.1). */
  constructor(random: () => number = () => Math.floor(Math.random() * 0x100000000)) {
    this.#random = random;
  }

  /** A new encoder for `source` (a slot, the shared mix), or one that replaces it after a restart. */
  setSource(source: string, ssrc: number): void {
    const old = this.#sources.get(source);
    if (old) this.#bySsrc.delete(old.ssrc);
    this.#sources.set(source, { ssrc, frameTicks: new Array<number>(FRAME_HISTORY).fill(-1), framesWritten: 0, firstTs: undefined });
    this.#bySsrc.set(ssrc, source);
  }

  /** The encoder of `source` was given the PCM of `tick`. */
  wrote(source: string, tick: number): void {
    const s = this.#sources.get(source);
    if (!s) return;
    s.frameTicks[s.framesWritten % FRAME_HISTORY] = tick;
    s.framesWritten++;
  }

  /** A listener, sent to `port`, hearing `source` until told otherwise. */
  addListener(id: string, port: number, source: string): void {
    const random = this.#random();
    this.#listeners.set(id, { port, ssrc: (random >>> 0) || 1, seq: random & 0xffff, tsBase: this.#random() >>> 0, source, next: undefined, lastTick: undefined });
  }

  removeListener(id: string): void {
    this.#listeners.delete(id);
  }

  /** From `fromTick` on, `id` hears `source`. */
  route(id: string, source: string, fromTick: number): void {
    const l = this.#listeners.get(id);
    if (!l) return;
    if (l.next === undefined && l.source === source) return;
    if (l.next?.source === source) return;
    // A move back before the last one took effect: the first one never happens.
    if (l.next && source === l.source) l.next = undefined;
    else l.next = { source, fromTick };
  }

  /** The encoder a listener hears now (or is about to). */
  sourceOf(id: string): string | undefined {
    const l = this.#listeners.get(id);
    return l?.next?.source ?? l?.source;
  }

  /** One packet from an encoder: a copy for each listener that hears it, rewritten as that listener's. */
  process(packet: Buffer): RoutedPacket[] {
    if (packet.length < RTP_HEADER) return [];
    const name = this.#bySsrc.get(packet.readUInt32BE(8));
    const source = name === undefined ? undefined : this.#sources.get(name);
    if (name === undefined || !source) {
      this.dropped++;
      return [];
    }
    const tick = this.#tickOf(source, packet.readUInt32BE(4));
    if (tick === undefined) {
      this.dropped++;
      return [];
    }
    const out: RoutedPacket[] = [];
    for (const l of this.#listeners.values()) {
      const fromOld = l.source === name && (!l.next || tick < l.next.fromTick);
      const fromNew = l.next?.source === name && tick >= l.next.fromTick;
      if (!fromOld && !fromNew) continue;
      if (fromNew) {
        l.source = name;
        l.next = undefined;
      }
      if (l.lastTick !== undefined && tick <= l.lastTick) continue;
      l.lastTick = tick;
      const copy = Buffer.from(packet);
      copy.writeUInt16BE(l.seq, 2);
      copy.writeUInt32BE((l.tsBase + tick * FRAME_TICKS) >>> 0, 4);
      copy.writeUInt32BE(l.ssrc, 8);
      l.seq = (l.seq + 1) & 0xffff;
      out.push({ port: l.port, packet: copy });
    }
    this.forwarded += out.length;
    return out;
  }

  /** The tick whose PCM a packet carries: its frame number from its timestamp (RFC 7587: 960 per 20 ms). */
  #tickOf(source: Source, ts: number): number | undefined {
    source.firstTs ??= ts;
    const frame = Math.round((((ts - source.firstTs) >>> 0) | 0) / FRAME_TICKS);
    if (frame < 0 || frame >= source.framesWritten || source.framesWritten - frame > FRAME_HISTORY) return undefined;
    const tick = source.frameTicks[frame % FRAME_HISTORY]!;
    return tick < 0 ? undefined : tick;
  }

  toJSON(): Record<string, unknown> {
    return {
      forwarded: this.forwarded,
      dropped: this.dropped,
      listeners: Object.fromEntries([...this.#listeners].map(([id, l]) => [id, l.next ? `${l.source}→${l.next.source}@${l.next.fromTick}` : l.source])),
    };
  }
}
