import { MediaStreamTrack, RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import { checkRecordingCodec } from './botArgs.ts';
import { onKeyframeRequest, type KeyframeRequestKind } from '../peers/keyframeRequests.ts';
import { dropDefaultStun } from '../peers/weriftQuirks.ts';
import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { SignalingClient, SignalingError } from '../signaling/SignalingClient.ts';
import { BotReceiver } from './BotReceiver.ts';
import { BotRecorder } from './BotRecorder.ts';
import { BotSender, publishedKinds } from './BotSender.ts';
import type { Bot, BotEvents, BotOptions, BotStats } from './BotTypes.ts';
import { openAppend, withTimeout, type BotLife, type Kind } from './botSupport.ts';
import { clientPeerConfig, offerAndAnswer, VIDEO_CODECS } from './clientPeer.ts';
import { emptyReceiveCounts } from './ReceiveCounter.ts';
import { dropOutgoingRtp } from './lossyUplink.ts';

const log = createLogger('Bot');

/** RFC 6464 audio level header extension. */
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
const PEER_CLOSE_MS = 3000;

export function createBot(options: BotOptions): Bot {
  return new BotImpl(options);
}

/**
 * The headless participant: its lifecycle (start, stop, teardown in order) and the wiring of its
 * parts: signaling and the peer here, what it sends (BotSender), what it receives (BotReceiver)
 * and what it records (BotRecorder).
 */
class BotImpl extends TypedEmitter<BotEvents> implements Bot {
  readonly options: Readonly<BotOptions>;
  #state: 'new' | 'starting' | 'running' | 'stopping' | 'closed' = 'new';
  #signaling: SignalingClient | undefined;
  #pc: RTCPeerConnection | undefined;
  #transceivers: Partial<Record<Kind, RTCRtpTransceiver>> = {};
  #outTracks: Partial<Record<Kind, MediaStreamTrack>> = {};
  readonly #unsubscribes: (() => void)[] = [];
  #statsTimer: NodeJS.Timeout | undefined;
  /** Rejects the running `start()` when something it waits for can no longer happen. */
  #failStart: ((error: Error) => void) | undefined;
  #stopPromise: Promise<BotStats> | undefined;
  #teardownPromise: Promise<void> | undefined;

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
  #framesAtLastTick = 0;
  readonly #life: BotLife = {
    alive: () => this.#state === 'starting' || this.#state === 'running',
    running: () => this.#state === 'running',
    assertStarting: () => this.#assertStarting(),
    fail: (error) => {
      if (this.#state === 'starting') this.#failStart?.(error);
      else this.#die(error);
    },
  };
  readonly #sender: BotSender;
  readonly #receiver: BotReceiver;
  #recorder: BotRecorder | undefined;

  constructor(options: BotOptions) {
    super();
    this.options = Object.freeze({ ...options });
    this.#sender = new BotSender(this.options, this.#stats, this.#life, this);
    this.#receiver = new BotReceiver(this.#stats, (kind, rtp) => this.#recorder?.forward(kind, rtp));
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

  toggleVideoSize(): Promise<void> {
    return this.#sender.toggleVideoSize();
  }

  setVideoSending(sending: boolean): void {
    this.#sender.setVideoSending(sending);
  }

  requestKeyframe(kind: KeyframeRequestKind): number | undefined {
    if (this.#state !== 'running') return undefined;
    return this.#receiver.requestKeyframe(kind);
  }

  async #startSteps(): Promise<void> {
    const o = this.options;
    // What the bot publishes: decided before joining, so that a bad file fails fast.
    const publish = await publishedKinds(o);
    // A TypeError now rather than after the media arrived.
    if (o.recordPath) checkRecordingCodec(o.recordPath, VIDEO_CODECS[o.codec].name);
    if (o.frameLogPath) {
      const frameLog = await openAppend(o.frameLogPath);
      if (this.#state !== 'starting') frameLog.end();
      this.#assertStarting();
      this.#receiver.frameLog = frameLog;
    }

    const signaling = await SignalingClient.connect(o.url, { timeoutMs: o.connectTimeoutMs });
    if (this.#state !== 'starting') {
      await signaling.close();
      throw new Error('stopped while starting');
    }
    this.#signaling = signaling;
    this.#subscribeSignaling(signaling);
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
        else if (state === 'failed' || state === 'closed') this.#life.fail(new Error(`peer connection ${state}`));
      });
      this.#unsubscribes.push(unSubscribe);
    });

    // Exactly two transceivers, audio first, then video (the signaling protocol, README "Signaling").
    for (const kind of ['audio', 'video'] as const) {
      const out = publish.has(kind) ? new MediaStreamTrack({ kind }) : undefined;
      const transceiver = out
        ? pc.addTransceiver(out, { direction: 'sendrecv' })
        : pc.addTransceiver(kind, { direction: 'recvonly' });
      if (out) this.#outTracks[kind] = out;
      this.#transceivers[kind] = transceiver;
      this.#unsubscribes.push(
        transceiver.onTrack.subscribe((track) => {
          const { unSubscribe } = track.onReceiveRtp.subscribe((rtp) => {
            if (this.#life.alive()) this.#receiver.receive(kind, rtp);
          });
          this.#unsubscribes.push(unSubscribe);
        }).unSubscribe,
      );
    }
    dropDefaultStun(pc, joined.iceServers);
    await offerAndAnswer(pc, signaling, this.#unsubscribes);
    const audioLevelExtensionId = this.#afterAnswer(publish);
    if (publish.has('video')) this.#countKeyframeRequests();
    await connected;
    this.#assertStarting();

    const connectedAt = Date.now();
    if (o.uplinkLoss) this.#loseUplink(o.uplinkLoss);
    if (o.recordPath) {
      this.#recorder = new BotRecorder({
        path: o.recordPath,
        name: o.name,
        life: this.#life,
        stats: this.#stats,
        transceivers: this.#transceivers,
        connectedAt,
        sendPli: (why) => this.#receiver.sendPli(why),
      });
    }
    if (publish.size > 0) await this.#sender.start(this.#outTracks, audioLevelExtensionId);
    this.#assertStarting();
    this.#statsTimer = setInterval(() => this.#tick(), o.statsIntervalMs);
    this.safeEmit('connected', connectedAt);
  }

  /** The server's events, relayed; an error or a close fails the start or ends the bot. */
  #subscribeSignaling(signaling: SignalingClient): void {
    this.#unsubscribes.push(
      signaling.subscribe('participants', (participants) => this.safeEmit('participants', participants)),
      signaling.subscribe('speaker', (id) => this.safeEmit('speaker', id)),
      signaling.subscribe('error', (problem) => {
        if (this.#state === 'starting') this.#failStart?.(new SignalingError(problem.code, problem.message));
        else this.safeEmit('error', problem);
      }),
      signaling.subscribe('close', ({ code, reason }) => {
        this.#life.fail(new SignalingError('closed', `the server closed the connection (${code}${reason ? ` ${reason}` : ''})`));
      }),
      // Emitted from the frame itself, so it precedes `participants` and `speaker` sent right after.
      signaling.subscribe('joined', (joined) => {
        this.safeEmit('joined', { id: joined.id, room: joined.room, participants: joined.participants });
      }),
    );
  }

  /**
   * Called right before `start()` creates a socket, a peer or a process: once start has failed
   * or `stop()` was called, nothing new may be created (teardown may already be past it).
   */
  #assertStarting(): void {
    if (this.#state !== 'starting') throw new Error('stopped while starting');
  }

  /** Reads what the answer negotiated; returns the audio level extension's id, if the bot stamps it. */
  #afterAnswer(publish: Set<Kind>): number | undefined {
    this.#receiver.negotiated(this.#transceivers);
    const video = this.#transceivers.video;
    const expected = VIDEO_CODECS[this.options.codec];
    if (publish.has('video') && video && video.sender.codec?.mimeType.toLowerCase() !== expected.mimeType) {
      throw new Error(`the server did not accept ${expected.name} for the bot's video (got ${video.sender.codec?.mimeType ?? 'nothing'})`);
    }
    const audio = this.#transceivers.audio;
    if (!publish.has('audio') || !audio) return undefined;
    return audio.headerExtensions.find((e) => e.uri === AUDIO_LEVEL_URI)?.id;
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

  #loseUplink(share: number): void {
    const transports = new Set(Object.values(this.#transceivers).map((t) => t.dtlsTransport));
    for (const transport of transports) {
      this.#unsubscribes.push(dropOutgoingRtp(transport, share, () => this.#stats.uplinkDropped++));
    }
  }

  #tick(): void {
    this.#stats.fps = this.#stats.videoFrames - this.#framesAtLastTick;
    this.#framesAtLastTick = this.#stats.videoFrames;
    this.safeEmit('stats', this.stats);
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
    this.#receiver.stopAskingForKeyframes();
    // The recorder goes first, while media still flows: FFmpeg notices SIGINT only when a read
    // returns, and a recorder blocked on a silent socket would be SIGTERMed at 3 s and fail to
    // write its trailer ("Immediate exit requested"), measured here with FFmpeg 5.1.
    await this.#recorder?.stop();
    await this.#sender.close();
    if (this.#signaling?.joined) this.#signaling.leave();
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    if (this.#pc) await withTimeout(this.#pc.close(), PEER_CLOSE_MS, 'peer close').catch((e: unknown) => log.warn({ err: e }, 'peer close'));
    await this.#signaling?.close();
    await this.#receiver.close();
  }
}
