import { createSocket, type Socket } from 'node:dgram';
import type { MediaStreamTrack } from 'werift';
import { ViewerChain } from '../media/outgoing/ViewerChain.ts';
import type { OutgoingSource } from '../media/outgoing/ViewerStream.ts';
import { RateMeter } from '../metrics/RateMeter.ts';
import { InterarrivalJitter } from '../rtp/InterarrivalJitter.ts';
import { RealtimePacer } from '../rtp/RealtimePacer.ts';
import { isRtp, readMarker, readSsrc, readTimestamp, writeTimestamp } from '../rtp/rtpHeader.ts';
import { StreamSwitcher } from '../rtp/StreamSwitcher.ts';
import { isH264KeyframeStart } from '../rtp/h264.ts';
import { isVp8KeyframeStart, Vp8PictureIdRewriter } from '../rtp/vp8.ts';

export interface OutgoingStreamOptions {
  kind: 'audio' | 'video';
  /** For video: how a keyframe is recognised, where a new source may take over. */
  codec?: 'VP8' | 'H264';
  label: string;
  /** Called when the stream switched to a new source (e.g. a new compositor). */
  onSwitch?: (ssrc: number) => void;
}

/** A reader of the outgoing RTP (a viewer's chain, the recorder): gets each packet as it leaves. */
export type OutgoingRtpListener = (packet: Buffer) => void;

/** Tells the streams apart for a viewer that moves between them (ViewerChain). */
let lastId = 0;

/**
 * A mix packet (one 20 ms Opus frame) may come 15 ms before or after its time (the encoder's
 * jitter); up to 30 ms before, it waits for its time; in a burst 80 ms after it, it is a backlog (an encoder holds at most 80 ms: see
 * EncoderBacklog); late for 200 ms, the mix lost that time upstream.
 */
const MIX_PACING = { frameTicks: 960, slackMs: 15, holdMs: 30, staleMs: 80, resetAfterMs: 200 };

/** How often the frame and byte rates are sampled, and over how long they are averaged. */
const METER_SAMPLE_MS = 1000;
const METER_WINDOW_MS = 5000;

/**
 * One stream the server sends (the composite, or a mix): RTP from the mixer arrives on a
 * loopback UDP port, goes through the stream switcher (one continuous stream across the
 * compositors or encoders that make it), for a mix the real-time pacer, for VP8 the picture ids,
 * and out to every reader (fan-out): each viewer's own chain (attach(), ViewerChain), the recorder.
 */
export class OutgoingStream implements OutgoingSource {
  readonly id = ++lastId;
  readonly kind: 'audio' | 'video';
  readonly codec: 'VP8' | 'H264' | 'opus';
  readonly label: string;
  readonly switcher: StreamSwitcher;
  /** Mixes only: drops what an encoder sends faster than real time (README: The mix). */
  readonly pacer: RealtimePacer | undefined;
  /** Mixes only: the jitter of the packets as they leave (RFC 3550 §6.4.1). */
  readonly jitter: InterarrivalJitter | undefined;
  /** Mix packets held by the pacer until their time (at most a frame's worth). */
  readonly #held: { packet: Buffer; at: number }[] = [];
  #heldTimer: NodeJS.Timeout | undefined;
  readonly #socket: Socket;
  readonly #onSwitch: ((ssrc: number) => void) | undefined;
  readonly #pictureIds: Vp8PictureIdRewriter | undefined;
  readonly #listeners = new Map<OutgoingRtpListener, (() => void) | undefined>();
  readonly #frameRate = new RateMeter(METER_WINDOW_MS);
  readonly #byteRate = new RateMeter(METER_WINDOW_MS);
  readonly #meterTimer: NodeJS.Timeout;
  packets = 0;
  bytes = 0;
  /** Video: frames (packets with the marker bit, RFC 7741 §4.1); audio: packets (one frame each). */
  frames = 0;
  #closed = false;

  static async create(options: OutgoingStreamOptions): Promise<OutgoingStream> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new OutgoingStream(options, socket);
  }

  private constructor(options: OutgoingStreamOptions, socket: Socket) {
    this.kind = options.kind;
    this.codec = options.kind === 'audio' ? 'opus' : (options.codec ?? 'VP8');
    this.label = options.label;
    this.#socket = socket;
    this.#onSwitch = options.onSwitch;
    if (options.kind === 'audio') {
      this.pacer = new RealtimePacer({ clockRate: 48000, ...MIX_PACING });
      this.jitter = new InterarrivalJitter(48000);
    }
    if (options.kind === 'video' && options.codec !== 'H264') this.#pictureIds = new Vp8PictureIdRewriter();
    this.switcher = new StreamSwitcher(
      options.kind === 'video'
        ? {
            clockRate: 90000,
            canSwitchAt: options.codec === 'H264' ? isH264KeyframeStart : isVp8KeyframeStart,
            retime: true,
            onlyExpected: true,
          }
        : { clockRate: 48000, canSwitchAt: () => true },
    );
    socket.on('message', (packet) => this.#onPacket(packet));
    socket.on('error', () => {});
    this.#meterTimer = setInterval(() => {
      const now = performance.now();
      this.#frameRate.sample(now, this.frames);
      this.#byteRate.sample(now, this.bytes);
    }, METER_SAMPLE_MS);
    this.#meterTimer.unref();
  }

  /** Frames per second sent, over the last few seconds. */
  get frameRate(): number {
    return this.#frameRate.rate();
  }

  /** Bits per second sent (RTP packets, headers included), over the last few seconds. */
  get bitrate(): number {
    return this.#byteRate.rate() * 8;
  }

  /**
   * A viewer of this stream: a chain of its own (ViewerChain) ending in a track of its own for
   * its sender, fed until the track is stopped (the participant left) or the stream closes.
   */
  attach(): MediaStreamTrack {
    return new ViewerChain(this).track;
  }

  /** Adds a reader of the outgoing packets, and what to call when the stream closes; returns its removal. */
  onRtp(listener: OutgoingRtpListener, closed?: () => void): () => void {
    if (this.#closed) {
      closed?.();
      return () => {};
    }
    this.#listeners.set(listener, closed);
    return () => this.#listeners.delete(listener);
  }

  /** The loopback port the mixer sends this stream's RTP to. */
  get port(): number {
    return this.#socket.address().port;
  }

  /** Announces the next source (see StreamSwitcher.expect). */
  expect(ssrc: number, options: { skipFirstFrame?: boolean } = {}): void {
    this.switcher.expect(ssrc, options);
  }

  #onPacket(packet: Buffer): void {
    if (this.#closed || !isRtp(packet)) return;
    const now = performance.now();
    const out = this.switcher.process(packet, now, this.#onSwitch);
    if (!out) return;
    if (!this.pacer) return this.#send(out, now);
    const paced = this.pacer.admit(readTimestamp(out), now);
    if (!paced.send) return;
    writeTimestamp(out, paced.timestamp);
    // Held until its time, and whatever comes meanwhile behind it, in order.
    if (paced.at <= now && this.#held.length === 0) return this.#send(out, now);
    this.#held.push({ packet: out, at: Math.max(paced.at, this.#held.at(-1)?.at ?? 0) });
    this.#releaseHeld();
  }

  #releaseHeld(): void {
    if (this.#heldTimer) return;
    const next = this.#held[0];
    if (!next) return;
    this.#heldTimer = setTimeout(() => {
      this.#heldTimer = undefined;
      const now = performance.now();
      while (this.#held.length && this.#held[0]!.at <= now + 1) this.#send(this.#held.shift()!.packet, now);
      this.#releaseHeld();
    }, Math.max(0, next.at - performance.now()));
  }

  #send(out: Buffer, now: number): void {
    if (this.#closed) return;
    this.jitter?.push(readTimestamp(out), now);
    this.#pictureIds?.rewrite(out, readSsrc(out));
    this.packets++;
    this.bytes += out.length;
    if (this.kind === 'audio' || readMarker(out)) this.frames++;
    for (const listener of this.#listeners.keys()) {
      try {
        listener(out);
      } catch {
        // A reader's failure is its own (the recorder reports its own state); the stream goes on.
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#meterTimer);
    clearTimeout(this.#heldTimer);
    this.#held.length = 0;
    const closed = [...this.#listeners.values()];
    this.#listeners.clear();
    this.#socket.close();
    for (const call of closed) call?.();
  }
}
