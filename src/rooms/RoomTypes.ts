import type { SessionLayout, SessionMediaSettings, SessionStats } from '../../mixer/SessionTypes.ts';
import type { NackCounts } from '../peers/nackCounts.ts';
import type { ViewerRungFigures } from './RoomLadders.ts';
import type { IceServer } from '../peers/peerConfig.ts';
import type { RecordingInfo } from '../recording/RecorderTypes.ts';
import type { ParticipantSummary } from '../signaling/messages.ts';
import type { Participant } from './Participant.ts';
import type { ParticipantAccess, ParticipantSignal } from './ParticipantTypes.ts';
import type { SessionSlots } from './SessionSlots.ts';

/** A room's settings: how its session composes, and who may join. */
export interface RoomSettings {
  session: SessionMediaSettings;
  maxParticipants: number;
  /** Kept when empty (created by an operator), or removed with its last participant. */
  persistent: boolean;
}

/** What every room of a server shares. */
export interface RoomNetwork {
  hostAddresses: string[];
  iceServers: IceServer[];
  disconnectTimeoutMs: number;
  connectTimeoutMs: number;
  /** Decode publishers' silence too (ServerConfig.decodeSilence). */
  decodeSilence?: boolean;
  /** The server's budget of session processes (none: unlimited). */
  sessions?: SessionSlots;
}

export interface JoinOptions {
  name: string;
  signal: ParticipantSignal;
  /** What its token allows (default: everything, as in development mode). */
  access?: ParticipantAccess;
}

export type RoomEvents = {
  /** Heard by the room registry only. */
  '@empty': [];
  '@close': [];
};

export type RoomObserverEvents = {
  close: [];
  newparticipant: [Participant];
  participantleft: [participantId: string];
  sessionstart: [];
  sessionclose: [];
  /** A participant's decoder produced its first picture (its tile may appear now). */
  firstframe: [participantId: string];
  /** The participants that have a tile, in tile order. */
  layoutchange: [tileIds: string[]];
  recordingstart: [RecordingInfo];
  /** Finished or failed. */
  recordingstop: [RecordingInfo];
};

export interface RoomSummary {
  name: string;
  participants: ParticipantSummary[];
  layout: SessionLayout;
  /** The active speaker's id, or null. */
  speaker: string | null;
  sessionRunning: boolean;
}

export interface RoomStats extends RoomSummary {
  settings: {
    maxParticipants: number;
    size: string;
    fps: number;
    bitrateKbps: number;
    placeholderAfterSeconds: number;
    /** The composite's renditions, best first, as `WxH@kbps` (the first is the composite itself). */
    ladder: string[];
  };
  /** `keyframeRequests`: PLIs the server sent to publishers in this session (their keyframe requests link). */
  session: (SessionStats & { keyframeRequests: number }) | undefined;
  /** The outgoing composite: `fps` and `bitrateKbps` over the last 5 s. */
  composite: { packets: number; bytes: number; frames: number; switches: number; fps: number; bitrateKbps: number };
  /**
   * The mix of everyone (what a viewer hears, what a recording takes). `silentPublishers`:
   * publishers whose audio is not decoded now, because they say it is silence (SilenceGate).
   */
  mix: { bitrateKbps: number; burstDropped: number; jitterMs: number; silentPublishers: number };
  nacks: NackCounts;
  /** Each viewer of the VP8 composite, by participant id: its rung, link estimate, loss and switches. */
  viewers: Record<string, ViewerRungFigures>;
  /** The running recording, else the room's last one, else null. */
  recording: RecordingInfo | null;
}
