import { createSocket, type Socket } from 'node:dgram';
import { EncoderBacklog } from '../logic/EncoderBacklog.ts';
import { FfmpegError } from '../../base/process/errors.ts';
import { audioEncoderArgs, type RtpOutput } from './ffmpegArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';

const log = createLogger('AudioEncoder');

/** `rtp`: each packet FFmpeg encoded, as it comes. */
export type AudioEncoderEvents = { died: [FfmpegError]; rtp: [Buffer] };

export interface AudioEncoderSettings {
  bitrateKbps: number;
  /** In percent; see audioEncoderArgs (default MIX_FEC_LOSS_PERCENT). */
  fecLossPercent?: number;
  /** Of the RTP FFmpeg writes; the port is this encoder's own socket. */
  output: Omit<RtpOutput, 'port'>;
}

/**
 * 20 ms frames a mix encoder may hold (EncoderBacklog): FFmpeg reads PCM 1024 samples at a time
 * and Opus looks ahead 6.5 ms, which keep one to two frames in it; two more for the jitter of
 * the session's clock on a busy machine (with one, 7% of the frames were dropped there).
 */
const MAX_FRAMES_IN_ENCODER = 4;

/**
 * One mix: PCM from the audio clock in, Opus RTP out. FFmpeg sends its RTP to a socket of this
 * encoder, which counts each packet and hands it on (`rtp`): what FFmpeg holds is then known, and
 * a frame it cannot take in time is dropped before it is encoded.
 */
export class AudioEncoder extends TypedEmitter<AudioEncoderEvents> {
  readonly label: string;
  readonly #backlog = new EncoderBacklog(MAX_FRAMES_IN_ENCODER);
  readonly #relay: Socket;
  #process?: FfmpegProcess;
  #closed = false;

  constructor(label: string, options: AudioEncoderSettings) {
    super();
    this.label = label;
    this.#relay = createSocket('udp4');
    this.#relay.on('error', (error) => log.warn({ label, err: error.message }, 'mix relay socket error'));
    this.#relay.on('message', (packet) => {
      this.#backlog.encoded();
      this.safeEmit('rtp', packet);
    });
    this.#relay.bind(0, '127.0.0.1', () => {
      if (this.#closed) return;
      const args = audioEncoderArgs({ ...options, output: { ...options.output, port: this.#relay.address().port } });
      const process = new FfmpegProcess({ name: `mix encoder ${label}`, args });
      this.#process = process;
      process.on('exit', ({ expected, code, signal, stderrTail }) => {
        if (!expected) this.safeEmit('died', new FfmpegError(`mix encoder ${label} exited (code ${code}, signal ${signal})`, stderrTail));
      });
    });
  }

  /** Frames dropped because the encoder was behind (or not started yet). */
  get dropped(): number {
    return this.#backlog.dropped;
  }

  /** Queues one frame of PCM for the encoder; false when it was not taken (not started, stopping, or behind). */
  write(pcm: Int16Array): boolean {
    const process = this.#process;
    if (!process || process.exited || process.stopping || !process.started) return false;
    const stdin = process.stdin;
    if (!stdin.writable || !this.#backlog.offer()) return false;
    stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    return true;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const process = this.#process;
    if (process?.started) process.stdin.end();
    await process?.stop();
    this.#relay.close();
  }
}
