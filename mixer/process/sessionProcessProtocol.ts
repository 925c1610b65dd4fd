import type {
  SessionEvents,
  SessionLayout,
  SessionObserverEvents,
  SessionParticipant,
  SessionSettings,
  SessionStats,
} from '../SessionTypes.ts';

/** Messages between a SessionProcess (the server) and its session's own process (sessionProcessMain). */

export type HostToSession =
  | { op: 'init'; requestId: number; settings: SessionSettings; backgroundNiceness: number }
  | { op: 'add'; requestId: number; participant: SessionParticipant }
  | { op: 'remove'; requestId: number; id: string }
  | { op: 'switched'; ssrc: number }
  | { op: 'keyframe' }
  | { op: 'layout'; layout: SessionLayout }
  | { op: 'h264'; wanted: boolean }
  | { op: 'close'; requestId: number };

export type SessionToHost =
  | { op: 'booted' }
  | { op: 'reply'; requestId: number; result?: unknown; error?: string }
  | { op: 'event'; event: 'keyframeneeded'; args: SessionEvents['keyframeneeded'] }
  | { op: 'event'; event: 'compositestart'; args: SessionEvents['compositestart'] }
  | { op: 'event'; event: 'speaker'; args: SessionEvents['speaker'] }
  | { op: 'event'; event: 'decoded'; args: SessionEvents['decoded'] }
  | { op: 'observer'; event: 'layoutchange'; args: SessionObserverEvents['layoutchange'] }
  | { op: 'observer'; event: 'firstframe'; args: SessionObserverEvents['firstframe'] }
  | { op: 'stats'; stats: SessionStats };
