import { randomUUID } from 'node:crypto';
import { createLogger } from '../../base/log/logger.ts';
import type { SessionLayout, SessionLike } from '../../mixer/SessionTypes.ts';
import type { SpareSessions } from '../../mixer/process/SpareSessions.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { BadRequestError, ProtocolError, RoomFullError, RoomNotFoundError } from '../errors.ts';
import type { OutgoingStream } from '../peers/OutgoingStream.ts';
import type { RecordingInfo } from '../recording/RecorderTypes.ts';
import type { RecordingTarget } from '../recording/recordingPath.ts';
import type { ParticipantSummary, ServerMessage } from '../signaling/messages.ts';
import { Participant } from './Participant.ts';
import type { AttachedMedia, NegotiatedMedia } from './ParticipantTypes.ts';
import { RoomFigures } from './RoomFigures.ts';
import { RoomLadders } from './RoomLadders.ts';
import { RoomMedia } from './RoomMedia.ts';
import { receivesH264, RoomMembers } from './RoomMembers.ts';
import type { ViewerLink } from '../ladder/ViewerLadder.ts';
import { RoomRecording } from './RoomRecording.ts';
import { RoomSession } from './RoomSession.ts';
import type { JoinOptions, RoomEvents, RoomNetwork, RoomObserverEvents, RoomSettings, RoomStats, RoomSummary } from './RoomTypes.ts';

const log = createLogger('Room');

/**
 * A room: its participants, and while anyone is in it (or it records), its session. The room is
 * wiring: it owns its parts and connects them, in the parent-owns-children shape of mediasoup's
 * Router. Its members (RoomMembers) are the one record of who is in it; RoomSession starts and
 * stops the session, RoomMedia holds the outgoing composite and mixes, RoomRecording the
 * recording, RoomFigures the stats. close() closes them all and every participant, once.
 */
export class Room extends TypedEmitter<RoomEvents> {
  readonly name: string;
  readonly settings: RoomSettings;
  readonly observer = new TypedEmitter<RoomObserverEvents>();
  readonly #network: RoomNetwork;
  readonly #members: RoomMembers<Participant, OutgoingStream>;
  readonly #media: RoomMedia;
  readonly #session: RoomSession;
  readonly #recording: RoomRecording;
  readonly #figures: RoomFigures;
  readonly #ladders: RoomLadders;
  #closed = false;
  #closing: Promise<void> | undefined;
  #layout: SessionLayout;

  static async create(name: string, settings: RoomSettings, network: RoomNetwork, spares: SpareSessions): Promise<Room> {
    let onSwitch: (ssrc: number) => void = () => {};
    const media = await RoomMedia.create(name, settings.session.rungs.length, (ssrc) => onSwitch(ssrc));
    const room = new Room(name, settings, network, spares, media);
    // The VP8 composite now sends this compositor: older ones can stop.
    onSwitch = (ssrc) => room.#session.use((s) => s.compositeSwitched(ssrc));
    return room;
  }

  private constructor(name: string, settings: RoomSettings, network: RoomNetwork, spares: SpareSessions, media: RoomMedia) {
    super();
    this.name = name;
    this.settings = settings;
    this.#layout = settings.session.layout;
    this.#network = network;
    this.#media = media;
    this.#members = new RoomMembers(settings.maxParticipants);
    this.#session = new RoomSession({
      room: name,
      slots: network.sessions,
      create: () => spares.start({ ...settings.session, layout: this.#layout, ...media.sessionPorts() }),
    });
    this.#recording = new RoomRecording({ room: name, fps: settings.session.fps, media, session: this.#session });
    const { canvas, videoBitrateKbps, audioBitrateKbps, rungs } = settings.session;
    this.#ladders = new RoomLadders({
      room: name,
      ladder: [{ ...canvas, kbps: videoBitrateKbps }, ...rungs],
      audioKbps: audioBitrateKbps,
      renditions: media.renditions,
      session: (use) => this.#session.use(use),
      send: (id, message) => this.#members.get(id)?.signal.send(message),
    });
    this.#figures = new RoomFigures(settings, {
      members: this.#members,
      media,
      session: this.#session,
      recording: this.#recording,
      ladders: this.#ladders,
    });
    this.#session.on('@start', (session) => this.#onSessionStarted(session));
    this.#session.on('@stop', () => this.observer.safeEmit('sessionclose'));
    this.#session.on('@lost', () => this.#onSessionLost());
    this.#session.on('@speaker', (id) => this.#broadcast({ type: 'speaker', id }));
    this.#recording.on('@start', (info) => this.observer.safeEmit('recordingstart', info));
    this.#recording.on('@stop', (info) => this.#onRecordingStopped(info));
  }

  get closed(): boolean {
    return this.#closed;
  }

  get participantCount(): number {
    return this.#members.size;
  }

  /** The outgoing composite (tests and stats read its counters). */
  get composite(): OutgoingStream {
    return this.#media.composite;
  }

  participants(): ParticipantSummary[] {
    return this.#members.roster();
  }

  getParticipant(id: string): Participant | undefined {
    return this.#members.get(id)?.participant;
  }

  summary(): RoomSummary {
    return {
      name: this.name,
      participants: this.participants(),
      layout: this.#layout,
      speaker: this.speaker,
      sessionRunning: this.#session.running,
    };
  }

  get layout(): SessionLayout {
    return this.#layout;
  }

  /** Switches the layout, now and for later sessions. A presenter must be in the room. */
  setLayout(layout: SessionLayout): void {
    if (layout.kind === 'presenter' && (!layout.presenter || !this.#members.has(layout.presenter))) {
      throw new BadRequestError(`the presenter must be a participant of room ${this.name}`);
    }
    this.#layout = layout.kind === 'presenter' ? layout : { kind: layout.kind };
    this.#session.use((session) => session.setLayout(this.#layout));
  }

  /** Live figures of the room's session and outgoing composite (undefined session: none running, or still starting). */
  async stats(): Promise<RoomStats> {
    return this.#figures.stats(this.summary());
  }

  /** The running recording, else the last one (finished or failed), else undefined. */
  get recording(): RecordingInfo | undefined {
    return this.#recording.info;
  }

  /**
   * Records the composite and the mix of everyone into `target` (checked to be inside the
   * recordings folder), from now until `stopRecording()` or the room closes. The session runs
   * meanwhile even when nobody is in the room: the file then shows a black composite and silence.
   */
  async startRecording(target: RecordingTarget): Promise<RecordingInfo> {
    if (this.#closed) throw new RoomNotFoundError(this.name);
    return this.#recording.start(target);
  }

  /** Stops the recording and resolves once its file is finalized. */
  stopRecording(): Promise<RecordingInfo> {
    return this.#recording.stop();
  }

  /** Adds a participant; the session starts with the first offer. */
  join(options: JoinOptions): Participant {
    if (this.#closed) throw new RoomNotFoundError(this.name);
    if (this.#members.full) throw new RoomFullError(this.name, this.settings.maxParticipants);
    const participant = new Participant({
      id: randomUUID().slice(0, 8),
      name: options.name,
      room: this.name,
      signal: options.signal,
      hooks: { attach: (p, media) => this.#attach(p.id, media) },
      ...this.#network,
      ...(options.access ? { access: options.access } : {}),
    });
    this.#members.add(participant, options.signal);
    participant.once('@close', () => this.#onParticipantClosed(participant));
    participant.observer.on('keyframerequest', () => this.#session.use((session) => session.requestCompositeKeyframe()));
    log.info({ room: this.name, participant: participant.id, name: participant.name }, 'participant joined');
    this.observer.safeEmit('newparticipant', participant);
    return participant;
  }

  /**
   * The best rung of the ladder a viewer wants (0: any; the ladder's length: audio only), its
   * data-saver choice. False: no such participant receiving the VP8 composite.
   */
  setRungCap(id: string, cap: number): boolean {
    return this.#ladders.setCap(id, cap);
  }

  /** Removes a participant at an operator's request; it is told with a `kicked` error. False if unknown. */
  kick(id: string): boolean {
    const member = this.#members.get(id);
    if (!member) return false;
    member.signal.send({ type: 'error', code: 'kicked', message: 'an operator removed you from the room' });
    member.participant.close('kicked');
    return true;
  }

  /** Sends every participant the new roster (the protocol's `participants` message). */
  broadcastParticipants(): void {
    this.#broadcast({ type: 'participants', participants: this.participants() });
  }

  /** The active speaker, for a newcomer (the protocol's `speaker` message). */
  get speaker(): string | null {
    return this.#session.speaker;
  }

  #broadcast(message: ServerMessage): void {
    for (const { signal } of this.#members.list()) signal.send(message);
  }

  /**
   * Closes the room and, in turn, its participants, recording, session and media; `reason`, when
   * given, is sent to every participant as a `room_closed` error. A second call waits for the same
   * close: a server that stops must not leave a session behind.
   */
  close(reason?: string): Promise<void> {
    this.#closing ??= this.#close(reason);
    return this.#closing;
  }

  async #close(reason?: string): Promise<void> {
    this.#closed = true;
    if (reason) this.#broadcast({ type: 'error', code: 'room_closed', message: reason });
    const members = this.#members.clear();
    for (const { participant } of members) participant.roomClosed();
    // Before the session: the recorder finishes its file while the composite still flows.
    await this.#recording.close();
    await this.#session.close();
    this.#ladders.close();
    this.#media.close();
    for (const { mix } of members) mix?.close();
    this.safeEmit('@close');
    this.observer.safeEmit('close');
  }

  /**
   * Gives a participant its outgoing tracks at once, and takes its media into the session in
   * the background (`ports`): the answer must not wait for a session process that is starting.
   */
  async #attach(id: string, media: NegotiatedMedia): Promise<AttachedMedia> {
    if (!this.#members.setMedia(id, media)) throw new Error(`participant ${id} is not in room ${this.name}`);
    await this.#session.reserve();
    const notJoined = (): ProtocolError => new ProtocolError('not_joined', 'left while the offer was being answered');
    if (!this.#members.has(id)) throw notJoined();
    if (media.audio) {
      const mix = await this.#media.createMix(id);
      if (!this.#members.setMix(id, mix)) {
        mix.close();
        throw notJoined();
      }
    }
    const ports = (async () => {
      const session = await this.#session.ensure();
      const joining = this.#members.forSession(id);
      if (!joining) throw notJoined();
      const given = await session.addParticipant(joining);
      // It left while the session was adding it: its removal ran before the add, so undo the add.
      if (!this.#members.has(id)) {
        await session.removeParticipant(id);
        throw notJoined();
      }
      return given;
    })();
    const chains = this.#media.chainsFor(media, this.#members.get(id)?.mix);
    // A viewer of the VP8 composite moves between its rungs as its link allows.
    const laddered = chains.video !== undefined && !receivesH264(media);
    if (chains.video && laddered) this.#ladders.add(id, chains.video, chains.audio);
    return {
      ports,
      ...(chains.video ? { videoTrack: chains.video.track } : {}),
      ...(chains.audio ? { audioTrack: chains.audio.track } : {}),
      ...(laddered ? { onSending: (link: ViewerLink) => this.#ladders.connect(id, link) } : {}),
    };
  }

  /** Wires a new session to the room's participants and media, before anyone uses it. */
  #onSessionStarted(session: SessionLike): void {
    this.#figures.sessionStarted();
    session.on('keyframeneeded', (id, need) => this.#members.get(id)?.participant.requestKeyframe(need));
    session.on('decoded', (counts) => {
      for (const [id, frames] of Object.entries(counts)) this.#members.get(id)?.participant.decoderProgress(frames);
    });
    session.on('compositestart', (sources) => this.#media.compositeStarted(sources));
    if (this.#ladders.wanted.length) session.setRungsWanted(this.#ladders.wanted);
    session.observer.on('firstframe', (id) => this.observer.safeEmit('firstframe', id));
    session.observer.on('layoutchange', (ids) => this.observer.safeEmit('layoutchange', ids));
    if (this.#recording.wantsH264) session.setH264Wanted(true);
    this.observer.safeEmit('sessionstart');
  }

  /**
   * The session ended without being asked to (its process died). Its participants' media went with
   * it: tell them and remove them, so that their clients can join again into a fresh session.
   */
  #onSessionLost(): void {
    if (this.#closed) return;
    log.error({ room: this.name }, 'session lost; removing its participants');
    for (const { participant, signal } of this.#members.list()) {
      signal.send({ type: 'error', code: 'internal', message: 'the mixer failed; join again' });
      participant.close('session lost');
    }
    // A recording goes on through a new session (its file shows the gap as a held picture).
    if (this.#recording.active) {
      this.#session.ensure().catch((error: unknown) => {
        log.error({ room: this.name, err: (error as Error).message }, 'session failed to restart for the recording');
      });
    }
  }

  #onRecordingStopped(info: RecordingInfo): void {
    this.observer.safeEmit('recordingstop', info);
    // The session ran for the recording alone: it can go, and so can a temporary room.
    if (!this.#closed && this.#members.size === 0) {
      void this.#session.stop();
      this.safeEmit('@empty');
    }
  }

  #onParticipantClosed(participant: Participant): void {
    this.#figures.participantLeft(participant.nacks, participant.videoIngest?.keyframeRequests ?? 0);
    const member = this.#members.remove(participant.id);
    this.#ladders.remove(participant.id);
    this.#session
      .removeParticipant(participant.id)
      .catch((error: unknown) => log.warn({ room: this.name, err: error }, 'removing a participant from the session failed'))
      .finally(() => member?.mix?.close());
    log.info({ room: this.name, participant: participant.id }, 'participant left');
    this.observer.safeEmit('participantleft', participant.id);
    this.broadcastParticipants();
    if (this.#members.size === 0) {
      if (!this.#recording.active) void this.#session.stop();
      this.safeEmit('@empty');
    }
  }
}
