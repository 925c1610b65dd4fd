import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../base/log/logger.ts';
import { allocateRtpPort, releaseRtpPort } from '../../base/net/ports.ts';
import { OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
import { Decoder } from './Decoder.ts';
import type { TileLabel } from './ffmpegArgs.ts';
import type { FramePool } from '../logic/FramePool.ts';
import type { Size } from '../logic/layout.ts';
import type { Roster, RosterMember } from '../logic/Roster.ts';

const log = createLogger('Session');

const RESTART_DELAY_MS = 300;

/** What a participant publishes. */
export interface PublisherInfo {
  readonly id: string;
  readonly name: string;
  readonly video?: { codec: 'VP8' | 'H264'; payloadType: number };
  readonly audio?: { payloadType: number };
}

/** A participant's media in the session: the loopback ports its RTP arrives on, its tile's label. */
export interface MemberMediaOf {
  readonly ports: { videoPort?: number; audioPort?: number };
  /** The name drawn on its tile (a file holds it). */
  readonly label?: TileLabel;
}

export interface DecodedMember extends RosterMember<Decoder>, MemberMediaOf {
  readonly info: PublisherInfo;
}

export interface MemberMediaOptions<M extends DecodedMember> {
  roster: Roster<Decoder, M>;
  /** Folder for the decoders' SDP files and the label files. */
  workDir: string;
  /** The font tile labels are drawn in (none: no labels). */
  labelFont: string | undefined;
  /** Pools for decoded frames, by tile-source size. */
  frames: { pool(size: Size): FramePool };
  /** Awaited right before each FFmpeg start (the session's spawn slot: SpawnSlots.ts). */
  beforeStart(): Promise<void>;
  /** The tile-source size a decoder starting now decodes to. */
  size(): Size;
  onVideoFrame(member: M, frame: Buffer, decoder: Decoder): void;
  onAudio(participantId: string, pcm: Int16Array): void;
  /** A video decoder started again (after a death, or at a new size): it needs a keyframe. */
  onVideoRestart(member: M): void;
}

/**
 * The media of a session's participants: the loopback ports their RTP arrives on, the files
 * holding their tiles' labels, and their FFmpeg decoders: one per participant and kind, started
 * again when one dies, and moved to a new tile-source size when asked. Which decoder takes over
 * or is started again, the roster decides (Roster.ts).
 */
export class MemberMedia<M extends DecodedMember> {
  readonly #o: MemberMediaOptions<M>;
  #labelFiles = 0;
  #closed = false;

  constructor(options: MemberMediaOptions<M>) {
    this.#o = options;
  }

  /** A port for each kind it publishes, and its label. */
  async open(info: PublisherInfo): Promise<MemberMediaOf> {
    const ports: MemberMediaOf['ports'] = {};
    if (info.video) ports.videoPort = await allocateRtpPort();
    if (info.audio) ports.audioPort = await allocateRtpPort();
    const { labelFont: fontFile, workDir } = this.#o;
    if (!fontFile || !info.video) return { ports };
    const label = { fontFile, textFile: join(workDir, `label-${++this.#labelFiles}.txt`) };
    await writeFile(label.textFile, info.name);
    return { ports, label };
  }

  /** `replacing`: a decoder at a new tile-source size, in place of the stopped one until its first frame (`moveAll`). */
  async start(member: M, kind: 'video' | 'audio', replacing = false): Promise<void> {
    const port = kind === 'video' ? member.ports.videoPort : member.ports.audioPort;
    if (port === undefined || member.removed || this.#closed) return;
    const { info } = member;
    const input =
      kind === 'video'
        ? { kind, codec: info.video?.codec ?? 'VP8', payloadType: info.video?.payloadType ?? VP8_PAYLOAD_TYPE }
        : { kind, codec: 'opus' as const, payloadType: info.audio?.payloadType ?? OPUS_PAYLOAD_TYPE };
    const size = this.#o.size();
    const decoder = await Decoder.create({
      beforeStart: () => this.#o.beforeStart(),
      label: `${info.name} (${info.id}) ${kind}`,
      port,
      input,
      tileSource: size,
      workDir: this.#o.workDir,
      framePool: this.#o.frames.pool(size),
    });
    if (member.removed || this.#closed) {
      await decoder.close();
      return;
    }
    void this.#o.roster.decoderStarted(member, kind, decoder, replacing)?.close();
    if (kind === 'video') decoder.on('chunk', (frame) => this.#o.onVideoFrame(member, frame, decoder));
    else decoder.on('chunk', (pcm) => this.#o.onAudio(info.id, new Int16Array(pcm.buffer, pcm.byteOffset, pcm.byteLength / 2)));
    decoder.on('died', (error) => {
      const restart = this.#o.roster.decoderDied(member, kind, decoder);
      if (restart === 'ignore') return;
      log.warn({ participant: info.id, kind, err: error.message }, 'decoder died; restarting');
      setTimeout(() => {
        void this.start(member, kind, restart === 'resize').then(() => {
          if (kind === 'video') this.#o.onVideoRestart(member);
        });
      }, RESTART_DELAY_MS);
    });
  }

  /**
   * Moves every running video decoder to the size decoders start at now: each stops, one at the
   * new size starts on its port and takes over at its first frame (the publisher is asked for a
   * keyframe). Two decoders cannot bind one port: the running one stops first, and the tile shows
   * its last frame until the new one decodes (a second or two: less than the placeholder's wait).
   */
  moveAll(): void {
    for (const member of this.#o.roster.values()) {
      void member.videoDecoder
        ?.close()
        .then(() => this.start(member, 'video', true))
        .then(() => this.#o.onVideoRestart(member));
    }
  }

  /** Stops a member's decoders and gives its ports back. */
  async release(member: M): Promise<void> {
    await Promise.all(this.#o.roster.decodersOf(member).map((d) => d.close()));
    for (const port of [member.ports.videoPort, member.ports.audioPort]) if (port !== undefined) releaseRtpPort(port);
  }

  /** No decoder starts from now on; `members`' media are released. */
  async close(members: M[]): Promise<void> {
    this.#closed = true;
    await Promise.all(members.map((m) => this.release(m)));
  }
}
