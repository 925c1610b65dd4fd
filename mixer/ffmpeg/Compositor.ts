import type { Writable } from 'node:stream';
import { FfmpegError } from '../../base/process/errors.ts';
import { randomInt } from 'node:crypto';
import { compositorArgs, compositorInputFd, type CompositorOptions, type TileLabel } from './ffmpegArgs.ts';
import type { CompositorPlan, SwitchAction } from '../logic/CompositorSwitch.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import type { FramePool } from '../logic/FramePool.ts';
import { layoutTiles, type LayoutKind, type Size } from '../logic/layout.ts';
import type { Rung } from '../logic/ladder.ts';
import { H264_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
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
  /** The lower rungs it encodes: each one's index in the session's rungs, and its SSRC. */
  readonly rungSsrcs: { index: number; ssrc: number }[];
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
      /** The index in the session's rungs of each of `rungOutputs`. */
      rungIndices?: number[];
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
    this.rungSsrcs = (options.rungOutputs ?? []).map((rung, i) => ({ index: options.rungIndices?.[i] ?? i, ssrc: rung.output.ssrc }));
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

/** What a session's compositors are made with. */
export interface CompositorSetOptions {
  canvas: Size;
  fps: number;
  videoBitrateKbps: number;
  keyframeIntervalSeconds: number;
  /** Loopback ports the VP8 composite and the H.264 one are sent to. */
  compositePort: number;
  compositeH264Port: number;
  /** The lower rungs, and the loopback port of each. */
  rungs: readonly Rung[];
  rungPorts?: readonly number[];
  /** Frame pools and black tiles by tile-source size (SizedFrames.ts). */
  frames: { pool(size: Size): FramePool; tiles(size: Size): { black: Buffer } };
  /** The name label drawn on a participant's tile, if any. */
  label(participantId: string): TileLabel | undefined;
  /** A compositor exited without being asked to. */
  onDied(id: number, error: FfmpegError): void;
}

// FFmpeg's RTP muxer takes the SSRC as a signed 32-bit option.
const randomSsrc = (): number => randomInt(1, 0x7fffffff);

/**
 * A session's running compositors, each by the id its compositor switch gave it
 * (CompositorSwitch.ts): started from a plan, raised and closed as the switch decides.
 */
export class CompositorSet {
  readonly #o: CompositorSetOptions;
  readonly #running = new Map<number, Compositor>();

  constructor(options: CompositorSetOptions) {
    this.#o = options;
  }

  get(id: number | undefined): Compositor | undefined {
    return id === undefined ? undefined : this.#running.get(id);
  }

  /** Starts, raises or closes one as the switch decided; returns the one the action is about. */
  run(action: SwitchAction): Compositor | undefined {
    if (!('id' in action)) return undefined;
    if (action.do === 'start') this.#running.set(action.id, this.#start(action.id, action.plan, action.background));
    const compositor = this.#running.get(action.id);
    if (action.do === 'raise' && action.when === 'now') compositor?.raisePriority();
    if (action.do === 'raise' && action.when === 'reading') compositor?.raisePriorityWhenReading();
    if (action.do === 'close') {
      this.#running.delete(action.id);
      void compositor?.close();
    }
    return compositor;
  }

  /** One died: it is no longer running. */
  forget(id: number): void {
    this.#running.delete(id);
  }

  async close(): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  /**
   * A compositor whose first frame is a black warm-up that nobody sees (the outgoing stream skips
   * it), and whose second frame is a keyframe (WAKE_KEYFRAME in ffmpegArgs.ts). That first frame
   * makes FFmpeg build its graph and encoder; a compositor switched to at its very first frame
   * sent the next ones 100 ms late, while it still started up. `background`: below the media
   * path's priority until raisePriority().
   */
  #start(id: number, plan: CompositorPlan, background: boolean): Compositor {
    const { canvas, fps, videoBitrateKbps, keyframeIntervalSeconds, compositePort, compositeH264Port, frames, rungs, rungPorts = [] } = this.#o;
    const encoded = plan.rungs.filter((i) => rungs[i] !== undefined && rungPorts[i] !== undefined);
    const inputs = Math.max(1, plan.ids.length);
    const compositor = new Compositor({
      tileIds: plan.ids,
      layoutKind: plan.kind,
      planKey: plan.key,
      framePool: frames.pool(plan.source),
      background,
      inputs,
      source: plan.source,
      canvas,
      tiles: layoutTiles(plan.kind, inputs, canvas),
      labels: plan.ids.map((participantId) => this.#o.label(participantId)),
      fps,
      bitrateKbps: videoBitrateKbps,
      keyframeInterval: Math.round(keyframeIntervalSeconds * fps),
      output: { port: compositePort, payloadType: VP8_PAYLOAD_TYPE, ssrc: randomSsrc() },
      ...(plan.h264 ? { h264Output: { port: compositeH264Port, payloadType: H264_PAYLOAD_TYPE, ssrc: randomSsrc() } } : {}),
      rungIndices: encoded,
      rungOutputs: encoded.map((i) => {
        const { width, height, kbps } = rungs[i]!;
        return { size: { width, height }, kbps, output: { port: rungPorts[i]!, payloadType: VP8_PAYLOAD_TYPE, ssrc: randomSsrc() } };
      }),
    });
    const { black } = frames.tiles(plan.source);
    compositor.whenStarted(() => compositor.writeFrames(Array.from({ length: inputs }, () => black)));
    compositor.on('died', (error) => this.#o.onDied(id, error));
    return compositor;
  }
}
