import type { Writable } from 'node:stream';
import { FfmpegError } from '../../base/process/errors.ts';
import { compositorArgs, compositorInputFd, type CompositorOptions } from './ffmpegArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import type { FramePool } from '../logic/FramePool.ts';
import type { LayoutKind, Size } from '../logic/layout.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';

export type CompositorEvents = { died: [FfmpegError] };

/**
 * Frames a compositor input may have queued in this process before the clock skips a tick: a
 * compositor that cannot keep up then shows fewer frames, never older ones (README: Latency).
 */
const MAX_QUEUED_FRAMES = 1;

/**
 * One FFmpeg compositor: a fixed set of raw inputs (one per tile) composed into one VP8 stream.
 * FFmpeg cannot add inputs while running, so a roster change starts a new Compositor beside
 * this one, make before break (README, "The composite": standby compositors).
 */
export class Compositor extends TypedEmitter<CompositorEvents> {
  readonly tileIds: readonly string[];
  /** The layout the tiles are arranged in. */
  readonly layoutKind: LayoutKind;
  readonly ssrc: number;
  /** The size of every input frame. */
  readonly source: Size;
  readonly h264Ssrc: number | undefined;
  readonly #process: FfmpegProcess;
  readonly #pipes: Writable[];
  readonly #frameBytes: number;
  framesWritten = 0;
  ticksSkipped = 0;
  /** When it was started or, for a standby, first fed. */
  startedAt = performance.now();
  /** What it composes (tiles, layout, outputs), comparable between compositors. */
  readonly planKey: string;

  readonly #framePool: FramePool | undefined;
  #raiseWhenReading = false;

  constructor(
    options: CompositorOptions & {
      tileIds: readonly string[];
      layoutKind: LayoutKind;
      planKey: string;
      framePool?: FramePool;
      /** Starts below the media path's priority until raisePriority(): a standby that may wait long. */
      background?: boolean;
    },
  ) {
    super();
    this.planKey = options.planKey;
    this.#framePool = options.framePool;
    this.tileIds = options.tileIds;
    this.layoutKind = options.layoutKind;
    this.ssrc = options.output.ssrc;
    this.source = options.source;
    this.h264Ssrc = options.h264Output?.ssrc;
    this.#frameBytes = (options.source.width * options.source.height * 3) / 2;
    this.#process = new FfmpegProcess({
      name: `compositor ${options.output.ssrc} [${options.tileIds.join(',')}]`,
      args: compositorArgs(options),
      extraInputPipes: Math.max(0, options.inputs - 1),
      background: options.background ?? false,
    });
    this.#pipes = [];
    this.#process.whenStarted(() => {
      for (let i = 0; i < options.inputs; i++) this.#pipes.push(this.#process.inputPipe(compositorInputFd(i)));
    });
    this.#process.on('exit', ({ expected, code, signal, stderrTail }) => {
      if (!expected) this.safeEmit('died', new FfmpegError(`compositor exited (code ${code}, signal ${signal})`, stderrTail));
    });
  }

  get exited(): boolean {
    return this.#process.exited || this.#process.stopping;
  }

  /** A standby taken into use runs at the media path's priority. */
  raisePriority(): void {
    this.#raiseWhenReading = false;
    this.#process.raisePriority();
  }

  /**
   * Raises it to the media path's priority once FFmpeg has taken its next frame: started in the
   * background, FFmpeg's start-up (exec, loading its libraries) does not take CPU from the running
   * compositor, and what follows (the graph, the encoder, the frames) is not held back.
   */
  raisePriorityWhenReading(): void {
    this.#raiseWhenReading = true;
  }

  get pid(): number | undefined {
    return this.#process.pid;
  }

  /** Calls `callback` once FFmpeg runs and takes frames. */
  whenStarted(callback: () => void): void {
    this.#process.whenStarted(callback);
  }

  /** Writes one frame per input; skips the whole tick if FFmpeg is behind on any input (or not started yet). */
  writeFrames(frames: readonly Buffer[]): boolean {
    if (this.#process.exited || this.#process.stopping || !this.#process.started) return false;
    const limit = MAX_QUEUED_FRAMES * this.#frameBytes;
    if (this.#pipes.some((pipe) => pipe.writableLength > limit)) {
      this.ticksSkipped++;
      return false;
    }
    const pool = this.#framePool;
    this.#pipes.forEach((pipe, i) => {
      const frame = frames[i]!;
      // Held until the pipe has taken all of it (FFmpeg reads a frame in pieces): a tile-source
      // frame (345,600 bytes by default) is larger than a pipe's buffer, so by then FFmpeg reads.
      pool?.hold(frame);
      pipe.write(frame, () => {
        pool?.release(frame);
        if (i === 0 && this.#raiseWhenReading) this.raisePriority();
      });
    });
    this.framesWritten++;
    return true;
  }

  /** Ends the inputs so FFmpeg flushes and exits; SIGINT and harsher signals follow if it doesn't. */
  async close(): Promise<void> {
    for (const pipe of this.#pipes) pipe.end();
    await this.#process.stop();
  }
}
