import { randomUUID } from 'node:crypto';
import { createLogger } from '../../base/log/logger.ts';
import type { SessionLayout, SessionLike } from '../../mixer/SessionTypes.ts';
import type { SpareSessions } from '../../mixer/process/SpareSessions.ts';
import type { SessionSlot } from './SessionSlots.ts';
import { H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
import { recordingVideoCodec } from '../recording/recorderArgs.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { BadRequestError, ProtocolError, RoomFullError, RoomNotFoundError } from '../errors.ts';
import type { NackCounts } from '../peers/nackCounts.ts';
import { OutgoingStream } from '../peers/OutgoingStream.ts';
import { RecordingError } from '../recording/errors.ts';
import { Recorder } from '../recording/Recorder.ts';
import type { RecordingInfo } from '../recording/RecorderTypes.ts';
import type { RecordingTarget } from '../recording/recordingPath.ts';
import type { ParticipantSummary, ServerMessage } from '../signaling/messages.ts';
import { Participant } from './Participant.ts';
import type { AttachedMedia, NegotiatedMedia } from './ParticipantTypes.ts';
import type {
  JoinOptions,
  RoomEvents,
  RoomNetwork,
  RoomObserverEvents,
  RoomSettings,
  RoomStats,
  RoomSummary,
} from './RoomTypes.ts';

const log = createLogger('Room');

/** How long an offer waits for the slot of a session that is closing. */
const SESSION_SLOT_GRACE_MS = 150;

/**
 * A room: its participants, and while anyone is in it, its session. The composite and the mix
 * of everyone are outgoing streams that live as long as the room, so a session restart or a
 * compositor switch is invisible to the participants' senders.
 */
export class Room extends TypedEmitter<RoomEvents> {
  readonly name: string;
  readonly settings: RoomSettings;
  readonly observer = new TypedEmitter<RoomObserverEvents>();
  readonly #network: RoomNetwork;
  readonly #spares: SpareSessions;
  readonly #participants = new Map<string, Participant>();
  readonly #mixStreams = new Map<string, OutgoingStream>();
  readonly #signals = new Map<string, JoinOptions['signal']>();
  readonly #composite: OutgoingStream;
  readonly #compositeH264: OutgoingStream;
  readonly #everyoneMix: OutgoingStream;
  #session?: Promise<SessionLike>;
  /** Sessions that have started, by their promise: stats never wait for one that is starting. */
  readonly #started = new WeakMap<Promise<SessionLike>, SessionLike>();
  /** Serializes session start and stop, so a join during a stop gets a fresh session. */
  #sessionChain: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | undefined;
  #speaker: string | null = null;
  #layout: SessionLayout;
  /** The running recording; while there is one, the session runs even in an empty room. */
  #recorder?: Recorder;
  #recorderStarting = false;
  #recordingUnsubscribes: (() => void)[] = [];
  #lastRecording?: RecordingInfo;
  /** NACKs of participants that have left (the live ones are read from their peers). */
  readonly #pastNacks: NackCounts = { received: 0, sent: 0 };
  /** PLIs sent in the current session to publishers that have left (the live ones count their own). */
  #pastKeyframeRequests = 0;

  static async create(name: string, settings: RoomSettings, network: RoomNetwork, spares: SpareSessions): Promise<Room> {
    let onSwitch: (ssrc: number) => void = () => {};
    const composite = await OutgoingStream.create({
      kind: 'video',
      label: `${name} composite`,
      onSwitch: (ssrc) => onSwitch(ssrc),
    });
    const compositeH264 = await OutgoingStream.create({ kind: 'video', codec: 'H264', label: `${name} composite H.264` });
    const everyoneMix = await OutgoingStream.create({ kind: 'audio', label: `${name} mix` });
    const room = new Room(name, settings, network, spares, { composite, compositeH264, everyoneMix });
    onSwitch = (ssrc) => room.#onCompositeSwitched(ssrc);
    return room;
  }

  private constructor(
    name: string,
    settings: RoomSettings,
    network: RoomNetwork,
    spares: SpareSessions,
    streams: { composite: OutgoingStream; compositeH264: OutgoingStream; everyoneMix: OutgoingStream },
  ) {
    super();
    this.name = name;
    this.settings = settings;
    this.#layout = settings.session.layout;
    this.#network = network;
    this.#spares = spares;
    this.#composite = streams.composite;
    this.#compositeH264 = streams.compositeH264;
    this.#everyoneMix = streams.everyoneMix;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get participantCount(): number {
    return this.#participants.size;
  }

  /** The outgoing composite (tests and stats read its counters). */
  get composite(): OutgoingStream {
    return this.#composite;
  }

  participants(): ParticipantSummary[] {
    return [...this.#participants.values()].filter((p) => !p.hidden).map((p) => ({ id: p.id, name: p.name }));
  }

  getParticipant(id: string): Participant | undefined {
    return this.#participants.get(id);
  }

  summary(): RoomSummary {
    return {
      name: this.name,
      participants: this.participants(),
      layout: this.#layout,
      speaker: this.#speaker,
      sessionRunning: this.#session !== undefined,
    };
  }

  get layout(): SessionLayout {
    return this.#layout;
  }

  /** Switches the layout, now and for later sessions. A presenter must be in the room. */
  setLayout(layout: SessionLayout): void {
    if (layout.kind === 'presenter' && (!layout.presenter || !this.#participants.has(layout.presenter))) {
      throw new BadRequestError(`the presenter must be a participant of room ${this.name}`);
    }
    this.#layout = layout.kind === 'presenter' ? layout : { kind: layout.kind };
    void this.#session?.then((session) => session.setLayout(this.#layout)).catch(() => {});
  }

  /** Live figures of the room's session and outgoing composite (undefined session: none running, or still starting). */
  async stats(): Promise<RoomStats> {
    const session = this.#session && this.#started.get(this.#session);
    const nacks = { ...this.#pastNacks };
    for (const participant of this.#participants.values()) {
      const live = participant.nacks;
      nacks.received += live.received;
      nacks.sent += live.sent;
    }
    const round = (n: number): number => Math.round(n * 10) / 10;
    let keyframeRequests = this.#pastKeyframeRequests;
    for (const participant of this.#participants.values()) keyframeRequests += participant.videoIngest?.keyframeRequests ?? 0;
    return {
      ...this.summary(),
      settings: {
        maxParticipants: this.settings.maxParticipants,
        size: `${this.settings.session.canvas.width}x${this.settings.session.canvas.height}`,
        fps: this.settings.session.fps,
        bitrateKbps: this.settings.session.videoBitrateKbps,
        placeholderAfterSeconds: this.settings.session.placeholderAfterMs / 1000,
      },
      session: session && { ...session.stats(), keyframeRequests },
      composite: {
        packets: this.#composite.packets,
        bytes: this.#composite.bytes,
        frames: this.#composite.frames,
        switches: this.#composite.switcher.switches,
        fps: round(this.#composite.frameRate),
        bitrateKbps: round(this.#composite.bitrate / 1000),
      },
      mix: {
        bitrateKbps: round(this.#everyoneMix.bitrate / 1000),
        // Packets an encoder sent faster than real time, not passed on (OutgoingStream's pacer).
        burstDropped: [this.#everyoneMix, ...this.#mixStreams.values()].reduce((n, s) => n + (s.pacer?.dropped ?? 0), 0),
        // The worst of the mixes: what a participant's jitter buffer must absorb.
        jitterMs: round(Math.max(this.#everyoneMix.jitter?.ms ?? 0, ...[...this.#mixStreams.values()].map((s) => s.jitter?.ms ?? 0))),
      },
      nacks,
      recording: this.recording ?? null,
    };
  }

  /** The running recording, else the last one (finished or failed), else undefined. */
  get recording(): RecordingInfo | undefined {
    return this.#recorder?.info() ?? this.#lastRecording;
  }

  /**
   * Records the composite and the mix of everyone into `target` (checked to be inside the
   * recordings folder), from now until `stopRecording()` or the room closes. The session runs
   * meanwhile even when nobody is in the room: the file then shows a black composite and silence.
   */
  async startRecording(target: RecordingTarget): Promise<RecordingInfo> {
    if (this.#closed) throw new RoomNotFoundError(this.name);
    if (this.#recorder || this.#recorderStarting) {
      throw new RecordingError('recording_active', `room ${this.name} is already recording ${this.#recorder?.file ?? ''}`.trim());
    }
    this.#recorderStarting = true;
    try {
      const session = this.#ensureSession();
      session.catch(() => {});
      const h264 = recordingVideoCodec(target.container) === 'H264';
      const recorder = await Recorder.create({
        room: this.name,
        ...target,
        videoPayloadType: h264 ? H264_PAYLOAD_TYPE : VP8_PAYLOAD_TYPE,
        audioPayloadType: OPUS_PAYLOAD_TYPE,
        fps: this.settings.session.fps,
        requestKeyframe: () => void this.#session?.then((s) => s.requestCompositeKeyframe()).catch(() => {}),
      });
      if (this.#closed) {
        await recorder.stop();
        throw new RoomNotFoundError(this.name);
      }
      this.#recorder = recorder;
      const video = h264 ? this.#compositeH264 : this.#composite;
      this.#recordingUnsubscribes = [
        video.onRtp((packet) => recorder.push('video', packet)),
        this.#everyoneMix.onRtp((packet) => recorder.push('audio', packet)),
      ];
      recorder.once('@close', (info) => this.#onRecordingClosed(recorder, info));
      if (h264) void this.#session?.then((s) => s.setH264Wanted(true)).catch(() => {});
      log.info({ room: this.name, file: target.file }, 'recording started');
      this.observer.safeEmit('recordingstart', recorder.info());
      return recorder.info();
    } finally {
      this.#recorderStarting = false;
    }
  }

  /** Stops the recording and resolves once its file is finalized. */
  async stopRecording(): Promise<RecordingInfo> {
    const recorder = this.#recorder;
    if (!recorder) throw new RecordingError('recording_not_found', `room ${this.name} is not recording`);
    return recorder.stop();
  }

  #onRecordingClosed(recorder: Recorder, info: RecordingInfo): void {
    if (this.#recorder !== recorder) return;
    for (const unsubscribe of this.#recordingUnsubscribes.splice(0)) unsubscribe();
    this.#recorder = undefined;
    this.#lastRecording = info;
    log.info({ room: this.name, file: info.file, state: info.state }, 'recording ended');
    this.observer.safeEmit('recordingstop', info);
    if (recordingVideoCodec(info.container) === 'H264') void this.#session?.then((s) => s.setH264Wanted(false)).catch(() => {});
    // The session ran for the recording alone: it can go, and so can a temporary room.
    if (!this.#closed && this.#participants.size === 0) {
      void this.#stopSession();
      this.safeEmit('@empty');
    }
  }

  /** Adds a participant; the session starts with the first offer. */
  join(options: JoinOptions): Participant {
    if (this.#closed) throw new RoomNotFoundError(this.name);
    if (this.#participants.size >= this.settings.maxParticipants) {
      throw new RoomFullError(this.name, this.settings.maxParticipants);
    }
    const participant = new Participant({
      id: randomUUID().slice(0, 8),
      name: options.name,
      room: this.name,
      signal: options.signal,
      hooks: { attach: (p, media) => this.#attach(p.id, media) },
      ...this.#network,
      ...(options.access ? { access: options.access } : {}),
    });
    this.#participants.set(participant.id, participant);
    this.#signals.set(participant.id, options.signal);
    participant.once('@close', () => this.#onParticipantClosed(participant));
    participant.observer.on('keyframerequest', () => {
      void this.#session?.then((session) => session.requestCompositeKeyframe()).catch(() => {});
    });
    log.info({ room: this.name, participant: participant.id, name: participant.name }, 'participant joined');
    this.observer.safeEmit('newparticipant', participant);
    return participant;
  }

  /** Removes a participant at an operator's request; it is told with a `kicked` error. False if unknown. */
  kick(id: string): boolean {
    const participant = this.#participants.get(id);
    if (!participant) return false;
    this.#signals.get(id)?.send({ type: 'error', code: 'kicked', message: 'an operator removed you from the room' });
    participant.close('kicked');
    return true;
  }

  /** Sends every participant the new roster (the protocol's `participants` message). */
  broadcastParticipants(): void {
    this.#broadcast({ type: 'participants', participants: this.participants() });
  }

  /** The active speaker, for a newcomer (the protocol's `speaker` message). */
  get speaker(): string | null {
    return this.#speaker;
  }

  #broadcast(message: ServerMessage): void {
    for (const signal of this.#signals.values()) signal.send(message);
  }

  /**
   * Closes the room; `reason`, when given, is sent to every participant as a `room_closed` error.
   * A second call waits for the same close: a server that stops must not leave a session behind.
   */
  close(reason?: string): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason?: string): Promise<void> {
    this.#closed = true;
    if (reason) this.#broadcast({ type: 'error', code: 'room_closed', message: reason });
    for (const p of [...this.#participants.values()]) p.roomClosed();
    this.#participants.clear();
    // Before the session: the recorder finishes its file while the composite still flows.
    await this.#recorder?.stop();
    await this.#stopSession();
    this.#composite.close();
    this.#compositeH264.close();
    this.#everyoneMix.close();
    for (const stream of this.#mixStreams.values()) stream.close();
    this.#mixStreams.clear();
    this.safeEmit('@close');
    this.observer.safeEmit('close');
  }

  /**
   * Gives a participant its outgoing tracks at once, and takes its media into the session in
   * the background (`ports`): the answer must not wait for a session process that is starting.
   */
  async #attach(participantId: string, media: NegotiatedMedia): Promise<AttachedMedia> {
    const participant = this.#participants.get(participantId);
    if (!participant) throw new Error(`participant ${participantId} is not in room ${this.name}`);
    // A room without a session takes a slot for one now: refused at the offer, before an answer.
    const slots = this.#network.sessions;
    if (!this.#session && slots) {
      await slots.available(SESSION_SLOT_GRACE_MS);
      if (!this.#session) void this.#ensureSession(slots.take()).catch(() => {});
    }
    const left = () => !this.#participants.has(participantId);
    if (left()) throw new ProtocolError('not_joined', 'left while the offer was being answered');
    let mix: OutgoingStream | undefined;
    if (media.audio) {
      mix = await OutgoingStream.create({ kind: 'audio', label: `${this.name} mix for ${participantId}` });
      if (left()) {
        mix.close();
        throw new ProtocolError('not_joined', 'left while the offer was being answered');
      }
      this.#mixStreams.set(participantId, mix);
    }
    // The composite is VP8, or H.264 for a client that offered no VP8 (README: Signaling, Codecs).
    const receivesH264 = media.plan.video?.receives === true && media.plan.video.codec === 'H264';
    const ports = (async () => {
      const session = await this.#ensureSession();
      if (left()) throw new ProtocolError('not_joined', 'left while the offer was being answered');
      const given = await session.addParticipant({
        id: participantId,
        name: participant.name,
        ...(media.video ? { video: media.video } : {}),
        ...(media.audio ? { audio: media.audio } : {}),
        ...(mix ? { mixPort: mix.port } : {}),
        ...(receivesH264 ? { receivesH264 } : {}),
      });
      // It left while the session was adding it: its removal ran before the add, so undo the add.
      if (left()) {
        await session.removeParticipant(participantId);
        throw new ProtocolError('not_joined', 'left while the offer was being answered');
      }
      return given;
    })();
    const composite = receivesH264 ? this.#compositeH264 : this.#composite;
    return {
      ports,
      ...(media.plan.video?.receives ? { videoTrack: composite.attach() } : {}),
      ...(media.plan.audio?.receives ? { audioTrack: (mix ?? this.#everyoneMix).attach() } : {}),
    };
  }

  /** The room's session, started now if there is none (in `slot` when one was taken for it). */
  #ensureSession(slot?: SessionSlot): Promise<SessionLike> {
    if (!this.#session) {
      const starting = this.#sessionChain.then(() => this.#startSession(slot));
      this.#session = starting;
      this.#sessionChain = starting.catch(() => {});
      starting.then((session) => this.#started.set(starting, session)).catch(() => {
        if (this.#session === starting) this.#session = undefined;
      });
    }
    return this.#session;
  }

  async #startSession(slot?: SessionSlot): Promise<SessionLike> {
    const ports = { compositePort: this.#composite.port, compositeH264Port: this.#compositeH264.port, everyoneMixPort: this.#everyoneMix.port };
    const create = () => this.#spares.start({ ...this.settings.session, layout: this.#layout, ...ports });
    const session = await (this.#network.sessions?.start(create, slot) ?? create());
    this.#pastKeyframeRequests = 0;
    session.on('keyframeneeded', (id, need) => this.#participants.get(id)?.requestKeyframe(need));
    session.on('decoded', (counts) => {
      for (const [id, frames] of Object.entries(counts)) this.#participants.get(id)?.decoderProgress(frames);
    });
    session.on('compositestart', (sources) => {
      // A compositor's first frame is a warm-up nobody may see (Session#startCompositor).
      const options = { skipFirstFrame: true };
      this.#composite.expect(sources.vp8, options);
      if (sources.h264 !== undefined) this.#compositeH264.expect(sources.h264, options);
    });
    session.once('@close', () => this.#onSessionLost(session));
    session.observer.on('firstframe', (id) => this.observer.safeEmit('firstframe', id));
    session.observer.on('layoutchange', (ids) => this.observer.safeEmit('layoutchange', ids));
    if (this.#recorder && recordingVideoCodec(this.#recorder.info().container) === 'H264') session.setH264Wanted(true);
    session.on('speaker', (id) => {
      this.#speaker = id;
      this.#broadcast({ type: 'speaker', id });
    });
    log.info({ room: this.name }, 'session started');
    this.observer.safeEmit('sessionstart');
    return session;
  }

  #stopSession(): Promise<void> {
    const current = this.#session;
    if (!current) return this.#sessionChain.then(() => undefined);
    this.#session = undefined;
    const stopping = this.#sessionChain.then(async () => {
      const session = await current.catch(() => undefined);
      if (session) this.#network.sessions?.closing(session);
      await session?.close();
      this.#speaker = null;
      log.info({ room: this.name }, 'session stopped');
      this.observer.safeEmit('sessionclose');
    });
    this.#sessionChain = stopping.catch(() => {});
    return stopping;
  }

  /**
   * The session ended without being asked to (its process died). Its participants' media went with
   * it: tell them and remove them, so that their clients can join again into a fresh session.
   */
  #onSessionLost(session: SessionLike): void {
    void this.#session?.then((current) => {
      if (current !== session || this.#closed) return;
      this.#session = undefined;
      log.error({ room: this.name }, 'session lost; removing its participants');
      for (const [id, participant] of [...this.#participants]) {
        this.#signals.get(id)?.send({ type: 'error', code: 'internal', message: 'the mixer failed; join again' });
        participant.close('session lost');
      }
      // A recording goes on through a new session (its file shows the gap as a held picture).
      if (this.#recorder) {
        void this.#ensureSession().catch((error: unknown) => {
          log.error({ room: this.name, err: (error as Error).message }, 'session failed to restart for the recording');
        });
      }
    });
  }

  #onCompositeSwitched(ssrc: number): void {
    void this.#session?.then((s) => s.compositeSwitched(ssrc)).catch(() => {});
  }

  #onParticipantClosed(participant: Participant): void {
    const nacks = participant.nacks;
    this.#pastNacks.received += nacks.received;
    this.#pastNacks.sent += nacks.sent;
    this.#pastKeyframeRequests += participant.videoIngest?.keyframeRequests ?? 0;
    this.#participants.delete(participant.id);
    this.#signals.delete(participant.id);
    const mix = this.#mixStreams.get(participant.id);
    this.#mixStreams.delete(participant.id);
    const session = this.#session;
    void (async () => {
      await (await session?.catch(() => undefined))?.removeParticipant(participant.id);
    })()
      .catch((error: unknown) => log.warn({ room: this.name, err: error }, 'removing a participant from the session failed'))
      .finally(() => mix?.close());
    log.info({ room: this.name, participant: participant.id }, 'participant left');
    this.observer.safeEmit('participantleft', participant.id);
    this.broadcastParticipants();
    if (this.#participants.size === 0) {
      if (!this.#recorder && !this.#recorderStarting) void this.#stopSession();
      this.safeEmit('@empty');
    }
  }
}
