import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioMixer } from './logic/AudioMixer.ts';
import { Compositor } from './ffmpeg/Compositor.ts';
import { Decoder } from './ffmpeg/Decoder.ts';
import { findLabelFont } from './ffmpeg/fonts.ts';
import { FrameClock } from './logic/FrameClock.ts';
import { KeyframeLimiter } from './logic/KeyframeLimiter.ts';
import { layoutTiles, MAX_GRID_TILES, type LayoutKind, type Size } from './logic/layout.ts';
import { createLogger } from '../base/log/logger.ts';
import { H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../base/rtp/payloadTypes.ts';
import { allocateRtpPort, releaseRtpPort } from '../base/net/ports.ts';
import { SizedFrames } from './SizedFrames.ts';
import { sameSize, tileSourceFor } from './logic/sourceSize.ts';
import { tileFrame } from './logic/tileFrames.ts';
import { SpeakerDetector } from './logic/SpeakerDetector.ts';
import { SpeakerMix } from './SpeakerMix.ts';
import { TypedEmitter } from '../base/TypedEmitter.ts';
import type {
  SessionEvents,
  SessionLayout,
  SessionLike,
  SessionObserverEvents,
  SessionParticipant,
  SessionParticipantPorts,
  SessionSettings,
  SessionStats,
} from './SessionTypes.ts';

const log = createLogger('Session');

/** Until a decoder's first frame, ask for a keyframe this often (README, "The composite"). */
const FIRST_FRAME_PLI_MS = 500;
/** A video decoder silent this long has lost its picture (or its publisher): ask again. */
const FRAME_GAP_PLI_MS = 1000;
const RESTART_DELAY_MS = 300;
/** How often the server hears how many frames each video decoder has decoded. */
const DECODED_REPORT_MS = 100;
/** A new compositor that has not been switched to by then becomes current anyway. */
const SWITCH_FALLBACK_MS = 3000;
/**
 * Composite keyframes on request at most this often. FFmpeg cannot be told to make a keyframe
 * while it runs, so one is made by starting a new compositor beside the running one: its first
 * frame is a keyframe, and the stream switches there (make before break).
 */
const KEYFRAME_ON_REQUEST_MIN_MS = 1000;
/** Compositors started ahead of need (see #prepareStandby): one for the roster, one for a newcomer. */
const MAX_STANDBY_COMPOSITORS = 2;
/** After a switch, the standby for the new roster waits this long (see #promotePending). */
const STANDBY_AFTER_SWITCH_MS = 1000;
/** A change of tile-source size (sourceSize.ts) waits at most this long for every decoder at the new size. */
const RESIZE_TIMEOUT_MS = 2500;

interface CompositorPlan {
  ids: string[];
  kind: LayoutKind;
  h264: boolean;
  source: Size;
  key: string;
}

interface Member {
  readonly info: SessionParticipant;
  readonly ports: SessionParticipantPorts;
  videoDecoder?: Decoder;
  /** A decoder at a new tile-source size, until its first frame (then it is `videoDecoder`). */
  resizingDecoder?: Decoder;
  audioDecoder?: Decoder;
  latestFrame?: Buffer;
  /** While the tile-source size changes: its last frame at the old size, for compositors of that size. */
  heldFrame?: Buffer;
  /** File holding the name drawn on its tile. */
  labelFile?: string;
  lastFrameAt: number;
  lastPliAt: number;
  /** Video frames decoded, across decoder restarts. */
  framesDecoded: number;
  removed: boolean;
}

// FFmpeg's RTP muxer takes the SSRC as a signed 32-bit option.
const randomSsrc = (): number => randomInt(1, 0x7fffffff);

/**
 * A room's running mixer: one decoder per participant and kind, the video clock that paces
 * the latest frame of everyone into the compositor, the audio clock that mixes every 20 ms, and
 * the encoders. It knows nothing of rooms or WebRTC: RTP comes in and goes out on loopback ports.
 */
export class Session extends TypedEmitter<SessionEvents> implements SessionLike {
  readonly observer = new TypedEmitter<SessionObserverEvents>();
  readonly settings: SessionSettings;
  readonly #workDir: string;
  readonly #members = new Map<string, Member>();
  readonly #mixer = new AudioMixer();
  readonly #speakers = new SpeakerDetector();
  readonly #videoClock: FrameClock;
  readonly #audioClock: FrameClock;
  /** Frame pools and black tiles, per tile-source size. */
  readonly #frames = new SizedFrames();
  /** The size decoders deliver and compositors take (sourceSize.ts), and the one decoders are moving to. */
  #sourceSize: Size;
  #resizeTo?: { size: Size; timer: NodeJS.Timeout };
  /** What everyone hears: top-speaker mixing, its encoders and their routing (SpeakerMix.ts). */
  readonly #speakerMix: SpeakerMix;
  readonly #keyframeTimer: NodeJS.Timeout;
  readonly #decodedTimer: NodeJS.Timeout;
  readonly #labelFont = findLabelFont();
  #labelFiles = 0;
  #current?: Compositor;
  #pending?: Compositor;
  readonly #standbys = new Map<string, Compositor>();
  /** Who waits for a spawn slot (see #spawnSlot), first come first served. */
  readonly #spawnQueue: (() => void)[] = [];
  #switchFallback?: NodeJS.Timeout;
  #closed = false;
  #layout: SessionLayout;
  /** H.264 wanted by someone other than a participant (an MP4 recording). */
  #h264Wanted = false;
  #decoderRestarts = 0;
  #compositorRestarts = 0;
  #keyframeRequests = 0;
  #compositeKeyframes = 0;
  readonly #keyframeLimiter = new KeyframeLimiter(KEYFRAME_ON_REQUEST_MIN_MS);
  #keyframeTimerPending?: NodeJS.Timeout;

  static async create(settings: SessionSettings): Promise<Session> {
    const workDir = await mkdtemp(join(tmpdir(), 'mcu-session-'));
    let session: Session | undefined;
    const speakerMix = await SpeakerMix.create({
      bitrateKbps: settings.audioBitrateKbps,
      everyonePort: settings.everyoneMixPort,
      beforeStart: () => (session ? session.#spawnSlot() : Promise.resolve()),
    });
    session = new Session(settings, workDir, speakerMix);
    return session;
  }

  private constructor(settings: SessionSettings, workDir: string, speakerMix: SpeakerMix) {
    super();
    this.#speakerMix = speakerMix;
    this.settings = settings;
    this.#layout = settings.layout;
    this.#workDir = workDir;
    this.#sourceSize = settings.tileSource;
    this.#videoClock = new FrameClock(1000 / settings.fps, () => this.#videoTick());
    this.#audioClock = new FrameClock(20, () => this.#audioTick(), { maxBurst: 5 });
    this.#keyframeTimer = setInterval(() => this.#requestKeyframes(), 250);
    this.#decodedTimer = setInterval(() => this.#reportDecoded(), DECODED_REPORT_MS);
    this.#recompose();
    this.#videoClock.start();
    this.#audioClock.start();
    if (!this.#labelFont) log.warn('no font for tile labels (install fonts-dejavu-core); tiles are unlabelled');
    log.info({ workDir, settings }, 'session started');
  }

  get closed(): boolean {
    return this.#closed;
  }

  async addParticipant(info: SessionParticipant): Promise<SessionParticipantPorts> {
    if (this.#closed) throw new Error('session is closed');
    if (this.#members.has(info.id)) throw new Error(`participant ${info.id} is already in the session`);
    const ports: SessionParticipantPorts = {};
    if (info.video) ports.videoPort = await allocateRtpPort();
    if (info.audio) ports.audioPort = await allocateRtpPort();
    const member: Member = { info, ports, lastFrameAt: 0, lastPliAt: 0, framesDecoded: 0, removed: false };
    if (this.#labelFont && info.video) {
      member.labelFile = join(this.#workDir, `label-${++this.#labelFiles}.txt`);
      await writeFile(member.labelFile, info.name);
    }
    this.#members.set(info.id, member);
    if (info.audio) this.#mixer.addSource(info.id);
    // The composite it receives first: its client connects while its decoders start.
    const needsH264 = info.receivesH264 === true && !this.#composesH264;
    if (needsH264) this.#recompose();
    if (info.mixPort !== undefined) this.#speakerMix.addListener(info.id, info.mixPort);
    // One after the other, each in its own slot: the clock must not wait for all of them at once.
    await this.#startDecoder(member, 'video');
    await this.#startDecoder(member, 'audio');
    // Its tile appears at its first decoded frame: have the compositor for that roster ready by
    // then (its first frame can come 300 ms after its decoders start).
    if (!needsH264 && info.video) {
      void this.#spawnSlot().then(() => {
        if (!member.removed && member.latestFrame === undefined) this.#prepareStandby(this.#plan(this.#tileIds(info.id)));
      });
    }
    log.info({ participant: info.id, name: info.name, ports }, 'participant added to session');
    return ports;
  }

  async removeParticipant(id: string): Promise<void> {
    const member = this.#members.get(id);
    if (!member) return;
    member.removed = true;
    this.#members.delete(id);
    for (const frame of [member.latestFrame, member.heldFrame]) if (frame) this.#frames.release(frame);
    this.#mixer.removeSource(id);
    this.#speakerMix.remove(id);
    if (this.#speakers.remove(id) === null) this.safeEmit('speaker', null);
    this.#recompose();
    await Promise.all([member.videoDecoder?.close(), member.resizingDecoder?.close(), member.audioDecoder?.close()]);
    for (const port of [member.ports.videoPort, member.ports.audioPort]) if (port !== undefined) releaseRtpPort(port);
    log.info({ participant: id }, 'participant removed from session');
  }

  compositeSwitched(ssrc: number): void {
    const pending = this.#pending;
    if (pending?.ssrc !== ssrc) return;
    log.info({ ssrc, afterMs: Math.round(performance.now() - pending.startedAt) }, 'composite switched to the new compositor');
    this.#keyframeLimiter.sent(performance.now());
    this.#promotePending();
  }

  /** Whether the compositor being switched to (or running) encodes H.264 too. */
  get #composesH264(): boolean {
    return (this.#pending ?? this.#current)?.h264Ssrc !== undefined;
  }

  setH264Wanted(wanted: boolean): void {
    if (this.#h264Wanted === wanted) return;
    this.#h264Wanted = wanted;
    this.#recompose();
  }

  setLayout(layout: SessionLayout): void {
    this.#layout = layout;
    log.info({ layout }, 'layout changed');
    this.#recompose();
  }

  requestCompositeKeyframe(): void {
    if (this.#closed) return;
    // A compositor that is starting anyway (a newcomer's) opens with a keyframe: replacing it
    // would throw away a warmed-up standby for a cold start.
    const decision = this.#keyframeLimiter.request(performance.now(), this.#pending !== undefined);
    if (decision.make === 'now') this.#makeCompositeKeyframe();
    else if (decision.make === 'later') {
      this.#keyframeTimerPending = setTimeout(() => {
        this.#keyframeTimerPending = undefined;
        if (!this.#closed && this.#keyframeLimiter.due(performance.now(), this.#pending !== undefined)) this.#makeCompositeKeyframe();
      }, decision.waitMs);
    }
  }

  #makeCompositeKeyframe(): void {
    this.#compositeKeyframes++;
    this.#recompose(true);
  }

  stats(): SessionStats {
    const compositor = this.#current;
    return {
      participants: this.#members.size,
      tiles: [...(compositor?.tileIds ?? [])],
      layout: this.#layout,
      tileSource: this.#sourceSize,
      compositorFramesWritten: compositor?.framesWritten ?? 0,
      compositorTicksSkipped: compositor?.ticksSkipped ?? 0,
      videoClockSkipped: this.#videoClock.skipped,
      decoderRestarts: this.#decoderRestarts,
      compositorRestarts: this.#compositorRestarts,
      keyframeRequests: this.#keyframeRequests,
      compositeKeyframes: this.#compositeKeyframes,
      audio: {
        ...this.#mixer.toJSON(),
        clockSkipped: this.#audioClock.skipped,
        encoderFramesDropped: this.#speakerMix.encoderFramesDropped,
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#videoClock.stop();
    this.#audioClock.stop();
    for (const resolve of this.#spawnQueue.splice(0)) resolve();
    clearInterval(this.#keyframeTimer);
    clearInterval(this.#decodedTimer);
    clearTimeout(this.#switchFallback);
    clearTimeout(this.#keyframeTimerPending);
    clearTimeout(this.#resizeTo?.timer);
    const members = [...this.#members.values()];
    this.#members.clear();
    for (const m of members) m.removed = true;
    await Promise.all([
      this.#current?.close(),
      this.#pending?.close(),
      ...[...this.#standbys.values()].map((c) => c.close()),
      this.#speakerMix.close(),
      ...members.flatMap((m) => [m.videoDecoder?.close(), m.resizingDecoder?.close(), m.audioDecoder?.close()]),
    ]);
    for (const m of members) {
      for (const port of [m.ports.videoPort, m.ports.audioPort]) if (port !== undefined) releaseRtpPort(port);
    }
    await rm(this.#workDir, { recursive: true, force: true });
    log.info('session closed');
    this.safeEmit('@close');
    this.observer.safeEmit('close');
  }

  /** `replacing`: a decoder at a new tile-source size, in place of the stopped one until its first frame (#resize). */
  async #startDecoder(member: Member, kind: 'video' | 'audio', replacing = false): Promise<void> {
    const port = kind === 'video' ? member.ports.videoPort : member.ports.audioPort;
    if (port === undefined || member.removed || this.#closed) return;
    const { info } = member;
    const input =
      kind === 'video'
        ? { kind, codec: info.video?.codec ?? 'VP8', payloadType: info.video?.payloadType ?? VP8_PAYLOAD_TYPE }
        : { kind, codec: 'opus' as const, payloadType: info.audio?.payloadType ?? OPUS_PAYLOAD_TYPE };
    const size = this.#resizeTo?.size ?? this.#sourceSize;
    const decoder = await Decoder.create({
      beforeStart: () => this.#spawnSlot(),
      label: `${info.name} (${info.id}) ${kind}`,
      port,
      input,
      tileSource: size,
      workDir: this.#workDir,
      framePool: this.#frames.pool(size),
    });
    if (member.removed || this.#closed) {
      await decoder.close();
      return;
    }
    if (kind === 'video') {
      // A decoder at a new size takes over at its first frame (#onVideoFrame); any other at once.
      if (replacing && member.videoDecoder !== undefined) {
        void member.resizingDecoder?.close();
        member.resizingDecoder = decoder;
      } else member.videoDecoder = decoder;
      decoder.on('chunk', (frame) => this.#onVideoFrame(member, frame, decoder));
    } else {
      member.audioDecoder = decoder;
      decoder.on('chunk', (pcm) => {
        this.#mixer.push(info.id, new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2));
      });
    }
    decoder.on('died', (error) => {
      const resizing = member.resizingDecoder === decoder;
      if (resizing) member.resizingDecoder = undefined;
      // One replaced already (by a move to another size) is not restarted.
      else if (kind === 'video' && member.videoDecoder !== decoder) return;
      log.warn({ participant: info.id, kind, err: error.message }, 'decoder died; restarting');
      this.#decoderRestarts++;
      setTimeout(() => {
        void this.#startDecoder(member, kind, resizing).then(() => {
          if (kind === 'video') this.#askKeyframe(member, true);
        });
      }, RESTART_DELAY_MS);
    });
  }

  #onVideoFrame(member: Member, frame: Buffer, decoder: Decoder): void {
    if (member.removed) {
      this.#frames.release(frame);
      return;
    }
    if (decoder !== member.videoDecoder) {
      this.#resizedDecoderTakesOver(member, decoder, frame);
      return;
    }
    member.framesDecoded++;
    const previous = member.latestFrame;
    member.latestFrame = frame;
    if (previous) this.#frames.release(previous);
    const first = previous === undefined;
    member.lastFrameAt = performance.now();
    if (first) {
      log.info({ participant: member.info.id }, 'first video frame decoded');
      this.observer.safeEmit('firstframe', member.info.id);
      this.#recompose();
    }
  }

  /**
   * Participants that get a tile: video publishers with a decoded picture, in join order; in the
   * speaker and presenter layouts the one in focus comes first (tile 0 is the large one).
   */
  #tileIds(newcomer?: string): string[] {
    const ids = [...this.#members.values()]
      .filter((m) => m.latestFrame !== undefined || m.info.id === newcomer)
      .map((m) => m.info.id);
    const focus = this.#layout.kind === 'speaker' ? this.#speakers.speaker : this.#layout.kind === 'presenter' ? this.#layout.presenter : undefined;
    const at = focus ? ids.indexOf(focus) : -1;
    if (at > 0) ids.unshift(...ids.splice(at, 1));
    return ids.slice(0, MAX_GRID_TILES);
  }

  /** Starts a compositor for the current roster beside the running one (make before break). */
  #recompose(force = false): void {
    if (this.#closed) return;
    const plan = this.#plan(this.#tileIds());
    // A new tile-source size first: decoders move to it, and a newcomer's tile waits for that
    // (#finishResize); leaves and keyframes are composed at the old size meanwhile.
    const shown = (this.#pending ?? this.#current)?.tileIds ?? [];
    if (this.#resize(plan) && plan.ids.some((id) => !shown.includes(id))) return;
    const target = this.#pending ?? this.#current;
    if (!force && target && target.planKey === plan.key) return;
    if (this.#pending) {
      void this.#pending.close();
      this.#pending = undefined;
    }
    // A standby has started FFmpeg and loaded its libraries already: it answers in half the time,
    // and at the media path's priority from now on. A cold start beside a running compositor
    // starts below it and is raised once FFmpeg reads its first frame: FFmpeg's start-up is a
    // burst of CPU that took frames from the running one (gaps of 60-95 ms at the receivers on
    // two busy cores), and kept below until switched to it showed a new layout 0.8-1.5 s late
    // on a loaded machine (0.3-0.9 s raised).
    const standby = this.#standbys.get(plan.key);
    this.#standbys.delete(plan.key);
    const warm = standby !== undefined && !standby.exited;
    const compositor = warm ? standby : this.#startCompositor(plan, this.#current !== undefined);
    if (warm) compositor.raisePriority();
    else compositor.raisePriorityWhenReading();
    compositor.startedAt = performance.now();
    log.info({ tiles: plan.ids, ssrc: compositor.ssrc, h264Ssrc: compositor.h264Ssrc, standby: compositor === standby }, 'compositor started');
    this.safeEmit('compositestart', {
      vp8: compositor.ssrc,
      ...(compositor.h264Ssrc !== undefined ? { h264: compositor.h264Ssrc } : {}),
    });
    if (!this.#current) {
      this.#current = compositor;
      this.observer.safeEmit('layoutchange', [...plan.ids]);
      void this.#spawnSlot().then(() => this.#prepareStandby(plan));
    } else {
      this.#pending = compositor;
      clearTimeout(this.#switchFallback);
      this.#switchFallback = setTimeout(() => this.#promotePending(), SWITCH_FALLBACK_MS);
    }
  }

  /** The compositor a roster needs: its tiles, layout and outputs, and a key to compare plans by. */
  #plan(ids: string[]): CompositorPlan {
    const h264 = this.#h264Wanted || [...this.#members.values()].some((m) => m.info.receivesH264);
    const kind = this.#layout.kind;
    const source = this.#sourceSize;
    return { ids, kind, h264, source, key: JSON.stringify([ids, kind, h264, source]) };
  }

  /**
   * Starts moving every video decoder to the tile-source size `plan` wants (sourceSize.ts), if it
   * is not the one in use: each running decoder stops, one at the new size starts on its port and
   * takes over at its first frame (the publisher is asked for a keyframe). Compositors of the old size
   * go on meanwhile, showing the last old-size frame of those already moved. Returns true while
   * a move is under way (the caller composes once it is over).
   */
  #resize(plan: CompositorPlan): boolean {
    const wanted = tileSourceFor({ count: plan.ids.length, kind: plan.kind, canvas: this.settings.canvas, configured: this.settings.tileSource, current: this.#sourceSize });
    if (this.#resizeTo) {
      if (sameSize(this.#resizeTo.size, wanted)) return true;
      clearTimeout(this.#resizeTo.timer);
      this.#resizeTo = undefined;
    }
    if (sameSize(wanted, this.#sourceSize)) return false;
    log.info({ from: this.#sourceSize, to: wanted, tiles: plan.ids.length }, 'tile-source size changes: decoders move to it');
    this.#resizeTo = { size: wanted, timer: setTimeout(() => this.#finishResize(), RESIZE_TIMEOUT_MS) };
    for (const member of this.#members.values()) {
      const running = member.videoDecoder;
      if (!running) continue;
      // Two decoders cannot bind one port: the running one stops first, and the tile shows its
      // last frame until the new one decodes (a second or two: less than the placeholder's wait).
      void running
        .close()
        .then(() => this.#startDecoder(member, 'video', true))
        .then(() => this.#askKeyframe(member, true));
    }
    return true;
  }

  /** A decoder at the new size has its first frame: it replaces the old one; the old-size frame stays held for old compositors. */
  #resizedDecoderTakesOver(member: Member, decoder: Decoder, frame: Buffer): void {
    const old = member.videoDecoder;
    member.videoDecoder = decoder;
    if (member.resizingDecoder === decoder) member.resizingDecoder = undefined;
    void old?.close();
    if (member.heldFrame) this.#frames.release(member.heldFrame);
    member.heldFrame = member.latestFrame;
    member.latestFrame = frame;
    member.lastFrameAt = performance.now();
    const target = this.#resizeTo?.size;
    const moved = (m: Member): boolean => !m.videoDecoder || !target || sameSize(m.videoDecoder.tileSource, target);
    if (target && [...this.#members.values()].every(moved)) this.#finishResize();
  }

  /** No compositor of the old size is left: the frames held for it go back. */
  #releaseHeldFrames(): void {
    if (this.#resizeTo || (this.#current && !sameSize(this.#current.source, this.#sourceSize))) return;
    for (const member of this.#members.values()) {
      if (member.heldFrame) this.#frames.release(member.heldFrame);
      member.heldFrame = undefined;
    }
  }

  /** Every decoder delivers at the new size (or the wait is over): compose at it. */
  #finishResize(): void {
    const target = this.#resizeTo;
    if (!target || this.#closed) return;
    clearTimeout(target.timer);
    this.#resizeTo = undefined;
    this.#sourceSize = target.size;
    log.info({ size: target.size }, 'tile-source size changed');
    this.#recompose();
  }

  /**
   * Starts FFmpeg for a roster that is likely next (the same one, for keyframe requests; one with
   * a newcomer, before its first frame), warmed up by one frame and then left waiting. Starting
   * FFmpeg, its filter graph and its encoder is the slow part of a switch; fed later, a standby
   * sends its keyframe after one frame's encode. It starts below the media path's priority (it
   * must not take frames from the running compositor), and is raised when taken.
   */
  #prepareStandby(plan: CompositorPlan): void {
    if (this.#closed || this.#standbys.has(plan.key)) return;
    const standby = this.#startCompositor(plan, true);
    this.#standbys.set(plan.key, standby);
    for (const [key, compositor] of this.#standbys) {
      if (this.#standbys.size <= MAX_STANDBY_COMPOSITORS) break;
      this.#standbys.delete(key);
      void compositor.close();
    }
  }

  /**
   * A compositor whose first frame is a black warm-up that nobody sees (the outgoing stream skips
   * it), and whose second frame is a keyframe (WAKE_KEYFRAME in ffmpegArgs.ts). That first frame makes
   * FFmpeg build its graph and encoder; a compositor switched to at its very first frame sent
   * the next ones 100 ms late, while it still started up. `background`: below the media path's
   * priority until raisePriority().
   */
  #startCompositor(plan: CompositorPlan, background: boolean): Compositor {
    const { canvas, fps, videoBitrateKbps, keyframeIntervalSeconds, compositePort, compositeH264Port } = this.settings;
    const tileSource = plan.source;
    const compositor = new Compositor({
      tileIds: plan.ids,
      layoutKind: plan.kind,
      planKey: plan.key,
      framePool: this.#frames.pool(tileSource),
      background,
      inputs: Math.max(1, plan.ids.length),
      source: tileSource,
      canvas,
      tiles: layoutTiles(plan.kind, Math.max(1, plan.ids.length), canvas),
      labels: plan.ids.map((id) => {
        const textFile = this.#members.get(id)?.labelFile;
        return textFile && this.#labelFont ? { fontFile: this.#labelFont, textFile } : undefined;
      }),
      fps,
      bitrateKbps: videoBitrateKbps,
      keyframeInterval: Math.round(keyframeIntervalSeconds * fps),
      output: { port: compositePort, payloadType: VP8_PAYLOAD_TYPE, ssrc: randomSsrc() },
      ...(plan.h264 ? { h264Output: { port: compositeH264Port, payloadType: H264_PAYLOAD_TYPE, ssrc: randomSsrc() } } : {}),
    });
    const { black } = this.#frames.tiles(tileSource);
    compositor.whenStarted(() => compositor.writeFrames(Array.from({ length: Math.max(1, plan.ids.length) }, () => black)));
    compositor.on('died', (error) => {
      if (this.#standbys.get(plan.key) === compositor) {
        this.#standbys.delete(plan.key);
        log.warn({ err: error.message }, 'standby compositor died');
        return;
      }
      if (compositor !== this.#current && compositor !== this.#pending) return;
      log.warn({ err: error.message }, 'compositor died; starting a new one');
      this.#compositorRestarts++;
      if (compositor === this.#current) this.#current = undefined;
      if (compositor === this.#pending) this.#pending = undefined;
      setTimeout(() => this.#recompose(true), RESTART_DELAY_MS);
    });
    return compositor;
  }

  #promotePending(): void {
    const next = this.#pending;
    if (!next) return;
    clearTimeout(this.#switchFallback);
    const old = this.#current;
    next.raisePriority();
    this.#current = next;
    this.#pending = undefined;
    void old?.close();
    this.#releaseHeldFrames();
    this.observer.safeEmit('layoutchange', [...next.tileIds]);
    // The next keyframe request will find one ready for this very roster. Started a while after
    // the switch: an FFmpeg starting beside the new compositor's first frames slows them down.
    const plan = this.#plan([...next.tileIds]);
    setTimeout(() => {
      void this.#spawnSlot().then(() => {
        if (this.#current === next) this.#prepareStandby(plan);
      });
    }, STANDBY_AFTER_SWITCH_MS);
  }

  /**
   * Resolves right after the next video tick, one caller per tick. The spawner starts FFmpeg
   * without holding this thread up (Spawner.ts), but a starting FFmpeg is a burst of CPU: one
   * per tick spreads a join's four of them out instead of starting them all at once.
   */
  #spawnSlot(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#spawnQueue.push(resolve));
  }

  #videoTick(): void {
    this.#writeFrames();
    this.#spawnQueue.shift()?.();
  }

  #writeFrames(): void {
    for (const compositor of [this.#current, this.#pending]) {
      if (!compositor) continue;
      const now = performance.now();
      const { placeholderAfterMs } = this.settings;
      const tiles = this.#frames.tiles(compositor.source);
      // While the tile-source size changes, a tile of the other size shows its held frame (or black).
      const fit = (frame: Buffer, member: Member | undefined): Buffer =>
        frame.length === tiles.black.length ? frame : member?.heldFrame?.length === tiles.black.length ? member.heldFrame : tiles.black;
      const frames =
        compositor.tileIds.length === 0
          ? [tiles.black]
          : compositor.tileIds.map((id) => {
              const member = this.#members.get(id);
              return fit(tileFrame(member, now, placeholderAfterMs, tiles), member);
            });
      compositor.writeFrames(frames);
    }
  }

  #audioTick(): void {
    this.#speakerMix.tick(this.#mixer, performance.now());
    const speaker = this.#speakers.process(this.#mixer.levels(), performance.now());
    if (speaker !== undefined) {
      this.safeEmit('speaker', speaker);
      if (this.#layout.kind === 'speaker') this.#recompose();
    }
  }

  #reportDecoded(): void {
    const decoded: Record<string, number> = {};
    for (const member of this.#members.values()) if (member.videoDecoder) decoded[member.info.id] = member.framesDecoded;
    if (Object.keys(decoded).length) this.safeEmit('decoded', decoded);
  }

  #requestKeyframes(): void {
    const now = performance.now();
    for (const member of this.#members.values()) {
      if (!member.info.video || !member.videoDecoder) continue;
      const waitingForFirst = member.latestFrame === undefined;
      const stalled = !waitingForFirst && now - member.lastFrameAt > FRAME_GAP_PLI_MS;
      if (waitingForFirst && now - member.lastPliAt >= FIRST_FRAME_PLI_MS) this.#askKeyframe(member);
      else if (stalled && now - member.lastPliAt >= FRAME_GAP_PLI_MS) this.#askKeyframe(member);
    }
  }

  #askKeyframe(member: Member, force = false): void {
    const now = performance.now();
    if (!force && now - member.lastPliAt < FIRST_FRAME_PLI_MS) return;
    member.lastPliAt = now;
    this.#keyframeRequests++;
    this.safeEmit('keyframeneeded', member.info.id);
  }
}
