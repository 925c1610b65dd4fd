import type { Size } from '../../mixer/logic/layout.ts';
import type { BotVideoCodec } from '../bot/BotTypes.ts';
import type { Distribution } from './numbers.ts';

export interface LoadTestOptions {
  /** Signaling URL, e.g. `ws://127.0.0.1:8080/socket`. */
  url: string;
  room: string;
  token?: string;
  publishers: number;
  /** Publisher i draws palette colour `colourOffset + i` and sends tone i of the same numbering (another load generator or a bot in the room takes the others). */
  colourOffset: number;
  viewers: number;
  /** How many publishers send a tone (the others send silence): the first ones. */
  speakers: number;
  /** Measuring window after everyone joined and `warmupSeconds` passed; 0: until stop(). */
  durationSeconds: number;
  warmupSeconds: number;
  codec: BotVideoCodec;
  /** The publishers' picture. */
  video: Size & { fps: number; bitrateKbps: number };
  /** Length of the pre-encoded loop. */
  clipSeconds: number;
  /** The composite's size (the server's canvas): the latency reader decodes to it. */
  canvas: Size;
  /** Receivers whose composite is decoded and read for latency (viewers first). */
  latencySample: number;
  /** The latency reader reads the tiles of every n-th frame it decodes. */
  readEvery: number;
  /** Clients joining at once. */
  concurrency: number;
  connectTimeoutMs: number;
  cacheDir: string;
  /** Names are `<prefix>-p<i>` and `<prefix>-v<i>`. */
  namePrefix: string;
  /**
   * Nice levels this process's main thread (every peer's sockets) runs above its own start, as
   * the server raises its media path (README: load testing); its latency readers' FFmpeg stays
   * at the start. Needs root or CAP_SYS_NICE; 0: off.
   */
  priorityBoost: number;
}

export const LOADTEST_DEFAULTS = {
  room: 'loadtest',
  publishers: 4,
  colourOffset: 0,
  viewers: 0,
  durationSeconds: 30,
  warmupSeconds: 3,
  codec: 'vp8',
  video: { width: 640, height: 360, fps: 30, bitrateKbps: 800 },
  clipSeconds: 10,
  canvas: { width: 1280, height: 720 },
  latencySample: 1,
  readEvery: 1,
  concurrency: 1,
  connectTimeoutMs: 30_000,
  namePrefix: 'load',
  priorityBoost: 10,
} as const satisfies Partial<LoadTestOptions>;

/** What one receiver got over the measuring window. */
export interface ReceiverFigures {
  name: string;
  role: 'publisher' | 'viewer';
  /** Still connected when the window closed. */
  alive: boolean;
  fps: number;
  /** The lowest frame count of a whole second of the window. */
  lowestSecondFps: number | null;
  longestGapMs: number;
  downVideoKbps: number;
  downAudioKbps: number;
  /** What a publisher sent (RTP payload), kbit/s. */
  upKbps: number | null;
  keyframes: number;
  ssrcChanges: number;
  seqJumps: number;
}

export interface LoadTestSummary {
  startedAt: string;
  options: Omit<LoadTestOptions, 'token'>;
  clips: { made: number; cached: number; seconds: number; meanKbps: number };
  participants: {
    publishers: { requested: number; connected: number; alive: number };
    viewers: { requested: number; connected: number; alive: number };
    failed: { name: string; reason: string }[];
    lost: { name: string; reason: string }[];
  };
  /** From each client's start to `connected`, ms. */
  connectMs: Distribution;
  /** From `joined` to the first composite frame, ms. */
  firstFrameMs: Distribution;
  /** From a publisher's `joined` to the first frame, at a latency reader that was there before it, with its tile in it (read by colour and code), ms. */
  joinToTileMs: Distribution;
  window: {
    seconds: number;
    receivers: number;
    fps: { median: number | null; min: number | null; lowestSecond: number | null };
    longestGapMs: { median: number | null; max: number | null };
    downlinkKbps: { video: number | null; audio: number | null; totalMin: number | null; totalMax: number | null };
    uplinkKbpsPerPublisher: number | null;
    ssrcChanges: number;
    seqJumps: number;
  } | null;
  /** Tiles read at the latency readers: this run's (latency), unreadable, another participant's (foreign). */
  latency: (Distribution & { readers: number; tilesRead: number; tilesUnread: number; tilesForeign: number; framesSkipped: number }) | null;
  /** How late the pacer sent what was due, ms: large values mean the load generator itself fell behind. */
  pacingLateMs: Distribution;
  /** This process and its latency readers' FFmpeg, share of one core, over the window (or the whole run). */
  cpu: { cores: number | null; processCores: number | null; readersCores: number | null };
  receivers: ReceiverFigures[];
  stoppedBy: 'duration' | 'signal' | 'error';
  error?: string;
}
