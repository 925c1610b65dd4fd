import { createSocket, type Socket } from 'node:dgram';
import { MediaStreamTrack } from 'werift';
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

/** A reader of the outgoing RTP (the recorder): gets each packet as participants receive it. */
export type OutgoingRtpListener = (packet: Buffer) => void;

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
 * loopback UDP port, goes through the stream switcher (and, for a mix, the real-time pacer), and
 * out to every participant that receives it (fan-out). Each participant's sender gets a track of
 * its own (attach()), so each parses its own copy of every packet: werift's sender rewrites the
 * packet it is given (SSRC, sequence number) and keeps it for retransmission, and senders that
 * shared one track shared one packet object, so a NACK from any but the last was answered with
 * another participant's SSRC (test/integration/outgoingNack.test.ts).
 */
export class OutgoingStream {
  readonly kind: 'audio' | 'video';
  readonly label: string;
  readonly switcher: StreamSwitcher;
  /** Mixes only: drops what an encoder sends faster than real time (README: The mix). */
  readonly pacer: RealtimePacer | undefined;
  /** Mixes only: the jitter of the packets as they leave (RFC 3550 §6.4.1). */
  readonly jitter: InterarrivalJitter | undefined;
  readonly #tracks = new Set<MediaStreamTrack>();
  /** Mix packets held by the pacer until their time (at most a frame's worth). */
  readonly #held: { packet: Buffer; at: number }[] = [];
  #heldTimer: NodeJS.Timeout | undefined;
  readonly #socket: Socket;
  readonly #onSwitch: ((ssrc: number) => void) | undefined;
  readonly #pictureIds: Vp8PictureIdRewriter | undefined;
  readonly #listeners = new Set<OutgoingRtpListener>();
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
   * A track of its own for one participant's sender, fed every packet of this stream until the
   * track is stopped (the participant left) or the stream closes.
   */
  attach(): MediaStreamTrack {
    const track = new MediaStreamTrack({ kind: this.kind });
    if (this.#closed) track.stop();
    else this.#tracks.add(track);
    return track;
  }

  /** Participants' tracks fed now. */
  get attached(): number {
    return this.#tracks.size;
  }

  /** Adds a reader of the outgoing packets; returns its removal. */
  onRtp(listener: OutgoingRtpListener): () => void {
    this.#listeners.add(listener);
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
    for (const listener of this.#listeners) {
      try {
        listener(out);
      } catch {
        // A reader's failure is its own (the recorder reports its own state); the stream goes on.
      }
    }
    // A Buffer: each track parses its own copy, which its sender rewrites and keeps.
    for (const track of this.#tracks) {
      if (track.stopped) this.#tracks.delete(track);
      else track.writeRtp(out);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#meterTimer);
    clearTimeout(this.#heldTimer);
    this.#held.length = 0;
    this.#listeners.clear();
    this.#socket.close();
    for (const track of this.#tracks) track.stop();
    this.#tracks.clear();
  }
}
