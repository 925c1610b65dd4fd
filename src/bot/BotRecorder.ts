import { rtpSdp, type RtpStream } from '../../base/rtp/sdp.ts';
import type { RTCRtpTransceiver, RtpPacket } from 'werift';
import { createLogger } from '../../base/log/logger.ts';
import { RtpFileWriter, type RtpKind } from '../recording/RtpFileWriter.ts';
import { receiverArgs } from './botArgs.ts';
import type { BotStats } from './BotTypes.ts';
import type { BotLife, Kind } from './botSupport.ts';
import { describeCodec } from './clientPeer.ts';

const log = createLogger('Bot');

/**
 * How long the recorder waits for video it receives (as negotiated) before it records the audio
 * alone. A loaded machine can start a room's session slowly, and its mix can come before its
 * composite: a fresh-clone test run had a watcher's file hold audio only, its composite having
 * come after 5 s. What the audio-only case loses is the first seconds of a room without video.
 */
export const RECORD_VIDEO_WAIT_MS = 20_000;
/** When, after the recorder starts, it asks the server for a keyframe. */
const RECORD_PLI_DELAYS_MS = [700, 2000];

export interface BotRecorderOptions {
  /** The `.mkv`/`.webm` file. */
  path: string;
  /** The bot's name, for logs. */
  name: string;
  life: BotLife;
  stats: Readonly<BotStats>;
  transceivers: Partial<Record<Kind, RTCRtpTransceiver>>;
  /** When the peer connected (ms since the epoch). */
  connectedAt: number;
  /** Asks the server for a keyframe of the composite. */
  sendPli: (why: string) => void;
}

/** What has arrived so far, and what the peer receives at all. */
export interface ArrivedMedia {
  videoBytes: number;
  audioPackets: number;
  receivesAudio: boolean;
  receivesVideo: boolean;
  sinceConnectedMs: number;
}

/**
 * The kinds to record now, or undefined to wait: video (with audio, if it is received) from the
 * first video packet on; audio alone once it has flowed and video is not received or has not
 * come within RECORD_VIDEO_WAIT_MS of connecting.
 */
export function kindsToRecord(m: ArrivedMedia): Kind[] | undefined {
  if (m.videoBytes > 0) return m.receivesAudio ? ['video', 'audio'] : ['video'];
  if (m.audioPackets > 0 && (!m.receivesVideo || m.sinceConnectedMs >= RECORD_VIDEO_WAIT_MS)) return ['audio'];
  return undefined;
}

/**
 * The bot's `--record`: the composite and the mix it receives, stream-copied into a file by the
 * project's one RTP-to-file path (src/recording/RtpFileWriter.ts). Unlike the server's recorder,
 * it joins streams mid-way and records what it gets as it gets it (no retiming).
 */
export class BotRecorder {
  readonly #o: BotRecorderOptions;
  #writer: RtpFileWriter | undefined;
  /** Payload type each recorded kind carries (what the SDP announced). */
  #payloadTypes: Partial<Record<Kind, number>> = {};
  #starting: Promise<void> | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: BotRecorderOptions) {
    this.#o = options;
    this.#later(RECORD_VIDEO_WAIT_MS, () => this.maybeStart());
  }

  /**
   * The recorder starts with the media that actually arrives, not with what was negotiated: an
   * SDP that announces video which never comes makes FFmpeg give up after its analysis window
   * ("dimensions not set"). So it starts at the first video packet (with audio too, if the
   * audio transceiver receives), or audio-only once audio has flowed for RECORD_VIDEO_WAIT_MS
   * without any video. What arrives before FFmpeg has bound its ports is not recorded.
   */
  maybeStart(): void {
    if (this.#writer || this.#starting || !this.#o.life.alive()) return;
    const { stats, transceivers } = this.#o;
    const receives = (kind: Kind): boolean => {
      const direction = transceivers[kind]?.currentDirection;
      return direction === 'recvonly' || direction === 'sendrecv';
    };
    const kinds = kindsToRecord({
      videoBytes: stats.videoBytes,
      audioPackets: stats.audioPackets,
      receivesAudio: receives('audio'),
      receivesVideo: receives('video'),
      sinceConnectedMs: Date.now() - this.#o.connectedAt,
    });
    if (!kinds) return;
    this.#starting = this.#start(kinds);
    this.#starting.catch((error: unknown) => {
      if (!this.#o.life.alive()) return;
      this.#o.life.fail(error instanceof Error ? error : new Error(String(error)));
    });
  }

  /** A received packet: into the file if its kind and payload type are recorded. */
  forward(kind: Kind, rtp: RtpPacket): void {
    if (!this.#writer) this.maybeStart();
    if (this.#writer && this.#payloadTypes[kind] === rtp.header.payloadType) this.#writer.send(kind, rtp.serialize());
  }

  /** Finishes the file. Goes first in the bot's teardown, while media still flows (see RtpFileWriter's kick). */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#starting?.catch(() => {});
    await this.#writer?.stop();
  }

  async #start(kinds: Kind[]): Promise<void> {
    const streams: Omit<RtpStream, 'port'>[] = [];
    for (const kind of kinds) {
      const first = this.#o.transceivers[kind]?.codecs[0];
      const codec = first ? describeCodec(first) : undefined;
      if (kind === 'video' && (codec?.name === 'VP8' || codec?.name === 'H264')) {
        streams.push({ kind: 'video', payloadType: codec.payloadType, codec: codec.name, clockRate: codec.clockRate });
      } else if (kind === 'audio' && codec?.name === 'opus') {
        streams.push({ kind: 'audio', payloadType: codec.payloadType, codec: 'opus', channels: codec.channels, clockRate: codec.clockRate });
      }
    }
    const video = streams.find((s) => s.kind === 'video');
    const audio = streams.find((s) => s.kind === 'audio');
    if (!video && !audio) throw new Error('nothing to record: the server sends neither VP8/H.264 video nor Opus audio');
    const recorded: RtpKind[] = streams.map((s) => s.kind);
    const writer = await RtpFileWriter.create({
      name: `bot recorder ${this.#o.name}`,
      kinds: recorded,
      sdp: (ports) => rtpSdp('mcu-bot', streams.map((s) => ({ ...s, port: ports[s.kind]! }) as RtpStream)),
      args: (sdpPath) => receiverArgs({ sdpPath, outputPath: this.#o.path }),
      background: true,
    });
    if (!this.#o.life.alive()) {
      await writer.stop();
      throw new Error('stopped before the recorder started');
    }
    this.#writer = writer;
    this.#payloadTypes = { ...(video ? { video: video.payloadType } : {}), ...(audio ? { audio: audio.payloadType } : {}) };
    writer.process.on('exit', ({ code, expected, stderrTail }) => {
      if (expected || !this.#o.life.alive()) return;
      this.#o.life.fail(new Error(`the recorder (FFmpeg) exited with code ${code}: ${stderrTail}`));
    });
    log.debug({ kinds: recorded, path: this.#o.path }, 'recorder started');
    if (!video) return;
    // FFmpeg binds its ports within a few hundred ms, and the keyframe that started the stream
    // went by before that: ask for new ones (RFC 4585 PLI) once it listens.
    for (const delay of RECORD_PLI_DELAYS_MS) {
      this.#later(delay, () => this.#o.sendPli('asking the server for a keyframe for the recorder'));
    }
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }
}
