import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaStreamTrack, RTCPeerConnection, RtcpHeader, RtcpPayloadSpecificFeedback, RtpPacket, type RTCRtpTransceiver } from 'werift';
import {
  checkRecordingCodec,
  fileSourceArgs,
  probeStreamsArgs,
  receiverArgs,
  syntheticSourceArgs,
  type SourceOutputs,
} from './botArgs.ts';
import { onKeyframeRequest, type KeyframeRequestKind } from '../peers/keyframeRequests.ts';
import { dropDefaultStun } from '../peers/weriftQuirks.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { bindLoopbackUdp } from '../../base/net/loopbackSocket.ts';
import { createLogger } from '../../base/log/logger.ts';
import { allocateRtpPort, releaseRtpPort } from '../../base/net/ports.ts';
import { rtpSdp, type RtpStream } from '../../base/rtp/sdp.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { OPUS_PAYLOAD_TYPE } from '../peers/peerConfig.ts';
import { isH264KeyframeStart } from '../rtp/h264.ts';
import { FIR_FORMAT, firBody } from '../rtp/rtcpFeedback.ts';
import { payloadOffset } from '../rtp/rtpHeader.ts';
import { isVp8KeyframeStart } from '../rtp/vp8.ts';
import { seqAdd, tsAdd } from '../rtp/seq.ts';
import { SignalingClient, SignalingError } from '../signaling/SignalingClient.ts';
import type { Bot, BotEvents, BotOptions, BotStats } from './BotTypes.ts';
import { clientPeerConfig, describeCodec, isKeyframeStart, offerAndAnswer, VIDEO_CODECS, type ReceivedCodec } from './clientPeer.ts';
import { emptyReceiveCounts, ReceiveCounter } from './ReceiveCounter.ts';
import { dropOutgoingRtp } from './lossyUplink.ts';

const log = createLogger('Bot');

/** RFC 6464 audio level header extension. */
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/**
 * FFmpeg's `sine` source has a fixed peak amplitude of 1/8: an RMS level of -21 dBov. The bot
 * stamps that level (with the voice-activity bit) on every tone packet, as a browser stamps its
 * microphone's, so that the server gets from a bot what it gets from a browser, with a level
 * known exactly; silence (`--tone 0`) is 127, the RFC 6464 floor. The server's speaker detection
 * measures the decoded audio (mixer/logic/SpeakerDetector.ts), not this extension.
 */
const TONE_LEVEL_DBOV = 21;
const SILENCE_LEVEL_DBOV = 127;

/** How long FFmpeg may take from spawn to its first RTP packet. */
const SOURCE_FIRST_PACKET_MS = 10_000;
/** Ask the server for a keyframe this often until the first one arrives (RFC 4585 PLI). */
const PLI_RETRY_MS = 1000;
const PEER_CLOSE_MS = 3000;
/** How long the recorder waits for video before it records the audio alone. */
const RECORD_VIDEO_WAIT_MS = 5000;
/** When, after the recorder starts, it asks the server for a keyframe. */
const RECORD_PLI_DELAYS_MS = [700, 2000];
/** A stopping recorder that has not exited after this long gets one more packet. */
const RECORDER_KICK_MS = 250;
/** One 20 ms Opus frame in RTP timestamp units (RFC 7587: the clock is always 48 kHz). */
const OPUS_FRAME_TICKS = 960;
const FFPROBE_TIMEOUT_MS = 10_000;

export function createBot(options: BotOptions): Bot {
  return new BotImpl(options);
}

type Kind = 'audio' | 'video';

interface Recorder {
  process: FfmpegProcess;
  socket: Socket;
  dir: string;
  ports: number[];
  /** Where each kind's packets go, and which payload type the SDP announced for it. */
  targets: Partial<Record<Kind, { port: number; payloadType: number }>>;
}

class BotImpl extends TypedEmitter<BotEvents> implements Bot {
  readonly options: Readonly<BotOptions>;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'closed' = 'new';
  #signaling: SignalingClient | undefined;
  #pc: RTCPeerConnection | undefined;
  #transceivers: Partial<Record<Kind, RTCRtpTransceiver>> = {};
  #outTracks: Partial<Record<Kind, MediaStreamTrack>> = {};
  #sourceSockets: Partial<Record<Kind, Socket>> = {};
  #source: FfmpegProcess | undefined;
  #sourceOutputs: SourceOutputs | undefined;
  #onSourcePacket: () => void = () => {};
  #resizing = false;
  #recorder: Recorder | undefined;
  #frameLog: WriteStream | undefined;
  #audioLevelExtensionId: number | undefined;
  #videoSending: 'on' | 'off' | 'resuming' = 'on';
  readonly #unsubscribes: (() => void)[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #statsTimer: NodeJS.Timeout | undefined;
  #pliTimer: NodeJS.Timeout | undefined;
  /** Rejects the running `start()` when something it waits for can no longer happen. */
  #failStart: ((error: Error) => void) | undefined;
  #stopPromise: Promise<BotStats> | undefined;
  #teardownPromise: Promise<void> | undefined;

  // Counters.
  readonly #stats: BotStats = {
    ...emptyReceiveCounts(),
    fps: 0,
    sentVideoPackets: 0,
    sentAudioPackets: 0,
    sentVideoBytes: 0,
    sentAudioBytes: 0,
    uplinkDropped: 0,
    keyframeRequests: 0,
  };
  readonly #received = new ReceiveCounter(this.#stats);
  #framesAtLastTick = 0;
  #remoteVideoSsrc: number | undefined;
  /** FIR command sequence number: each new request carries the next (RFC 5104 §4.3.1.1). */
  #firSequence = 0;
  #connectedAt: number | undefined;
  #recorderStarting: Promise<void> | undefined;
  #lastRecordedAudio: RtpPacket | undefined;
  readonly #receivedCodecs: Partial<Record<Kind, Map<number, ReceivedCodec>>> = {};

  constructor(options: BotOptions) {
    super();
    this.options = Object.freeze({ ...options });
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  get stats(): BotStats {
    return { ...this.#stats };
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error('Bot.start() may be called once');
    this.#state = 'starting';
    const failed = new Promise<never>((_, reject) => {
      this.#failStart = reject;
    });
    failed.catch(() => {});
    const timeoutMs = this.options.connectTimeoutMs;
    const timer = setTimeout(() => {
      this.#failStart?.(new SignalingError('timeout', `not connected after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    try {
      await Promise.race([this.#startSteps(), failed]);
      this.#state = 'running';
    } catch (error) {
      // Steps still in flight see the state change and stop before creating anything more.
      if (this.#state === 'starting') this.#state = 'stopping';
      await this.#teardown();
      this.#state = 'closed';
      throw error;
    } finally {
      clearTimeout(timer);
      this.#failStart = undefined;
    }
  }

  stop(): Promise<BotStats> {
    if (this.#stopPromise) return this.#stopPromise;
    this.#stopPromise = (async () => {
      if (this.#state === 'starting') this.#failStart?.(new Error('stopped while starting'));
      if (this.#state !== 'closed') this.#state = 'stopping';
      await this.#teardown();
      this.#state = 'closed';
      const stats = this.stats;
      this.safeEmit('left', stats);
      return stats;
    })();
    return this.#stopPromise;
  }

  async #startSteps(): Promise<void> {
    const o = this.options;
    // What the bot publishes: decided before joining, so that a bad file fails fast.
    const publish = await this.#publishedKinds();
    // A TypeError now rather than after the media arrived.
    if (o.recordPath) checkRecordingCodec(o.recordPath, VIDEO_CODECS[o.codec].name);
    if (o.frameLogPath) {
      const frameLog = await openAppend(o.frameLogPath);
      if (this.#state !== 'starting') frameLog.end();
      this.#assertStarting();
      this.#frameLog = frameLog;
    }

    const signaling = await SignalingClient.connect(o.url, { timeoutMs: o.connectTimeoutMs });
    if (this.#state !== 'starting') {
      await signaling.close();
      throw new Error('stopped while starting');
    }
    this.#signaling = signaling;
    this.#unsubscribes.push(
      signaling.subscribe('participants', (participants) => this.safeEmit('participants', participants)),
      signaling.subscribe('speaker', (id) => this.safeEmit('speaker', id)),
      signaling.subscribe('error', (problem) => {
        if (this.#state === 'starting') this.#failStart?.(new SignalingError(problem.code, problem.message));
        else this.safeEmit('error', problem);
      }),
      signaling.subscribe('close', ({ code, reason }) => {
        const error = new SignalingError('closed', `the server closed the connection (${code}${reason ? ` ${reason}` : ''})`);
        if (this.#state === 'starting') this.#failStart?.(error);
        else if (this.#state === 'running') this.#die(error);
      }),
    );
    // Emitted from the frame itself, so it precedes `participants` and `speaker` sent right after.
    this.#unsubscribes.push(
      signaling.subscribe('joined', (joined) => {
        this.safeEmit('joined', { id: joined.id, room: joined.room, participants: joined.participants });
      }),
    );
    const joined = await signaling.join(o.room, o.name, {
      timeoutMs: o.connectTimeoutMs,
      ...(o.token !== undefined ? { token: o.token } : {}),
    });
    this.#assertStarting();

    const pc = new RTCPeerConnection(clientPeerConfig(o.codec, joined.iceServers));
    this.#pc = pc;
    const connected = new Promise<void>((resolve) => {
      const { unSubscribe } = pc.connectionStateChange.subscribe((state) => {
        log.debug({ state }, 'peer connection state');
        if (state === 'connected') resolve();
        else if (state === 'failed' || state === 'closed') {
          const error = new Error(`peer connection ${state}`);
          if (this.#state === 'starting') this.#failStart?.(error);
          else if (this.#state === 'running') this.#die(error);
        }
      });
      this.#unsubscribes.push(unSubscribe);
    });

    // Exactly two transceivers, audio first, then video (the signaling protocol's flow, step 3).
    for (const kind of ['audio', 'video'] as const) {
      const out = publish.has(kind) ? new MediaStreamTrack({ kind }) : undefined;
      const transceiver = out
        ? pc.addTransceiver(out, { direction: 'sendrecv' })
        : pc.addTransceiver(kind, { direction: 'recvonly' });
      if (out) this.#outTracks[kind] = out;
      this.#transceivers[kind] = transceiver;
      this.#unsubscribes.push(
        transceiver.onTrack.subscribe((track) => {
          const { unSubscribe } = track.onReceiveRtp.subscribe((rtp) => this.#onReceivedRtp(kind, rtp));
          this.#unsubscribes.push(unSubscribe);
        }).unSubscribe,
      );
    }
    dropDefaultStun(pc, joined.iceServers);
    await offerAndAnswer(pc, signaling, this.#unsubscribes);
    this.#afterAnswer(publish);
    if (publish.has('video')) this.#countKeyframeRequests();
    await connected;
    this.#assertStarting();

    this.#connectedAt = Date.now();
    if (o.uplinkLoss) this.#loseUplink(o.uplinkLoss);
    if (o.recordPath) {
      this.#later(RECORD_VIDEO_WAIT_MS, () => this.#maybeStartRecorder());
    }
    if (publish.size > 0) await this.#startSource(publish);
    this.#assertStarting();
    this.#statsTimer = setInterval(() => this.#tick(), o.statsIntervalMs);
    this.safeEmit('connected', this.#connectedAt);
  }

  /**
   * Called right before `start()` creates a socket, a peer or a process: once start has failed
   * or `stop()` was called, nothing new may be created (teardown may already be past it).
   */
  #assertStarting(): void {
    if (this.#state !== 'starting') throw new Error('stopped while starting');
  }

  /** The kinds the bot sends: none for a viewer, what the file holds for a file source. */
  async #publishedKinds(): Promise<Set<Kind>> {
    const o = this.options;
    if (o.viewer) return new Set();
    const kinds = new Set<Kind>(['audio', 'video']);
    if (o.source.kind === 'file') {
      const found = await probeStreamTypes(o.source.path);
      for (const kind of ['audio', 'video'] as const) if (!found.has(kind)) kinds.delete(kind);
      if (kinds.size === 0) throw new Error(`${o.source.path} has neither video nor audio`);
    }
    if (!o.video) kinds.delete('video');
    return kinds;
  }

  /** Reads what the answer negotiated: the codecs the server will send, the audio level id. */
  #afterAnswer(publish: Set<Kind>): void {
    for (const kind of ['audio', 'video'] as const) {
      const transceiver = this.#transceivers[kind];
      if (!transceiver) continue;
      this.#receivedCodecs[kind] = new Map(transceiver.codecs.map((c) => [c.payloadType, describeCodec(c)]));
      log.debug({ kind, codecs: transceiver.codecs.map((c) => `${c.payloadType} ${c.mimeType}`) }, 'negotiated');
    }
    const video = this.#transceivers.video;
    const expected = VIDEO_CODECS[this.options.codec];
    if (publish.has('video') && video && video.sender.codec?.mimeType.toLowerCase() !== expected.mimeType) {
      throw new Error(`the server did not accept ${expected.name} for the bot's video (got ${video.sender.codec?.mimeType ?? 'nothing'})`);
    }
    const audio = this.#transceivers.audio;
    if (publish.has('audio') && audio && this.options.source.kind === 'synthetic') {
      this.#audioLevelExtensionId = audio.headerExtensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id;
    }
  }

  /** Counts the server's PLIs and FIRs; FFmpeg cannot make a keyframe on request, so the bot's one-second keyframe interval answers them. */
  #countKeyframeRequests(): void {
    const video = this.#transceivers.video;
    if (!video) return;
    this.#unsubscribes.push(
      onKeyframeRequest(video, (what) => {
        this.#stats.keyframeRequests++;
        log.debug({ what }, 'keyframe requested by the server (served by the 1 s keyframe interval)');
      }),
    );
  }

  async #startSource(publish: Set<Kind>): Promise<void> {
    const o = this.options;
    const outputs: SourceOutputs = {};
    for (const kind of publish) {
      const track = this.#outTracks[kind];
      if (!track) continue;
      const payloadType = kind === 'video' ? VIDEO_CODECS[o.codec].payloadType : OPUS_PAYLOAD_TYPE;
      const socket = await bindLoopback();
      if (this.#state !== 'starting') socket.close();
      this.#assertStarting();
      this.#sourceSockets[kind] = socket;
      socket.on('message', (packet) => {
        // FFmpeg's RTCP sender reports arrive on the same port (botArgs `rtcpport`): keep RTP only.
        if (packet.length < 12 || packet[0]! >> 6 !== 2 || (packet[1]! & 0x7f) !== payloadType) return;
        this.#onSourcePacket();
        this.#sendRtp(kind, track, packet);
      });
      const rtp = { port: socket.address().port, payloadType, ssrc: randomInt(1, 0x7fffffff) };
      if (kind === 'video') {
        outputs.video = { ...rtp, codec: VIDEO_CODECS[o.codec].name, width: o.width, height: o.height, fps: o.fps, bitrateKbps: o.videoBitrateKbps };
      } else {
        outputs.audio = rtp;
      }
    }
    this.#sourceOutputs = outputs;
    this.#assertStarting();
    await this.#runSource(outputs);
  }

  /** Starts the media source FFmpeg and waits for its first RTP packet. */
  async #runSource(outputs: SourceOutputs): Promise<void> {
    const o = this.options;
    const gotFirstPacket = new Promise<void>((resolve) => {
      this.#onSourcePacket = resolve;
    });
    const args =
      o.source.kind === 'synthetic'
        ? syntheticSourceArgs({ color: o.source.color, toneHz: o.source.toneHz, timecode: o.source.timecode === true, ...outputs })
        : fileSourceArgs({ path: o.source.path, loop: o.source.loop, ...outputs });
    const source = new FfmpegProcess({ name: `bot source ${o.name}`, args, background: true });
    this.#source = source;
    source.stdout.resume(); // the rtp muxer prints its SDP there
    source.on('exit', ({ code, expected, stderrTail }) => {
      if (expected || this.#state !== 'running' || source !== this.#source) return;
      if (code === 0 && o.source.kind === 'file') {
        log.debug({ path: o.source.path }, 'media file ended: the bot goes on receiving');
        this.safeEmit('sourceended');
        return;
      }
      this.#die(new Error(`the media source (FFmpeg) exited with code ${code}: ${stderrTail}`));
    });
    await source.untilReady(withTimeout(gotFirstPacket, SOURCE_FIRST_PACKET_MS, 'no RTP from FFmpeg'), 'its first RTP packet');
  }

  /**
   * Changes the published video's size, as a browser adapting to its bandwidth does: between
   * the configured size and half of it. A new encoder starts (its first frame a keyframe at the
   * new size) under a new SSRC, which werift's sender folds into the same outgoing stream.
   */
  async toggleVideoSize(): Promise<void> {
    const video = this.#sourceOutputs?.video;
    if (this.#state !== 'running' || !video || this.#resizing) return;
    this.#resizing = true;
    try {
      const full = { width: this.options.width, height: this.options.height };
      const half = { width: evenHalf(full.width), height: evenHalf(full.height) };
      const next = video.width === full.width ? half : full;
      const outputs: SourceOutputs = {
        ...this.#sourceOutputs,
        video: { ...video, ...next, ssrc: randomInt(1, 0x7fffffff) },
        ...(this.#sourceOutputs?.audio ? { audio: { ...this.#sourceOutputs.audio, ssrc: randomInt(1, 0x7fffffff) } } : {}),
      };
      this.#sourceOutputs = outputs;
      await this.#source?.stop();
      if (this.#state !== 'running') return;
      await this.#runSource(outputs);
      this.safeEmit('videosize', next);
    } finally {
      this.#resizing = false;
    }
  }

  setVideoSending(sending: boolean): void {
    if (sending === (this.#videoSending !== 'off')) return;
    this.#videoSending = sending ? 'resuming' : 'off';
    if (!sending) this.safeEmit('videosending', false);
  }

  requestKeyframe(kind: KeyframeRequestKind): number | undefined {
    const receiver = this.#transceivers.video?.receiver;
    const ssrc = this.#remoteVideoSsrc;
    if (this.#state !== 'running' || !receiver || ssrc === undefined) return undefined;
    const at = Date.now();
    if (kind === 'PLI') {
      receiver.sendRtcpPLI(ssrc).catch((error: unknown) => log.debug({ err: error }, 'PLI not sent'));
    } else {
      // werift's ESM entry has no FullIntraRequest to build: it parses one from its bytes.
      const body = firBody(receiver.rtcpSsrc, ssrc, ++this.#firSequence);
      const fir = RtcpPayloadSpecificFeedback.deSerialize(body, new RtcpHeader({ count: FIR_FORMAT }));
      receiver.dtlsTransport.sendRtcp([fir]).catch((error: unknown) => log.debug({ err: error }, 'FIR not sent'));
    }
    return at;
  }

  #loseUplink(share: number): void {
    const transports = new Set(Object.values(this.#transceivers).map((t) => t.dtlsTransport));
    for (const transport of transports) {
      this.#unsubscribes.push(dropOutgoingRtp(transport, share, () => this.#stats.uplinkDropped++));
    }
  }

  #sendRtp(kind: Kind, track: MediaStreamTrack, packet: Buffer): void {
    const payloadBytes = packet.length - payloadOffset(packet);
    if (kind === 'video') {
      if (this.#videoSending === 'off') return;
      if (this.#videoSending === 'resuming') {
        const keyframe = this.options.codec === 'h264' ? isH264KeyframeStart(packet) : isVp8KeyframeStart(packet);
        if (!keyframe) return;
        this.#videoSending = 'on';
        this.safeEmit('videosending', true);
      }
      this.#stats.sentVideoPackets++;
      this.#stats.sentVideoBytes += payloadBytes;
      track.writeRtp(packet);
      return;
    }
    this.#stats.sentAudioPackets++;
    this.#stats.sentAudioBytes += payloadBytes;
    const id = this.#audioLevelExtensionId;
    if (id === undefined || this.options.source.kind !== 'synthetic') {
      track.writeRtp(packet);
      return;
    }
    // RFC 6464: one byte, V bit (voice activity) and the level in -dBov.
    const level = this.options.source.toneHz > 0 ? 0x80 | TONE_LEVEL_DBOV : SILENCE_LEVEL_DBOV;
    const rtp = RtpPacket.deSerialize(packet);
    rtp.header.extensions.push({ id, payload: Buffer.from([level]) });
    // werift rewrites ssrc, seq and timestamp per sender: hand it bytes, not a shared object.
    track.writeRtp(rtp.serialize());
  }

  #onReceivedRtp(kind: Kind, rtp: RtpPacket): void {
    if (this.#state !== 'running' && this.#state !== 'starting') return;
    const { header, payload } = rtp;
    const codec = this.#receivedCodecs[kind]?.get(header.payloadType);
    if (kind === 'audio') {
      this.#received.audio(payload.length);
    } else {
      this.#remoteVideoSsrc = header.ssrc;
      const keyframe = isKeyframeStart(codec, rtp);
      const now = Date.now();
      const { newFrame } = this.#received.video({ ...header, payloadBytes: payload.length, keyframe }, now);
      if (newFrame) this.#frameLog?.write(`${now} ${header.timestamp}${keyframe ? ' k' : ''}\n`);
      if (keyframe) {
        this.#stopAskingForKeyframes();
      } else if (this.#stats.keyframes === 0 && !this.#pliTimer) {
        this.#askForKeyframes(header.ssrc);
      }
    }
    if (!this.#recorder) this.#maybeStartRecorder();
    const target = this.#recorder?.targets[kind];
    if (target && target.payloadType === header.payloadType) {
      this.#recorder?.socket.send(rtp.serialize(), target.port, '127.0.0.1');
      if (kind === 'audio') this.#lastRecordedAudio = rtp;
    }
  }

  /** PLI (RFC 4585 6.3.1) now and every second until a keyframe arrives. */
  #askForKeyframes(ssrc: number): void {
    const receiver = this.#transceivers.video?.receiver;
    if (!receiver) return;
    const send = (): void => {
      log.debug({ ssrc }, 'asking the server for a keyframe');
      receiver.sendRtcpPLI(ssrc).catch((error: unknown) => log.debug({ err: error }, 'PLI not sent'));
    };
    send();
    this.#pliTimer = setInterval(send, PLI_RETRY_MS);
  }

  #stopAskingForKeyframes(): void {
    if (this.#pliTimer) clearInterval(this.#pliTimer);
    this.#pliTimer = undefined;
  }

  /**
   * The recorder starts with the media that actually arrives, not with what was negotiated: an
   * SDP that announces video which never comes makes FFmpeg give up after its analysis window
   * ("dimensions not set"). So it starts at the first video packet (with audio too, if the
   * audio transceiver receives), or audio-only once audio has flowed for RECORD_VIDEO_WAIT_MS
   * without any video. What arrives before FFmpeg has bound its ports is not recorded.
   */
  #maybeStartRecorder(): void {
    const path = this.options.recordPath;
    if (!path || this.#recorder || this.#recorderStarting || !this.#alive()) return;
    if (this.#connectedAt === undefined) return;
    const receives = (kind: Kind): boolean => {
      const direction = this.#transceivers[kind]?.currentDirection;
      return direction === 'recvonly' || direction === 'sendrecv';
    };
    let kinds: Kind[] | undefined;
    if (this.#stats.videoBytes > 0) kinds = receives('audio') ? ['video', 'audio'] : ['video'];
    else if (this.#stats.audioPackets > 0 && (!receives('video') || Date.now() - this.#connectedAt >= RECORD_VIDEO_WAIT_MS)) {
      kinds = ['audio'];
    }
    if (!kinds) return;
    this.#recorderStarting = this.#startRecorder(path, kinds);
    this.#recorderStarting.catch((error: unknown) => {
      if (!this.#alive()) return;
      const failure = error instanceof Error ? error : new Error(String(error));
      if (this.#state === 'starting') this.#failStart?.(failure);
      else this.#die(failure);
    });
  }

  async #startRecorder(path: string, kinds: Kind[]): Promise<void> {
    const streams: RtpStream[] = [];
    const targets: Recorder['targets'] = {};
    const ports: number[] = [];
    let dir: string | undefined;
    let socket: Socket | undefined;
    let args: string[];
    try {
      for (const kind of kinds) {
        const first = this.#transceivers[kind]?.codecs[0];
        const codec = first ? describeCodec(first) : undefined;
        if (kind === 'video' && (codec?.name === 'VP8' || codec?.name === 'H264')) {
          const port = await allocateRtpPort();
          ports.push(port);
          streams.push({ kind: 'video', port, payloadType: codec.payloadType, codec: codec.name, clockRate: codec.clockRate });
          targets.video = { port, payloadType: codec.payloadType };
        } else if (kind === 'audio' && codec?.name === 'opus') {
          const port = await allocateRtpPort();
          ports.push(port);
          streams.push({ kind: 'audio', port, payloadType: codec.payloadType, codec: 'opus', channels: codec.channels, clockRate: codec.clockRate });
          targets.audio = { port, payloadType: codec.payloadType };
        }
      }
      if (streams.length === 0) {
        throw new Error('nothing to record: the server sends neither VP8/H.264 video nor Opus audio');
      }
      dir = await mkdtemp(join(tmpdir(), 'mcu-bot-'));
      const sdpPath = join(dir, 'received.sdp');
      await writeFile(sdpPath, rtpSdp('mcu-bot', streams));
      args = receiverArgs({ sdpPath, outputPath: path });
      socket = await bindLoopback();
      if (!this.#alive()) throw new Error('stopped before the recorder started');
    } catch (error) {
      socket?.close();
      for (const port of ports) releaseRtpPort(port);
      if (dir) await rm(dir, { recursive: true, force: true });
      throw error;
    }
    // Nothing awaited between the check above and here: teardown cannot have passed us.
    const ffmpeg = new FfmpegProcess({ name: `bot recorder ${this.options.name}`, args, background: true });
    this.#recorder = { process: ffmpeg, socket, dir, ports, targets };
    ffmpeg.stdout.resume();
    ffmpeg.on('exit', ({ code, expected, stderrTail }) => {
      if (expected || !this.#alive()) return;
      const error = new Error(`the recorder (FFmpeg) exited with code ${code}: ${stderrTail}`);
      if (this.#state === 'starting') this.#failStart?.(error);
      else this.#die(error);
    });
    log.debug({ kinds: Object.keys(targets), path }, 'recorder started');
    if (!targets.video) return;
    // FFmpeg binds its ports within a few hundred ms, and the keyframe that started the stream
    // went by before that: ask for new ones (RFC 4585 PLI) once it listens.
    for (const delay of RECORD_PLI_DELAYS_MS) {
      this.#later(delay, () => {
        const ssrc = this.#remoteVideoSsrc;
        if (ssrc === undefined) return;
        log.debug({ ssrc }, 'asking the server for a keyframe for the recorder');
        this.#transceivers.video?.receiver.sendRtcpPLI(ssrc).catch(() => {});
      });
    }
  }

  /**
   * A stopping recorder whose input has gone quiet (the server left first) is still blocked in a
   * read: hand it one more audio packet, a repeat of the last 20 ms one moved forward one frame,
   * so its read returns and it sees the SIGINT.
   */
  #kickRecorder(recorder: Recorder): void {
    const last = this.#lastRecordedAudio;
    const target = recorder.targets.audio;
    if (!last || !target || recorder.process.exited) return;
    log.debug('the recorder input is quiet: one repeated audio packet lets it see the SIGINT');
    const copy = RtpPacket.deSerialize(last.serialize());
    copy.header.sequenceNumber = seqAdd(copy.header.sequenceNumber, 1);
    copy.header.timestamp = tsAdd(copy.header.timestamp, OPUS_FRAME_TICKS);
    recorder.socket.send(copy.serialize(), target.port, '127.0.0.1');
  }

  #alive(): boolean {
    return this.#state === 'starting' || this.#state === 'running';
  }

  #tick(): void {
    this.#stats.fps = this.#stats.videoFrames - this.#framesAtLastTick;
    this.#framesAtLastTick = this.#stats.videoFrames;
    this.safeEmit('stats', this.stats);
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  /** A fatal failure while running: report it, then stop (the owner decides the exit code). */
  #die(error: Error): void {
    if (this.#state !== 'running') return;
    log.error({ err: error }, 'bot failed');
    this.safeEmit('died', error);
    void this.stop();
  }

  /** Stops everything the bot started, once, in an order that lets the recorder finish its file. */
  #teardown(): Promise<void> {
    this.#teardownPromise ??= this.#doTeardown();
    return this.#teardownPromise;
  }

  async #doTeardown(): Promise<void> {
    if (this.#statsTimer) clearInterval(this.#statsTimer);
    this.#stopAskingForKeyframes();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();

    // The recorder goes first, while media still flows: FFmpeg notices SIGINT only when a read
    // returns, and a recorder blocked on a silent socket would be SIGTERMed at 3 s and fail to
    // write its trailer ("Immediate exit requested"), measured here with FFmpeg 5.1.
    await this.#recorderStarting?.catch(() => {});
    const recorder = this.#recorder;
    if (recorder) {
      const stopped = recorder.process.stop();
      const kick = setTimeout(() => this.#kickRecorder(recorder), RECORDER_KICK_MS);
      await stopped;
      clearTimeout(kick);
      recorder.socket.close();
      for (const port of recorder.ports) releaseRtpPort(port);
      await rm(recorder.dir, { recursive: true, force: true });
    }

    await this.#source?.stop();
    if (this.#signaling?.joined) this.#signaling.leave();
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    if (this.#pc) await withTimeout(this.#pc.close(), PEER_CLOSE_MS, 'peer close').catch((e: unknown) => log.warn({ err: e }, 'peer close'));
    await this.#signaling?.close();

    for (const socket of Object.values(this.#sourceSockets)) socket.close();
    this.#sourceSockets = {};
    const frameLog = this.#frameLog;
    if (frameLog) await new Promise<void>((resolve) => frameLog.end(resolve));
  }
}

/** Half a picture dimension, kept even (I420 and VP8 want even sizes). */
function evenHalf(size: number): number {
  return Math.max(2, Math.round(size / 4) * 2);
}

function bindLoopback(): Promise<Socket> {
  return bindLoopbackUdp((error) => log.warn({ err: error }, 'udp socket error'));
}

function openAppend(path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(path, { flags: 'a' });
    stream.once('error', reject);
    stream.once('open', () => {
      stream.off('error', reject);
      stream.on('error', (error) => log.error({ err: error, path }, 'frame log write failed'));
      resolve(stream);
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The stream types (`video`, `audio`) of a media file, by ffprobe. */
function probeStreamTypes(path: string): Promise<Set<string>> {
  const binary = process.env.MCU_FFPROBE ?? 'ffprobe';
  return new Promise((resolve, reject) => {
    execFile(binary, probeStreamsArgs(path), { timeout: FFPROBE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`cannot read ${path}: ${stderr.trim() || error.message}`));
        return;
      }
      resolve(new Set(stdout.split('\n').map((line) => line.trim().replace(/,$/, '')).filter(Boolean)));
    });
  });
}
