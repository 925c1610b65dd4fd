import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { RtpPacket, type MediaStreamTrack } from 'werift';
import { fileSourceArgs, probeStreamsArgs, syntheticSourceArgs, type SourceOutputs } from './botArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { createLogger } from '../../base/log/logger.ts';
import type { TypedEmitter } from '../../base/TypedEmitter.ts';
import { OPUS_PAYLOAD_TYPE } from '../peers/peerConfig.ts';
import { isH264KeyframeStart } from '../rtp/h264.ts';
import { payloadOffset } from '../rtp/rtpHeader.ts';
import { isVp8KeyframeStart } from '../rtp/vp8.ts';
import type { BotEvents, BotOptions, BotStats } from './BotTypes.ts';
import { bindLoopback, withTimeout, type BotLife, type Kind } from './botSupport.ts';
import { VIDEO_CODECS } from './clientPeer.ts';

const log = createLogger('Bot');

/**
 * FFmpeg's `sine` source has a fixed peak amplitude of 1/8: an RMS level of -21 dBov. The bot
 * stamps that level (with the voice-activity bit) on every tone packet (RFC 6464), as a browser
 * stamps its microphone's, so that the server gets from a bot what it gets from a browser;
 * silence (`--tone 0`) is 127, the RFC 6464 floor. The server's speaker detection measures the
 * decoded audio (mixer/logic/SpeakerDetector.ts), not this extension.
 */
const TONE_LEVEL_DBOV = 21;
const SILENCE_LEVEL_DBOV = 127;
/**
 * How long FFmpeg may take from spawn to its first RTP packet. It runs as background work, and a
 * fresh-clone test run on two busy cores kept one from its first packet for over 10 s: on a
 * saturated machine a bot should wait, not fail.
 */
const SOURCE_FIRST_PACKET_MS = 30_000;
const FFPROBE_TIMEOUT_MS = 10_000;

/** The kinds a bot sends: none for a viewer, what the file holds for a file source. */
export async function publishedKinds(o: BotOptions): Promise<Set<Kind>> {
  if (o.viewer) return new Set();
  const kinds = new Set<Kind>(['audio', 'video']);
  if (o.source.kind === 'file') {
    const found = await probeStreamTypes(o.source.path);
    for (const kind of ['audio', 'video'] as const) if (!found.has(kind)) kinds.delete(kind);
    if (kinds.size === 0) throw new Error(`${o.source.path} has neither video nor audio`);
  }
  if (!o.video) kinds.delete('video');
  return kinds;
}

/**
 * What the bot publishes: its media source FFmpeg, whose RTP arrives on loopback sockets and is
 * handed to the peer's tracks; a stalled camera (`setVideoSending`) and a resolution change
 * (`toggleVideoSize`) for fault injection.
 */
export class BotSender {
  readonly #options: Readonly<BotOptions>;
  readonly #stats: BotStats;
  readonly #life: BotLife;
  readonly #events: TypedEmitter<BotEvents>;
  #sockets: Partial<Record<Kind, Socket>> = {};
  #source: FfmpegProcess | undefined;
  #outputs: SourceOutputs | undefined;
  #onSourcePacket: () => void = () => {};
  #resizing = false;
  #videoSending: 'on' | 'off' | 'resuming' = 'on';
  #audioLevelExtensionId: number | undefined;

  constructor(options: Readonly<BotOptions>, stats: BotStats, life: BotLife, events: TypedEmitter<BotEvents>) {
    this.#options = options;
    this.#stats = stats;
    this.#life = life;
    this.#events = events;
  }

  /** Binds a socket per published kind, starts the source and waits for its first RTP packet. */
  async start(tracks: Partial<Record<Kind, MediaStreamTrack>>, audioLevelExtensionId: number | undefined): Promise<void> {
    const o = this.#options;
    this.#audioLevelExtensionId = o.source.kind === 'synthetic' ? audioLevelExtensionId : undefined;
    const outputs: SourceOutputs = {};
    for (const [kind, track] of Object.entries(tracks) as [Kind, MediaStreamTrack][]) {
      const payloadType = kind === 'video' ? VIDEO_CODECS[o.codec].payloadType : OPUS_PAYLOAD_TYPE;
      const socket = await bindLoopback();
      if (!this.#life.alive()) socket.close();
      this.#life.assertStarting();
      this.#sockets[kind] = socket;
      socket.on('message', (packet) => {
        // FFmpeg's RTCP sender reports arrive on the same port (botArgs `rtcpport`): keep RTP only.
        if (packet.length < 12 || packet[0]! >> 6 !== 2 || (packet[1]! & 0x7f) !== payloadType) return;
        this.#onSourcePacket();
        this.#send(kind, track, packet);
      });
      const rtp = { port: socket.address().port, payloadType, ssrc: randomInt(1, 0x7fffffff) };
      if (kind === 'video') {
        outputs.video = { ...rtp, codec: VIDEO_CODECS[o.codec].name, width: o.width, height: o.height, fps: o.fps, bitrateKbps: o.videoBitrateKbps };
      } else {
        outputs.audio = rtp;
      }
    }
    this.#outputs = outputs;
    this.#life.assertStarting();
    await this.#run(outputs);
  }

  /** Starts the media source FFmpeg and waits for its first RTP packet. */
  async #run(outputs: SourceOutputs): Promise<void> {
    const o = this.#options;
    const gotFirstPacket = new Promise<void>((resolve) => {
      this.#onSourcePacket = resolve;
    });
    const args =
      o.source.kind === 'synthetic'
        ? syntheticSourceArgs({ color: o.source.color, toneHz: o.source.toneHz, timecode: o.source.timecode === true, ...outputs })
        : fileSourceArgs({ path: o.source.path, loop: o.source.loop, ...outputs });
    const source = new FfmpegProcess({ name: `bot source ${o.name}`, args, background: true });
    this.#source = source;
    source.stdout.resume(); // the rtp muxer prints its SDP there
    source.on('exit', ({ code, expected, stderrTail }) => {
      if (expected || !this.#life.running() || source !== this.#source) return;
      if (code === 0 && o.source.kind === 'file') {
        log.debug({ path: o.source.path }, 'media file ended: the bot goes on receiving');
        this.#events.safeEmit('sourceended');
        return;
      }
      this.#life.fail(new Error(`the media source (FFmpeg) exited with code ${code}: ${stderrTail}`));
    });
    await source.untilReady(withTimeout(gotFirstPacket, SOURCE_FIRST_PACKET_MS, 'no RTP from FFmpeg'), 'its first RTP packet');
  }

  /**
   * Changes the published video's size, as a browser adapting to its bandwidth does: between
   * the configured size and half of it. A new encoder starts (its first frame a keyframe at the
   * new size) under a new SSRC, which werift's sender folds into the same outgoing stream.
   */
  async toggleVideoSize(): Promise<void> {
    const video = this.#outputs?.video;
    if (!this.#life.running() || !video || this.#resizing) return;
    this.#resizing = true;
    try {
      const full = { width: this.#options.width, height: this.#options.height };
      const half = { width: evenHalf(full.width), height: evenHalf(full.height) };
      const next = video.width === full.width ? half : full;
      const outputs: SourceOutputs = {
        ...this.#outputs,
        video: { ...video, ...next, ssrc: randomInt(1, 0x7fffffff) },
        ...(this.#outputs?.audio ? { audio: { ...this.#outputs.audio, ssrc: randomInt(1, 0x7fffffff) } } : {}),
      };
      this.#outputs = outputs;
      await this.#source?.stop();
      if (!this.#life.running()) return;
      await this.#run(outputs);
      this.#events.safeEmit('videosize', next);
    } finally {
      this.#resizing = false;
    }
  }

  setVideoSending(sending: boolean): void {
    if (sending === (this.#videoSending !== 'off')) return;
    this.#videoSending = sending ? 'resuming' : 'off';
    if (!sending) this.#events.safeEmit('videosending', false);
  }

  /** Stops the source and closes its sockets. */
  async close(): Promise<void> {
    await this.#source?.stop();
    for (const socket of Object.values(this.#sockets)) socket.close();
    this.#sockets = {};
  }

  #send(kind: Kind, track: MediaStreamTrack, packet: Buffer): void {
    const payloadBytes = packet.length - payloadOffset(packet);
    if (kind === 'video') {
      if (this.#videoSending === 'off') return;
      if (this.#videoSending === 'resuming') {
        const keyframe = this.#options.codec === 'h264' ? isH264KeyframeStart(packet) : isVp8KeyframeStart(packet);
        if (!keyframe) return;
        this.#videoSending = 'on';
        this.#events.safeEmit('videosending', true);
      }
      this.#stats.sentVideoPackets++;
      this.#stats.sentVideoBytes += payloadBytes;
      track.writeRtp(packet);
      return;
    }
    this.#stats.sentAudioPackets++;
    this.#stats.sentAudioBytes += payloadBytes;
    const id = this.#audioLevelExtensionId;
    if (id === undefined || this.#options.source.kind !== 'synthetic') {
      track.writeRtp(packet);
      return;
    }
    // RFC 6464: one byte, V bit (voice activity) and the level in -dBov.
    const level = this.#options.source.toneHz > 0 ? 0x80 | TONE_LEVEL_DBOV : SILENCE_LEVEL_DBOV;
    const rtp = RtpPacket.deSerialize(packet);
    rtp.header.extensions.push({ id, payload: Buffer.from([level]) });
    // werift rewrites ssrc, seq and timestamp per sender: hand it bytes, not a shared object.
    track.writeRtp(rtp.serialize());
  }
}

/** Half a picture dimension, kept even (I420 and VP8 want even sizes). */
function evenHalf(size: number): number {
  return Math.max(2, Math.round(size / 4) * 2);
}

/** The stream types (`video`, `audio`) of a media file, by ffprobe. */
function probeStreamTypes(path: string): Promise<Set<string>> {
  const binary = process.env.MCU_FFPROBE ?? 'ffprobe';
  return new Promise((resolve, reject) => {
    execFile(binary, probeStreamsArgs(path), { timeout: FFPROBE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`cannot read ${path}: ${stderr.trim() || error.message}`));
        return;
      }
      resolve(new Set(stdout.split('\n').map((line) => line.trim().replace(/,$/, '')).filter(Boolean)));
    });
  });
}
