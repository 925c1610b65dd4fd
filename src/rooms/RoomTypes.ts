import type { SessionLayout, SessionMediaSettings, SessionStats } from '../../mixer/SessionTypes.ts';
import type { IceServer } from '../peers/peerConfig.ts';
import type { ParticipantSummary } from '../signaling/messages.ts';
import type { Participant } from './Participant.ts';
import type { ParticipantSignal } from './ParticipantTypes.ts';

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
}

export interface JoinOptions {
  name: string;
  signal: ParticipantSignal;
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
  session: SessionStats | undefined;
  composite: { packets: number; bytes: number; switches: number };
}
