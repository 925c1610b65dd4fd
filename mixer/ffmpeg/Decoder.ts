import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FfmpegError } from '../../base/process/errors.ts';
import { ChunkReader } from './ChunkReader.ts';
import { audioDecoderArgs, videoDecoderArgs } from './ffmpegArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import type { FramePool } from '../logic/FramePool.ts';
import type { Size } from '../logic/layout.ts';
import { rtpSdp, type RtpInputCodec } from '../../base/rtp/sdp.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';

export type DecoderEvents = {
  /** One raw video frame (I420 at the tile-source size; from the pool, held once for the listener) or 20 ms of mono s16le PCM. */
  chunk: [Buffer];
  /** FFmpeg exited without being asked to. */
  died: [FfmpegError];
};

export interface DecoderOptions {
  /** For logs: e.g. `alice video`. */
  label: string;
  /** Loopback port FFmpeg receives the participant's RTP on. */
  port: number;
  input: RtpInputCodec;
  /** The size every video frame is letterboxed to. */
  tileSource: Size;
  /** Folder for the SDP file. */
  workDir: string;
  /** Where decoded video frames go (of the tile-source size); each is handed over held once. */
  framePool?: FramePool;
  /** Awaited right before FFmpeg is started (the session's spawn slot: SpawnSlots.ts). */
  beforeStart?: () => Promise<void>;
}

/** SIGINT, then this long before SIGTERM (see the constructor). */
const DECODER_STOP_GRACE_MS = 150;

/** 20 ms of mono s16le at 48 kHz. */
const AUDIO_CHUNK_BYTES = 960 * 2;

/** One participant's FFmpeg decoder: RTP on a loopback port in, raw frames or PCM out. */
export class Decoder extends TypedEmitter<DecoderEvents> {
  readonly label: string;
  readonly kind: 'video' | 'audio';
  /** The size video frames come out at. */
  readonly tileSource: Size;
  readonly #process: FfmpegProcess;
  chunks = 0;

  static async create(options: DecoderOptions): Promise<Decoder> {
    const sdpPath = join(options.workDir, `${options.input.kind}-${options.port}.sdp`);
    await writeFile(sdpPath, rtpSdp('mcu', [{ ...options.input, port: options.port }]));
    await options.beforeStart?.();
    return new Decoder(options, sdpPath);
  }

  private constructor(options: DecoderOptions, sdpPath: string) {
    super();
    this.label = options.label;
    this.kind = options.input.kind;
    this.tileSource = options.tileSource;
    const { width, height } = options.tileSource;
    const args =
      this.kind === 'video' ? videoDecoderArgs({ sdpPath, width, height }) : audioDecoderArgs({ sdpPath });
    // Stopped by signals, not `q`, and soon: FFmpeg looks at `q` and at a first SIGINT only
    // between packets, and a publisher that has left sends none (its removal waited 3-10 s).
    // A decoder has nothing to finish; the second signal interrupts the read.
    this.#process = new FfmpegProcess({ name: `decoder ${options.label}`, args, background: true, stopGraceMs: DECODER_STOP_GRACE_MS });
    const pool = this.kind === 'video' ? options.framePool : undefined;
    const size = this.kind === 'video' ? (width * height * 3) / 2 : AUDIO_CHUNK_BYTES;
    let reader: ChunkReader | undefined;
    this.#process.whenStarted(() => {
      reader = new ChunkReader(this.#process.stdout, {
        size,
        allocate: () => pool?.acquire() ?? Buffer.allocUnsafe(size),
        onChunk: (chunk) => {
          // Started below the media path (its start-up is a burst of CPU), raised at its first
          // output: a frame passes through it on its way to everyone. Left below, a starved decoder
          // fell behind on a saturated machine and its tile ran seconds late (README: Latency).
          if (++this.chunks === 1) this.#process.raisePriority();
          this.safeEmit('chunk', chunk);
        },
      });
    });
    this.#process.on('exit', ({ expected, stderrTail, code, signal }) => {
      // The part-filled frame goes back to the pool.
      if (reader) pool?.release(reader.pending);
      if (!expected) {
        this.safeEmit('died', new FfmpegError(`decoder ${this.label} exited (code ${code}, signal ${signal})`, stderrTail));
      }
    });
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  close(): Promise<void> {
    return this.#process.stop();
  }
}
