import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { clientPeerConfig, describeCodec, isKeyframeStart, offerAndAnswer, type ReceivedCodec } from '../bot/clientPeer.ts';
import type { BotVideoCodec } from '../bot/BotTypes.ts';
import { ReceiveCounter } from '../bot/ReceiveCounter.ts';
import { dropDefaultStun } from '../peers/weriftQuirks.ts';
import { seqAdd, tsAdd } from '../rtp/seq.ts';
import { SignalingClient, SignalingError } from '../signaling/SignalingClient.ts';
import { setVp8PictureId } from './packetize.ts';

const log = createLogger('LoadClient');

/** RFC 6464 audio level header extension, as the bot stamps it on its tone. */
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const PLI_RETRY_MS = 1000;
const PEER_CLOSE_MS = 3000;

export interface LoadClientOptions {
  url: string;
  room: string;
  name: string;
  token?: string;
  codec: BotVideoCodec;
  /** Publish audio and video (sendrecv), or watch and listen only (recvonly). */
  publish: boolean;
  connectTimeoutMs: number;
  /** Every received composite packet, with its arrival (performance.now()): the latency reader's input. */
  onVideo?: (rtp: RtpPacket, arrival: number) => void;
  /** Every received mix packet, with its arrival (tests decode what a client heard). */
  onAudio?: (rtp: RtpPacket, arrival: number) => void;
}

export type LoadClientEvents = {
  /** Lost after it had connected (peer failed or closed, socket closed, server `error`). */
  lost: [reason: string];
};

/** What a publisher handed to werift. */
export interface SentCounts {
  videoBytes: number;
  audioBytes: number;
}

const random32 = (): number => Math.floor(Math.random() * 0x100000000);
const random16 = (): number => Math.floor(Math.random() * 0x10000);

/**
 * One participant of a load test: the same protocol, the same werift peer and the same counters
 * as the bot (src/bot/), with no FFmpeg of its own. A publisher is handed pre-packetized media to
 * send (LoadTest paces it); every client counts what it receives.
 */
export class LoadClient extends TypedEmitter<LoadClientEvents> {
  readonly options: Readonly<LoadClientOptions>;
  readonly received = new ReceiveCounter();
  readonly sent: SentCounts = { videoBytes: 0, audioBytes: 0 };
  state: 'new' | 'connecting' | 'connected' | 'lost' | 'closed' = 'new';
  /** performance.now() at start(), at `joined`, at `connected`, at the first composite frame. */
  startedAt: number | undefined;
  joinedAt: number | undefined;
  connectedAt: number | undefined;
  firstFrameAt: number | undefined;
  lostReason: string | undefined;
  /** Longest gap between composite frames since each was last reset (the window's, the status line's). */
  readonly gaps = { window: 0, recent: 0 };
  /** Composite frames received in each second since markWindow(). */
  #perSecond: { start: number; counts: number[] } | undefined;
  #signaling: SignalingClient | undefined;
  #pc: RTCPeerConnection | undefined;
  readonly #transceivers: Partial<Record<'audio' | 'video', RTCRtpTransceiver>> = {};
  readonly #tracks: Partial<Record<'audio' | 'video', MediaStreamTrack>> = {};
  readonly #codecs = new Map<number, ReceivedCodec>();
  readonly #unsubscribes: (() => void)[] = [];
  #audioLevelId: number | undefined;
  #pliTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  // Outgoing RTP numbering, from random starting points (RFC 3550 §5.1).
  readonly #out = { video: { seq: random16(), ts: random32() }, audio: { seq: random16(), ts: random32() } };

  constructor(options: LoadClientOptions) {
    super();
    this.options = Object.freeze({ ...options });
  }

  get name(): string {
    return this.options.name;
  }

  /** Joins, negotiates and waits until connected; rejects (and cleans up) on any failure or after the timeout. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('LoadClient.start() may be called once');
    this.state = 'connecting';
    this.startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SignalingError('timeout', `not connected after ${this.options.connectTimeoutMs / 1000} s`)), this.options.connectTimeoutMs);
    });
    try {
      await Promise.race([this.#connect(), timeout]);
      this.state = 'connected';
      this.connectedAt = performance.now();
    } catch (error) {
      await this.close();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async #connect(): Promise<void> {
    const o = this.options;
    const signaling = await SignalingClient.connect(o.url, { timeoutMs: o.connectTimeoutMs });
    this.#signaling = signaling;
    if (this.state !== 'connecting') throw new Error('closed while connecting');
    let failConnect: (error: Error) => void = () => {};
    const failed = new Promise<never>((_, reject) => (failConnect = reject));
    failed.catch(() => {});
    this.#unsubscribes.push(
      signaling.subscribe('error', ({ code, message }) => {
        if (this.state === 'connecting') failConnect(new SignalingError(code, message));
        else this.#lose(`server error ${code}: ${message}`);
      }),
      signaling.subscribe('close', ({ code }) => {
        if (this.state === 'connecting') failConnect(new SignalingError('closed', `the server closed the connection (${code})`));
        else this.#lose(`the server closed the connection (${code})`);
      }),
    );
    const joined = await Promise.race([signaling.join(o.room, o.name, { timeoutMs: o.connectTimeoutMs, ...(o.token ? { token: o.token } : {}) }), failed]);
    this.joinedAt = performance.now();
    const pc = new RTCPeerConnection(clientPeerConfig(o.codec, joined.iceServers));
    this.#pc = pc;
    const connected = new Promise<void>((resolve) => {
      this.#unsubscribes.push(
        pc.connectionStateChange.subscribe((state) => {
          if (state === 'connected') resolve();
          else if (state === 'failed' || state === 'closed') {
            if (this.state === 'connecting') failConnect(new Error(`peer connection ${state}`));
            else this.#lose(`peer connection ${state}`);
          }
        }).unSubscribe,
      );
    });
    // Exactly two transceivers, audio first, then video (the signaling protocol's flow, step 3).
    for (const kind of ['audio', 'video'] as const) {
      const track = o.publish ? new MediaStreamTrack({ kind }) : undefined;
      const transceiver = track ? pc.addTransceiver(track, { direction: 'sendrecv' }) : pc.addTransceiver(kind, { direction: 'recvonly' });
      if (track) this.#tracks[kind] = track;
      this.#transceivers[kind] = transceiver;
      this.#unsubscribes.push(
        transceiver.onTrack.subscribe((remote) => {
          this.#unsubscribes.push(remote.onReceiveRtp.subscribe((rtp) => this.#onRtp(kind, rtp)).unSubscribe);
        }).unSubscribe,
      );
    }
    dropDefaultStun(pc, joined.iceServers);
    await Promise.race([offerAndAnswer(pc, signaling, this.#unsubscribes), failed]);
    for (const kind of ['audio', 'video'] as const) {
      for (const c of this.#transceivers[kind]?.codecs ?? []) this.#codecs.set(c.payloadType, describeCodec(c));
    }
    this.#audioLevelId = this.#transceivers.audio?.headerExtensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id;
    await Promise.race([connected, failed]);
  }

  /** Sends one video frame (its payloads in order); `pictureId` is written into VP8 payloads. */
  sendVideo(payloads: readonly Buffer[], rtpTicks: number, vp8PictureId?: number): void {
    const track = this.#tracks.video;
    if (!track || this.state !== 'connected') return;
    const out = this.#out.video;
    const timestamp = tsAdd(out.ts, rtpTicks);
    payloads.forEach((payload, i) => {
      const data = vp8PictureId === undefined ? payload : setVp8PictureId(payload, vp8PictureId);
      const header = new RtpHeader({ sequenceNumber: out.seq, timestamp, marker: i === payloads.length - 1 });
      out.seq = seqAdd(out.seq, 1);
      this.sent.videoBytes += data.length;
      track.writeRtp(new RtpPacket(header, data));
    });
  }

  /** Sends one Opus frame; `levelDbov` (0-127, RFC 6464) goes in the audio level extension with the voice bit when below 127. */
  sendAudio(payload: Buffer, rtpTicks: number, levelDbov: number): void {
    const track = this.#tracks.audio;
    if (!track || this.state !== 'connected') return;
    const out = this.#out.audio;
    const header = new RtpHeader({ sequenceNumber: out.seq, timestamp: tsAdd(out.ts, rtpTicks), marker: false });
    out.seq = seqAdd(out.seq, 1);
    if (this.#audioLevelId !== undefined) {
      header.extensions.push({ id: this.#audioLevelId, payload: Buffer.from([levelDbov < 127 ? 0x80 | levelDbov : 127]) });
    }
    this.sent.audioBytes += payload.length;
    track.writeRtp(new RtpPacket(header, payload));
  }

  #onRtp(kind: 'audio' | 'video', rtp: RtpPacket): void {
    if (this.state !== 'connected' && this.state !== 'connecting') return;
    const arrival = performance.now();
    if (kind === 'audio') {
      this.received.audio(rtp.payload.length);
      this.options.onAudio?.(rtp, arrival);
      return;
    }
    const keyframe = isKeyframeStart(this.#codecs.get(rtp.header.payloadType), rtp);
    const { ssrc, sequenceNumber, timestamp } = rtp.header;
    const { newFrame, gapMs } = this.received.video({ ssrc, sequenceNumber, timestamp, payloadBytes: rtp.payload.length, keyframe }, arrival);
    if (newFrame && this.firstFrameAt === undefined) this.firstFrameAt = arrival;
    if (newFrame && this.#perSecond) {
      const second = Math.floor((arrival - this.#perSecond.start) / 1000);
      this.#perSecond.counts[second] = (this.#perSecond.counts[second] ?? 0) + 1;
    }
    if (gapMs !== undefined) {
      this.gaps.window = Math.max(this.gaps.window, gapMs);
      this.gaps.recent = Math.max(this.gaps.recent, gapMs);
    }
    // As a browser does: ask for a keyframe (RFC 4585 PLI) until one arrives.
    if (keyframe) this.#stopAskingForKeyframes();
    else if (this.received.counts.keyframes === 0 && !this.#pliTimer) this.#askForKeyframes(rtp.header.ssrc);
    this.options.onVideo?.(rtp, arrival);
  }

  /** Opens a measuring window at `start` (performance.now()): its longest gap and frames per second start from here. */
  markWindow(start: number): void {
    this.gaps.window = 0;
    this.#perSecond = { start, counts: [] };
  }

  /** Frames received in each whole second of the window, up to `end`. */
  framesPerSecond(end: number): number[] {
    const window = this.#perSecond;
    if (!window) return [];
    return Array.from({ length: Math.floor((end - window.start) / 1000) }, (_, i) => window.counts[i] ?? 0);
  }

  #askForKeyframes(ssrc: number): void {
    const receiver = this.#transceivers.video?.receiver;
    if (!receiver) return;
    const send = (): void => void receiver.sendRtcpPLI(ssrc).catch(() => {});
    send();
    this.#pliTimer = setInterval(send, PLI_RETRY_MS);
  }

  #stopAskingForKeyframes(): void {
    clearInterval(this.#pliTimer);
    this.#pliTimer = undefined;
  }

  #lose(reason: string): void {
    if (this.state !== 'connected') return;
    this.state = 'lost';
    this.lostReason = reason;
    log.warn({ name: this.name, reason }, 'load test client lost');
    this.safeEmit('lost', reason);
  }

  /** Leaves and closes the peer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.state !== 'lost') this.state = 'closed';
      this.#stopAskingForKeyframes();
      if (this.#signaling?.joined && !this.#signaling.closed) this.#signaling.leave();
      for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
      for (const track of Object.values(this.#tracks)) track.stop();
      if (this.#pc) {
        let timer: NodeJS.Timeout | undefined;
        const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, PEER_CLOSE_MS)));
        await Promise.race([this.#pc.close().catch(() => {}), limit]);
        clearTimeout(timer);
      }
      await this.#signaling?.close();
    })();
    return this.#closing;
  }
}
