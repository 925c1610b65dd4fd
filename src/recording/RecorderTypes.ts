import type { RecordingContainer } from './recorderArgs.ts';

/**
 * - `starting`: FFmpeg starts and waits for a keyframe of the composite;
 * - `recording`: the file is being written;
 * - `stopping`: asked to stop, finalizing the file;
 * - `finished`: finalized (duration and index written);
 * - `failed`: FFmpeg ended on its own; what it wrote was repaired where possible (see `error`).
 */
export type RecordingState = 'starting' | 'recording' | 'stopping' | 'finished' | 'failed';

/** A recording as the API, the CLI and the metrics see it. */
export interface RecordingInfo {
  room: string;
  /** Relative to the recordings folder. */
  file: string;
  container: RecordingContainer;
  state: RecordingState;
  /** When it was asked for (ISO 8601). */
  requestedAt: string;
  /** When its first frame (a keyframe of the composite) went into the file; null before. */
  startedAt: string | null;
  /** Media in the file so far (once finished: as the file's own duration says). */
  durationSeconds: number;
  /** Composite frames forwarded to the file. */
  frames: number;
  bytes: number;
  error?: string;
}

export interface RecorderOptions {
  room: string;
  /** Absolute path of the file, checked to be inside the recordings folder. */
  path: string;
  file: string;
  container: RecordingContainer;
  /** Payload types the composite and the mix carry (what the session's encoders stamp). */
  videoPayloadType: number;
  audioPayloadType: number;
  /** The composite's frame rate: an MP4's frames are kept at least one frame apart. */
  fps: number;
  /** Asks the session for a keyframe of the composite: the file must start with one. */
  requestKeyframe: () => void;
}

export type RecorderEvents = {
  /** Finished or failed, and every resource released. Heard by the owning room only. */
  '@close': [RecordingInfo];
};

export type RecorderObserverEvents = {
  /** The state changed (e.g. the first keyframe arrived: `recording`). */
  state: [RecordingInfo];
  close: [RecordingInfo];
};

/** The sidecar `<file>.recording`: written when a recording starts, removed once it is finalized. */
export interface RecordingMarker {
  room: string;
  file: string;
  container: RecordingContainer;
  requestedAt: string;
  /** The server process that records it: a marker whose process is alive is not a leftover. */
  pid: number;
}
