import { MIX_FEC_LOSS_PERCENT } from './ffmpeg/ffmpegArgs.ts';
import type { LayoutKind, Size } from './logic/layout.ts';
import { DEFAULT_LADDER, type Rung } from './logic/ladder.ts';
import type { TypedEmitter } from '../base/TypedEmitter.ts';

/** The arrangement of tiles: for `presenter`, who is large. */
export interface SessionLayout {
  kind: LayoutKind;
  presenter?: string;
}

/** How a room's session composes and encodes. */
export interface SessionSettings {
  canvas: Size;
  fps: number;
  videoBitrateKbps: number;
  audioBitrateKbps: number;
  /** The loss the mixes' Opus in-band FEC is sized for, in percent; 0 turns it off. */
  mixFecLossPercent: number;
  /** Every participant's video is letterboxed to this size before composition. */
  tileSource: Size;
  keyframeIntervalSeconds: number;
  /** A participant whose video stopped shows a dark tile with its name after this long. */
  placeholderAfterMs: number;
  layout: SessionLayout;
  /**
   * The composite's lower renditions, best first (mixer/logic/ladder.ts): the top one is the
   * composite itself, at `canvas` and `videoBitrateKbps`. A rung is encoded only while wanted
   * (setRungsWanted).
   */
  rungs: Rung[];
  /** Loopback port the composite's RTP is sent to (bound by the server). */
  compositePort: number;
  /** Loopback port for the composite in H.264, encoded only while someone needs it. */
  compositeH264Port: number;
  /** Loopback port the mix of everyone's voice is sent to (viewers hear it; recordings take it). */
  everyoneMixPort: number;
  /** Loopback port of each lower rung, in the order of `rungs` (a rung without one is never encoded). */
  rungPorts?: number[];
}

/** The settings of a session, less the loopback ports the server binds for it. */
export type SessionMediaSettings = Omit<SessionSettings, 'compositePort' | 'compositeH264Port' | 'everyoneMixPort' | 'rungPorts'>;

export const SESSION_DEFAULTS: SessionMediaSettings = {
  canvas: { width: 1280, height: 720 },
  fps: 30,
  videoBitrateKbps: 1500,
  audioBitrateKbps: 32,
  mixFecLossPercent: MIX_FEC_LOSS_PERCENT,
  tileSource: { width: 640, height: 360 },
  keyframeIntervalSeconds: 2,
  placeholderAfterMs: 3000,
  layout: { kind: 'grid' },
  rungs: DEFAULT_LADDER.slice(1).map((rung) => ({ ...rung })),
};

/** What a participant publishes, as negotiated, and where its own mix goes. */
export interface SessionParticipant {
  id: string;
  name: string;
  video?: { codec: 'VP8' | 'H264'; payloadType: number };
  audio?: { payloadType: number };
  /** Loopback port for this participant's mix (everyone but itself); publishers of audio only. */
  mixPort?: number;
  /** Receives the composite in H.264 (it offered no VP8). */
  receivesH264?: boolean;
}

/** The SSRCs of a newly started compositor's outputs. */
export interface CompositeSources {
  vp8: number;
  h264?: number;
  /** The lower rungs it encodes: each one's index in `rungs`, and its SSRC. */
  rungs?: { index: number; ssrc: number }[];
}

/** Loopback ports the server sends a participant's RTP to, one per published kind. */
export interface SessionParticipantPorts {
  videoPort?: number;
  audioPort?: number;
}

/**
 * What a participant's video decoder needs a keyframe for: it has no picture yet, none came for a
 * while, or it has just (re)started. The server decides whether to ask the publisher (a PLI).
 */
export type DecoderKeyframeNeed = 'firstframe' | 'stalled' | 'restarted';

export type SessionEvents = {
  /** This participant's decoder needs a keyframe (reported every 250 ms while it does). */
  keyframeneeded: [participantId: string, need: DecoderKeyframeNeed];
  /** A new compositor is sending with these SSRCs; switch to it at its first keyframe. */
  compositestart: [sources: CompositeSources];
  /** The active speaker changed (null: none). */
  speaker: [participantId: string | null];
  /**
   * Video frames decoded so far, per participant (every 100 ms): the server holds them against
   * the frames it handed each decoder, to see a decoder fall behind (README: Latency).
   */
  decoded: [framesByParticipant: Record<string, number>];
  '@close': [];
};

export type SessionObserverEvents = {
  close: [];
  /** The participants that have a tile, in tile order. */
  layoutchange: [tileIds: string[]];
  firstframe: [participantId: string];
};

export interface SessionStats {
  participants: number;
  tiles: string[];
  layout: SessionLayout;
  /** The size every participant's picture is decoded to (mixer/logic/sourceSize.ts). */
  tileSource: Size;
  compositorFramesWritten: number;
  compositorTicksSkipped: number;
  videoClockSkipped: number;
  decoderRestarts: number;
  compositorRestarts: number;
  /** Composite keyframes made on request (each by a compositor restart). */
  compositeKeyframes: number;
  audio: Record<string, unknown>;
}

export interface SessionLike extends TypedEmitter<SessionEvents> {
  readonly observer: TypedEmitter<SessionObserverEvents>;
  readonly closed: boolean;
  addParticipant(participant: SessionParticipant): Promise<SessionParticipantPorts>;
  removeParticipant(id: string): Promise<void>;
  /** The server switched its outgoing VP8 composite to `ssrc`: older compositors can stop. */
  compositeSwitched(ssrc: number): void;
  /** A receiver needs a keyframe of the composite (it joined, or sent a PLI/FIR). Rate-limited. */
  requestCompositeKeyframe(): void;
  /** Switches the layout at runtime (make before break, like any recomposition). */
  setLayout(layout: SessionLayout): void;
  /** Encodes the composite in H.264 too even when no participant receives it (an MP4 recording). */
  setH264Wanted(wanted: boolean): void;
  /** The lower rungs (indices into `rungs`) some viewer receives: only those are encoded. */
  setRungsWanted(rungs: number[]): void;
  stats(): SessionStats;
  close(): Promise<void>;
}
