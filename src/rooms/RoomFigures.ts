import type { NackCounts } from '../peers/nackCounts.ts';
import type { OutgoingStream } from '../peers/OutgoingStream.ts';
import type { Participant } from './Participant.ts';
import type { RoomLadders } from './RoomLadders.ts';
import type { RoomMedia } from './RoomMedia.ts';
import type { RoomMembers } from './RoomMembers.ts';
import type { RoomRecording } from './RoomRecording.ts';
import type { RoomSession } from './RoomSession.ts';
import type { RoomSettings, RoomStats, RoomSummary } from './RoomTypes.ts';

/** The parts of a room the figures are read from. */
export interface RoomParts {
  members: RoomMembers<Participant, OutgoingStream>;
  media: RoomMedia;
  session: RoomSession;
  recording: RoomRecording;
  ladders: RoomLadders;
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * A room's live figures (the REST API's, the metrics', the CLI's), read from the room's parts.
 * Exists so that counting stays out of the room's wiring; it keeps the one figure nobody else
 * does: the NACKs of participants that have left (the live ones are read from their peers).
 */
export class RoomFigures {
  readonly #settings: RoomSettings;
  readonly #parts: RoomParts;
  readonly #pastNacks: NackCounts = { received: 0, sent: 0, refused: 0 };
  /** PLIs sent in the current session to publishers that have left (the live ones count their own). */
  #pastKeyframeRequests = 0;

  constructor(settings: RoomSettings, parts: RoomParts) {
    this.#settings = settings;
    this.#parts = parts;
  }

  /** A participant left: its peer's NACKs and the PLIs sent to it go into the room's totals. */
  participantLeft(nacks: NackCounts, keyframeRequests: number): void {
    this.#pastNacks.received += nacks.received;
    this.#pastNacks.sent += nacks.sent;
    this.#pastNacks.refused += nacks.refused;
    this.#pastKeyframeRequests += keyframeRequests;
  }

  /** A session started: its keyframe requests are counted from zero. */
  sessionStarted(): void {
    this.#pastKeyframeRequests = 0;
  }

  /** Everything about the room now (undefined session: none running, or still starting). */
  stats(summary: RoomSummary): RoomStats {
    const { members, media, session, recording, ladders } = this.#parts;
    const settings = this.#settings;
    const nacks = { ...this.#pastNacks };
    let keyframeRequests = this.#pastKeyframeRequests;
    let silentPublishers = 0;
    for (const { participant } of members.list()) {
      if (participant.audioHeld) silentPublishers++;
      const live = participant.nacks;
      nacks.received += live.received;
      nacks.sent += live.sent;
      nacks.refused += live.refused;
      keyframeRequests += participant.videoIngest?.keyframeRequests ?? 0;
    }
    const current = session.current;
    const mixes = [media.everyoneMix, ...members.mixes()];
    const { composite } = media;
    return {
      ...summary,
      settings: {
        maxParticipants: settings.maxParticipants,
        size: `${settings.session.canvas.width}x${settings.session.canvas.height}`,
        fps: settings.session.fps,
        bitrateKbps: settings.session.videoBitrateKbps,
        placeholderAfterSeconds: settings.session.placeholderAfterMs / 1000,
        ladder: [
          { ...settings.session.canvas, kbps: settings.session.videoBitrateKbps },
          ...settings.session.rungs,
        ].map(({ width, height, kbps }) => `${width}x${height}@${kbps}`),
      },
      session: current && { ...current.stats(), keyframeRequests },
      composite: {
        packets: composite.packets,
        bytes: composite.bytes,
        frames: composite.frames,
        switches: composite.switcher.switches,
        fps: round(composite.frameRate),
        bitrateKbps: round(composite.bitrate / 1000),
      },
      mix: {
        bitrateKbps: round(media.everyoneMix.bitrate / 1000),
        // Packets an encoder sent faster than real time, not passed on (OutgoingStream's pacer).
        burstDropped: mixes.reduce((n, s) => n + (s.pacer?.dropped ?? 0), 0),
        // The worst of the mixes: what a participant's jitter buffer must absorb.
        jitterMs: round(Math.max(...mixes.map((s) => s.jitter?.ms ?? 0))),
        silentPublishers,
      },
      nacks,
      viewers: ladders.figures(),
      recording: recording.info ?? null,
    };
  }
}
