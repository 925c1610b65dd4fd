import { Chain, type LinkFactory } from '../chain.ts';
import { audioLevelLink } from './audioLevelLink.ts';
import { frameGateLink } from './frameGateLink.ts';
import { keyframeRequestLink } from './keyframeRequestLink.ts';
import { PublisherKeyframes, type KeyframeReason } from './PublisherKeyframes.ts';
import { noFigures, realClock, type IncomingControl, type IngestFigures, type LinkClock, type PublishedStream } from './PublishedStream.ts';
import { silenceGateLink } from './silenceGateLink.ts';

/** The links of a published stream, publisher first, decoder last; each binds only what it applies to. */
export const INCOMING_LINKS: readonly LinkFactory<PublishedStream, IncomingControl>[] = [
  keyframeRequestLink,
  frameGateLink,
  audioLevelLink,
  silenceGateLink,
];

export interface IncomingChainOptions {
  kind: 'audio' | 'video';
  codec: PublishedStream['codec'];
  pli: boolean;
  audioLevelId?: number;
  /** Decode its silence too: no silence gate (ServerConfig.decodeSilence). */
  decodeSilence?: boolean;
  /** Where the chain's packets go: the decoder's loopback socket. */
  forward: (packet: Buffer) => void;
  sendPli: (ssrc: number) => void;
  clock?: LinkClock;
  factories?: readonly LinkFactory<PublishedStream, IncomingControl>[];
}

/** One published stream's way from the publisher's peer connection to its decoder in the session. */
export class IncomingChain {
  readonly kind: 'audio' | 'video';
  readonly figures: IngestFigures = noFigures();
  /** Video: its publisher's keyframe decider, whose count is every PLI sent to it. */
  readonly keyframes: PublisherKeyframes | undefined;
  readonly #chain: Chain<PublishedStream, IncomingControl>;

  constructor(options: IncomingChainOptions) {
    this.kind = options.kind;
    this.keyframes = options.kind === 'video' ? new PublisherKeyframes() : undefined;
    const stream: PublishedStream = {
      kind: options.kind,
      codec: options.codec,
      pli: options.pli,
      ...(options.audioLevelId !== undefined ? { audioLevelId: options.audioLevelId } : {}),
      decodeSilence: options.decodeSilence ?? false,
      ...(this.keyframes ? { keyframes: this.keyframes } : {}),
      sendPli: options.sendPli,
      clock: options.clock ?? realClock,
      figures: this.figures,
    };
    this.#chain = new Chain(stream, options.factories ?? INCOMING_LINKS, options.forward);
  }

  /** The links this stream goes through, in order. */
  get links(): readonly string[] {
    return this.#chain.names;
  }

  push(packet: Buffer): void {
    this.#chain.push(packet);
  }

  /** The stream needs a keyframe (the session's decoder says why); the decider may ask now. */
  needKeyframe(reason: KeyframeReason): void {
    this.#chain.control({ type: 'keyframe', reason });
  }

  /** The session's count of frames the decoder has decoded (every 100 ms). */
  decoded(frames: number): void {
    this.#chain.control({ type: 'decoded', frames });
  }

  close(): void {
    this.#chain.close();
  }
}
