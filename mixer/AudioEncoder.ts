import { FfmpegError } from './errors.ts';
import { audioEncoderArgs, type AudioEncoderOptions } from './ffmpegArgs.ts';
import { FfmpegProcess } from './FfmpegProcess.ts';
import { TypedEmitter } from './TypedEmitter.ts';

export type AudioEncoderEvents = { died: [FfmpegError] };

/** 200 ms of PCM queued means the encoder is stuck: drop rather than grow without bound. */
const MAX_QUEUED_BYTES = 10 * 960 * 2;

/** One listener's mix: PCM from the audio clock in, Opus RTP out. */
export class AudioEncoder extends TypedEmitter<AudioEncoderEvents> {
  readonly label: string;
  readonly #process: FfmpegProcess;
  dropped = 0;

  constructor(label: string, options: AudioEncoderOptions) {
    super();
    this.label = label;
    this.#process = new FfmpegProcess({ name: `mix encoder ${label}`, args: audioEncoderArgs(options), background: true });
    this.#process.on('exit', ({ expected, code, signal, stderrTail }) => {
      if (!expected) this.safeEmit('died', new FfmpegError(`mix encoder ${label} exited (code ${code}, signal ${signal})`, stderrTail));
    });
  }

  /** Queues one frame of PCM for the encoder; false when it was not taken (not started, stopping, or stuck). */
  write(pcm: Int16Array): boolean {
    if (this.#process.exited || this.#process.stopping || !this.#process.started) return false;
    const stdin = this.#process.stdin;
    if (!stdin.writable) return false;
    if (stdin.writableLength > MAX_QUEUED_BYTES) {
      this.dropped++;
      return false;
    }
    stdin.write(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
    return true;
  }

  async close(): Promise<void> {
    if (this.#process.started) this.#process.stdin.end();
    await this.#process.stop();
  }
}
