import type {
  SessionEvents,
  SessionLayout,
  SessionObserverEvents,
  SessionParticipant,
  SessionSettings,
  SessionStats,
} from './SessionTypes.ts';

/** Messages between a WorkerSession (main thread) and its session's worker thread. */

export type HostToWorker =
  | { op: 'add'; requestId: number; participant: SessionParticipant }
  | { op: 'remove'; requestId: number; id: string }
  | { op: 'switched'; ssrc: number }
  | { op: 'keyframe' }
  | { op: 'layout'; layout: SessionLayout }
  | { op: 'h264'; wanted: boolean }
  | { op: 'close'; requestId: number };

export type WorkerToHost =
  | { op: 'ready' }
  | { op: 'reply'; requestId: number; result?: unknown; error?: string }
  | { op: 'event'; event: 'keyframeneeded'; args: SessionEvents['keyframeneeded'] }
  | { op: 'event'; event: 'compositestart'; args: SessionEvents['compositestart'] }
  | { op: 'event'; event: 'speaker'; args: SessionEvents['speaker'] }
  | { op: 'observer'; event: 'layoutchange'; args: SessionObserverEvents['layoutchange'] }
  | { op: 'observer'; event: 'firstframe'; args: SessionObserverEvents['firstframe'] }
  | { op: 'stats'; stats: SessionStats };

export interface SessionWorkerData {
  entry: string;
  settings: SessionSettings;
  /** Levels the main thread (and so this thread) runs above background work: see priority.ts. */
  backgroundNiceness: number;
}
