import type { TypedEmitter } from '../../base/TypedEmitter.ts';
import type { KeyframeRequestKind } from '../peers/keyframeRequests.ts';
import type { ParticipantInfo } from '../signaling/SignalingClient.ts';
import type { ReceiveCounts } from './ReceiveCounter.ts';

/** What the bot publishes: a synthetic colour and tone, or a media file. */
export type BotSource =
  | { kind: 'synthetic'; color: string; toneHz: number; timecode?: boolean }
  | { kind: 'file'; path: string; loop: boolean };

/**
 * The video codec the bot offers and publishes. `vp8` offers VP8 and H.264 and sends VP8; `h264`
 * offers H.264 alone, so the server treats the bot as an H.264-only client: it decodes the bot's
 * H.264 and sends it an H.264 composite (README, "Signaling": codecs).
 */
export type BotVideoCodec = 'vp8' | 'h264';

export interface BotOptions {
  /** Signaling URL, e.g. `ws://127.0.0.1:8080/socket`. */
  url: string;
  room: string;
  name: string;
  token?: string;
  source: BotSource;
  width: number;
  height: number;
  fps: number;
  videoBitrateKbps: number;
  /** Also decides what a viewer or an audio-only bot offers to receive. */
  codec: BotVideoCodec;
  /** Watch and listen only: both transceivers `recvonly`, no FFmpeg source. */
  viewer: boolean;
  /** Publish audio only: the video transceiver is `recvonly`. */
  video: boolean;
  /** Stream-copy the received composite and mix into this `.mkv`/`.webm` file (`.mkv` only for `h264`). */
  recordPath?: string;
  /** Append `<wall ms since epoch> <rtp timestamp>`, then ` k` for a keyframe, for every received video frame. */
  frameLogPath?: string;
  /** Give up if not connected (joined, answered, ICE and DTLS done) after this long. */
  connectTimeoutMs: number;
  /** How often `stats` is emitted. */
  statsIntervalMs: number;
  /** Fault injection: drop this share (0-1) of the RTP packets sent, retransmissions included. */
  uplinkLoss?: number;
}

/** Counters of what the bot received (the composite and the mix) and sent. */
export interface BotStats extends ReceiveCounts {
  /** Video frames received during the last stats interval. */
  fps: number;
  /** RTP packets handed to werift for sending. */
  sentVideoPackets: number;
  sentAudioPackets: number;
  /** RTP payload bytes handed to werift for sending (what an SFU would forward to each other participant). */
  sentVideoBytes: number;
  sentAudioBytes: number;
  /** RTP packets dropped on purpose by `uplinkLoss` (retransmissions included). */
  uplinkDropped: number;
  /** Picture loss indications and FIRs the server sent for the bot's video. */
  keyframeRequests: number;
}

export interface BotJoinedInfo {
  id: string;
  room: string;
  participants: ParticipantInfo[];
}

/** A problem worth reporting that does not end the bot (e.g. a server `error` after joining). */
export interface BotProblem {
  code: string;
  message: string;
}

export type BotEvents = {
  joined: [BotJoinedInfo];
  /** The peer connection is connected (at `connectedAt`, ms since the epoch) and the media source is running. */
  connected: [connectedAt: number];
  stats: [BotStats];
  participants: [ParticipantInfo[]];
  speaker: [id: string | null];
  error: [BotProblem];
  /** A media file without `loop` has ended: the bot stays in the room, receiving only. */
  sourceended: [];
  /** Something the bot cannot go on without failed after `start()` resolved; the bot stops itself. */
  died: [Error];
  /** Video stopped (false) or started again, at its first keyframe (true): see `setVideoSending`. */
  videosending: [sending: boolean];
  /** The published video's size changed (toggleVideoSize). */
  videosize: [size: { width: number; height: number }];
  /** The bot has left and every child process has exited; final counters. */
  left: [BotStats];
};

export interface Bot extends TypedEmitter<BotEvents> {
  readonly options: Readonly<BotOptions>;
  readonly closed: boolean;
  readonly stats: BotStats;
  /** Joins, negotiates and starts media; rejects (after cleaning up) if any step fails. */
  start(): Promise<void>;
  /**
   * Stops sending video (a stalled camera) or starts again. The source keeps encoding; on resume
   * the bot sends from the next keyframe, as a camera that comes back does.
   */
  setVideoSending(sending: boolean): void;
  /** Switches the published video between its size and half of it (fault injection: a browser adapting). */
  toggleVideoSize(): Promise<void>;
  /**
   * Sends the server one PLI or FIR about the composite it receives, as a browser does after a
   * loss; returns when (ms since the epoch), or undefined before any composite has arrived.
   */
  requestKeyframe(kind: KeyframeRequestKind): number | undefined;
  /** Leaves, closes the peer and waits for every child process. Idempotent. */
  stop(): Promise<BotStats>;
}
