import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioMixer } from './logic/AudioMixer.ts';
import { CompositorSet } from './ffmpeg/Compositor.ts';
import { compositorPlan, CompositorSwitch, type CompositorPlan, type SwitchAction } from './logic/CompositorSwitch.ts';
import type { Decoder } from './ffmpeg/Decoder.ts';
import { findLabelFont } from './ffmpeg/fonts.ts';
import { FrameClock } from './logic/FrameClock.ts';
import { MemberMedia, type MemberMediaOf } from './ffmpeg/MemberMedia.ts';
import { KeyframeLimiter } from './logic/KeyframeLimiter.ts';
import { createLogger } from '../base/log/logger.ts';
import { newRosterState, Roster, type RosterMember } from './logic/Roster.ts';
import { SizedFrames } from './SizedFrames.ts';
import { SpawnSlots } from './logic/SpawnSlots.ts';
import { SpeakerDetector } from './logic/SpeakerDetector.ts';
import { SpeakerMix } from './SpeakerMix.ts';
import { TileSourceMove } from './logic/TileSourceMove.ts';
import { TypedEmitter } from '../base/TypedEmitter.ts';
import type {
  DecoderKeyframeNeed,
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

/** A video decoder silent this long has lost its picture (or its publisher): it needs a keyframe. */
const FRAME_GAP_PLI_MS = 1000;
/** How often the server hears how many frames each video decoder has decoded. */
const DECODED_REPORT_MS = 100;
/**
 * Composite keyframes on request at most this often. FFmpeg cannot be told to make a keyframe
 * while it runs, so one is made by starting a new compositor beside the running one: its first
 * frame is a keyframe, and the stream switches there (make before break).
 */
const KEYFRAME_ON_REQUEST_MIN_MS = 1000;
/** A change of tile-source size (sourceSize.ts) waits at most this long for every decoder at the new size. */
const RESIZE_TIMEOUT_MS = 2500;

interface Member extends RosterMember<Decoder>, MemberMediaOf {
  readonly info: SessionParticipant;
}

/**
 * A room's running mixer: one decoder per participant and kind, the video clock that paces
 * the latest frame of everyone into the compositor, the audio clock that mixes every 20 ms, and
 * the encoders. It knows nothing of rooms or WebRTC: RTP comes in and goes out on loopback ports.
 * What it does is decided in mixer/logic (CompositorSwitch, TileSourceMove, Roster, SpawnSlots,
 * KeyframeLimiter, MixTick); this class runs FFmpeg and the timers, and passes events on.
 */
export class Session extends TypedEmitter<SessionEvents> implements SessionLike {
  readonly observer = new TypedEmitter<SessionObserverEvents>();
  readonly settings: SessionSettings;
  readonly #workDir: string;
  /** Frame pools and black tiles, per tile-source size. */
  readonly #frames = new SizedFrames();
  readonly #members = new Roster<Decoder, Member>((frame) => this.#frames.release(frame));
  readonly #mixer = new AudioMixer();
  readonly #speakers = new SpeakerDetector();
  readonly #videoClock: FrameClock;
  readonly #audioClock: FrameClock;
  /** The size decoders deliver and compositors take (sourceSize.ts), and a move to another. */
  readonly #sizes: TileSourceMove;
  /** What everyone hears: top-speaker mixing, its encoders and their routing (SpeakerMix.ts). */
  readonly #speakerMix: SpeakerMix;
  readonly #switch = new CompositorSwitch();
  readonly #compositors: CompositorSet;
  /** Participants' ports, label files and decoders. */
  readonly #media: MemberMedia<Member>;
  readonly #spawnSlots = new SpawnSlots();
  readonly #keyframeTimer: NodeJS.Timeout;
  readonly #decodedTimer: NodeJS.Timeout;
  /** Calls the deciders at their next deadline (#armDeadline). */
  #deadlineTimer?: NodeJS.Timeout;
  readonly #labelFont = findLabelFont();
  #closed = false;
  #layout: SessionLayout;
  /** H.264 wanted by someone other than a participant (an MP4 recording). */
  #h264Wanted = false;
  /** The lower rungs some viewer receives (indices into settings.rungs). */
  #rungsWanted: number[] = [];
  readonly #keyframeLimiter = new KeyframeLimiter(KEYFRAME_ON_REQUEST_MIN_MS);

  static async create(settings: SessionSettings): Promise<Session> {
    const workDir = await mkdtemp(join(tmpdir(), 'mcu-session-'));
    let session: Session | undefined;
    const speakerMix = await SpeakerMix.create({
      bitrateKbps: settings.audioBitrateKbps,
      fecLossPercent: settings.mixFecLossPercent,
      everyonePort: settings.everyoneMixPort,
      beforeStart: () => (session ? session.#spawnSlots.take() : Promise.resolve()),
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
    this.#sizes = new TileSourceMove({ canvas: settings.canvas, configured: settings.tileSource, timeoutMs: RESIZE_TIMEOUT_MS });
    this.#compositors = new CompositorSet({
      ...settings,
      frames: this.#frames,
      label: (id) => this.#members.get(id)?.label,
      onDied: (id, error) => this.#compositorDied(id, error),
    });
    this.#media = new MemberMedia({
      roster: this.#members,
      workDir,
      labelFont: this.#labelFont,
      frames: this.#frames,
      beforeStart: () => this.#spawnSlots.take(),
      size: () => this.#sizes.decodeSize,
      onVideoFrame: (member, frame, decoder) => this.#onVideoFrame(member, frame, decoder),
      onAudio: (id, pcm) => this.#mixer.push(id, pcm),
      onVideoRestart: (member) => this.#askKeyframe(member, 'restarted'),
    });
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
    const member: Member = { info, ...(await this.#media.open(info)), ...newRosterState() };
    this.#members.add(member);
    if (info.audio) this.#mixer.addSource(info.id);
    // The composite it receives first: its client connects while its decoders start.
    const needsH264 = info.receivesH264 === true && !this.#composesH264;
    if (needsH264) this.#recompose();
    if (info.mixPort !== undefined) this.#speakerMix.addListener(info.id, info.mixPort);
    // One after the other, each in its own slot: the clock must not wait for all of them at once.
    await this.#media.start(member, 'video');
    await this.#media.start(member, 'audio');
    // Its tile appears at its first decoded frame: have the compositor for that roster ready by
    // then (its first frame can come 300 ms after its decoders start).
    if (!needsH264 && info.video) {
      void this.#spawnSlots.take().then(() => {
        if (member.removed || member.latestFrame !== undefined) return;
        this.#apply(this.#switch.standby(this.#plan(this.#tileIds(info.id)), performance.now()));
      });
    }
    log.info({ participant: info.id, name: info.name, ports: member.ports }, 'participant added to session');
    return member.ports;
  }

  async removeParticipant(id: string): Promise<void> {
    const member = this.#members.remove(id);
    if (!member) return;
    this.#mixer.removeSource(id);
    this.#speakerMix.remove(id);
    if (this.#speakers.remove(id) === null) this.safeEmit('speaker', null);
    this.#recompose();
    await this.#media.release(member);
    log.info({ participant: id }, 'participant removed from session');
  }

  compositeSwitched(ssrc: number): void {
    const pending = this.#switch.pending;
    if (!pending || this.#compositors.get(pending.id)?.ssrc !== ssrc) return;
    log.info({ ssrc, afterMs: Math.round(performance.now() - pending.since) }, 'composite switched to the new compositor');
    this.#keyframeLimiter.sent(performance.now());
    this.#apply(this.#switch.switched(pending.id, performance.now()));
  }

  /** Whether the compositor being switched to (or running) encodes H.264 too. */
  get #composesH264(): boolean {
    return this.#switch.target?.plan.h264 === true;
  }

  setH264Wanted(wanted: boolean): void {
    if (this.#h264Wanted === wanted) return;
    this.#h264Wanted = wanted;
    this.#recompose();
  }

  setRungsWanted(rungs: number[]): void {
    const wanted = [...new Set(rungs.filter((i) => Number.isInteger(i) && i >= 0 && i < this.settings.rungs.length))].sort((a, b) => a - b);
    if (wanted.join() === this.#rungsWanted.join()) return;
    log.info({ rungs: wanted.map((i) => this.settings.rungs[i]) }, 'rungs of the composite wanted');
    this.#rungsWanted = wanted;
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
    if (this.#keyframeLimiter.request(performance.now(), this.#switch.pending !== undefined).make === 'now') this.#recompose(true);
    this.#armDeadline();
  }

  stats(): SessionStats {
    const compositor = this.#compositors.get(this.#switch.live?.id);
    return {
      participants: this.#members.size,
      tiles: [...(compositor?.tileIds ?? [])],
      layout: this.#layout,
      tileSource: this.#sizes.size,
      compositorFramesWritten: compositor?.framesWritten ?? 0,
      compositorTicksSkipped: compositor?.ticksSkipped ?? 0,
      videoClockSkipped: this.#videoClock.skipped,
      decoderRestarts: this.#members.decoderRestarts,
      compositorRestarts: this.#switch.restarts,
      compositeKeyframes: this.#keyframeLimiter.made,
      audio: { ...this.#mixer.toJSON(), clockSkipped: this.#audioClock.skipped, encoderFramesDropped: this.#speakerMix.encoderFramesDropped, speakerMix: this.#speakerMix.toJSON() },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#videoClock.stop();
    this.#audioClock.stop();
    this.#spawnSlots.close();
    clearInterval(this.#keyframeTimer);
    clearInterval(this.#decodedTimer);
    clearTimeout(this.#deadlineTimer);
    const members = this.#members.clear();
    this.#switch.close();
    await Promise.all([this.#compositors.close(), this.#speakerMix.close(), this.#media.close(members)]);
    await rm(this.#workDir, { recursive: true, force: true });
    log.info('session closed');
    this.safeEmit('@close');
    this.observer.safeEmit('close');
  }

  #onVideoFrame(member: Member, frame: Buffer, decoder: Decoder): void {
    const outcome = this.#members.videoFrame(member, decoder, frame, performance.now());
    void outcome.close?.close();
    if (outcome.is === 'first') {
      log.info({ participant: member.info.id }, 'first video frame decoded');
      this.observer.safeEmit('firstframe', member.info.id);
      this.#recompose();
    }
    // A decoder at the new size took over: once every one has, compose at it.
    if (outcome.is === 'moved' && this.#sizes.target && this.#members.allMoved((d) => this.#sizes.moved(d.tileSource))) this.#finishResize();
  }

  /** Who has a tile (`newcomer`: with the one whose first frame comes), the one in focus first. */
  #tileIds(newcomer?: string): string[] {
    const { kind, presenter } = this.#layout;
    return this.#members.tileIds((kind === 'speaker' ? this.#speakers.speaker : kind === 'presenter' ? presenter : undefined) ?? undefined, newcomer);
  }

  #plan(ids: string[]): CompositorPlan {
    return compositorPlan(ids, this.#layout.kind, this.#h264Wanted || this.#members.receivesH264, this.#sizes.size, this.#rungsWanted);
  }

  /** Composes the current roster: a compositor for it starts beside the running one (make before break). */
  #recompose(force = false): void {
    if (this.#closed) return;
    const plan = this.#plan(this.#tileIds());
    // A new tile-source size first: decoders move to it, and a newcomer's tile waits for that
    // (#finishResize); leaves and keyframes are composed at the old size meanwhile.
    const shown = this.#switch.target?.plan.ids ?? [];
    if (this.#resize(plan) && plan.ids.some((id) => !shown.includes(id))) return this.#armDeadline();
    this.#apply(this.#switch.compose(plan, performance.now(), force));
  }

  /** Carries out what the compositor switch decided. */
  #apply(actions: SwitchAction[]): void {
    for (const action of actions) {
      const compositor = this.#compositors.run(action);
      if (action.do === 'announce' && compositor) {
        const { ssrc, h264Ssrc, rungSsrcs } = compositor;
        log.info({ tiles: compositor.tileIds, ssrc, h264Ssrc, rungs: rungSsrcs, standby: action.warm }, 'compositor started');
        this.safeEmit('compositestart', { vp8: ssrc, ...(h264Ssrc !== undefined ? { h264: h264Ssrc } : {}), rungs: rungSsrcs });
      } else if (action.do === 'live') {
        const live = this.#switch.live;
        if (live && this.#sizes.oldSizeGone(live.plan.source)) this.#members.releaseHeld();
        this.observer.safeEmit('layoutchange', action.ids);
      } else if (action.do === 'standby') {
        const { plan, ifLive } = action;
        void this.#spawnSlots.take().then(() => this.#apply(this.#switch.standby(plan, performance.now(), ifLive)));
      } else if (action.do === 'restart') this.#recompose(true);
    }
    this.#armDeadline();
  }

  /** Runs the deciders at their next deadline (a switch's fallback, a standby, a restart, the end of a move, a keyframe). */
  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const times = [this.#switch.nextDeadline(), this.#sizes.nextDeadline(), this.#keyframeLimiter.nextDeadline()].filter((t) => t !== undefined);
    if (this.#closed || times.length === 0) return;
    this.#deadlineTimer = setTimeout(() => {
      const now = performance.now();
      if (this.#sizes.due(now)) this.#finishResize();
      if (this.#keyframeLimiter.atDeadline(now, this.#switch.pending !== undefined)) this.#recompose(true);
      this.#apply(this.#switch.due(now));
    }, Math.max(0, Math.min(...times) - performance.now()));
  }

  /** Starts moving every video decoder to the tile-source size `plan` wants, if it is another (TileSourceMove.ts); true while a move is under way. */
  #resize(plan: CompositorPlan): boolean {
    const move = this.#sizes.want(plan.ids.length, plan.kind, performance.now());
    if (move !== 'start') return move === 'moving';
    log.info({ from: this.#sizes.size, to: this.#sizes.target, tiles: plan.ids.length }, 'tile-source size changes: decoders move to it');
    this.#media.moveAll();
    return true;
  }

  /** Every decoder delivers at the new size (or the wait is over): compose at it. */
  #finishResize(): void {
    const size = this.#closed ? undefined : this.#sizes.finish();
    if (!size) return;
    log.info({ size }, 'tile-source size changed');
    this.#recompose();
  }

  #compositorDied(id: number, error: Error): void {
    const was = this.#switch.died(id, performance.now());
    if (was === 'gone') return;
    this.#compositors.forget(id);
    if (was === 'standby') log.warn({ err: error.message }, 'standby compositor died');
    else log.warn({ err: error.message }, 'compositor died; starting a new one');
    this.#armDeadline();
  }

  #videoTick(): void {
    const now = performance.now();
    for (const { id } of this.#switch.feeding) {
      const compositor = this.#compositors.get(id);
      const tiles = compositor && this.#frames.tiles(compositor.source);
      if (tiles) compositor.writeFrames(this.#members.tileFrames(compositor.tileIds, now, this.settings.placeholderAfterMs, tiles));
    }
    this.#spawnSlots.tick();
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

  /** Reports each video decoder that needs a keyframe; the server decides when to ask its publisher. */
  #requestKeyframes(): void {
    const now = performance.now();
    for (const member of this.#members.values()) {
      if (!member.info.video || !member.videoDecoder) continue;
      if (member.latestFrame === undefined) this.#askKeyframe(member, 'firstframe');
      else if (now - member.lastFrameAt > FRAME_GAP_PLI_MS) this.#askKeyframe(member, 'stalled');
    }
  }

  #askKeyframe(member: Member, need: DecoderKeyframeNeed): void {
    this.safeEmit('keyframeneeded', member.info.id, need);
  }
}
