import { rm, stat, writeFile } from 'node:fs/promises';
import { createLogger } from '../../base/log/logger.ts';
import { rtpSdp } from '../../base/rtp/sdp.ts';
import { recorderArgs, recordingVideoCodec } from './recorderArgs.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { isH264KeyframeStart } from '../rtp/h264.ts';
import { readMarker, readSeq, readTimestamp, writeSeqAndTimestamp } from '../rtp/rtpHeader.ts';
import { seqAdd } from '../rtp/seq.ts';
import { isVp8KeyframeStart } from '../rtp/vp8.ts';
import { RecordingError } from './errors.ts';
import { AudioAligner } from './AudioAligner.ts';
import { FrameTimestamps } from './FrameTimestamps.ts';
import { markerPath } from './recordingPath.ts';
import { probeDuration, repairRecording } from './repair.ts';
import { RtpFileWriter } from './RtpFileWriter.ts';
import type {
  RecorderEvents,
  RecorderObserverEvents,
  RecorderOptions,
  RecordingInfo,
  RecordingMarker,
  RecordingState,
} from './RecorderTypes.ts';

const log = createLogger('Recorder');

/** FFmpeg binds its RTP ports within a few hundred ms; a busy machine gets more. */
const LISTEN_TIMEOUT_MS = 10_000;
/** Until the first keyframe arrives, ask the session for one this often. */
const KEYFRAME_RETRY_MS = 1000;
const SIZE_POLL_MS = 1000;

/**
 * One recording of a room: the composite and the mix, as participants receive them (after the
 * stream switcher, so one continuous stream across compositor restarts), forwarded on loopback
 * UDP to an FFmpeg that stream-copies them into the file (no second encode, RtpFileWriter).
 *
 * Nothing is forwarded before a keyframe of the composite, so the file starts decodable and its
 * audio starts with its picture. A sidecar marker (`<file>.recording`) exists while the file is
 * unfinished: a server that restarts after a crash finds it and repairs the file.
 */
export class Recorder extends TypedEmitter<RecorderEvents> {
  readonly observer = new TypedEmitter<RecorderObserverEvents>();
  readonly room: string;
  readonly file: string;
  readonly path: string;
  readonly #options: RecorderOptions;
  readonly #writer: RtpFileWriter;
  readonly #isKeyframe: (packet: Buffer) => boolean;
  readonly #requestedAt = new Date();
  readonly #frameTimestamps: FrameTimestamps;
  #audio: AudioAligner | undefined;
  #frames = 0;
  #state: RecordingState = 'starting';
  #listening = false;
  #open = false;
  #startedAtMs: number | undefined;
  #lastSentAtMs: number | undefined;
  #bytes = 0;
  #finalDuration: number | undefined;
  #error: string | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopping: Promise<RecordingInfo> | undefined;
  #closed: Promise<RecordingInfo>;

  /** Starts FFmpeg and resolves once it listens; the file begins at the next composite keyframe. */
  static async create(options: RecorderOptions): Promise<Recorder> {
    let markerWritten = false;
    let recorder: Recorder | undefined;
    try {
      const marker: RecordingMarker = {
        room: options.room,
        file: options.file,
        container: options.container,
        requestedAt: new Date().toISOString(),
        pid: process.pid,
      };
      // `wx`: a marker that appeared meanwhile belongs to another recording of this name.
      await writeFile(markerPath(options.path), `${JSON.stringify(marker)}\n`, { flag: 'wx' }).catch(() => {
        throw new RecordingError('file_exists', `${options.file} is being recorded already`);
      });
      markerWritten = true;
      const writer = await RtpFileWriter.create({
        name: `recorder ${options.room} ${options.file}`,
        kinds: ['video', 'audio'],
        sdp: (ports) =>
          rtpSdp('mcu recording', [
            { kind: 'video', port: ports.video!, codec: recordingVideoCodec(options.container), payloadType: options.videoPayloadType },
            { kind: 'audio', port: ports.audio!, codec: 'opus', payloadType: options.audioPayloadType },
          ]),
        args: (sdpPath) => recorderArgs({ sdpPath, outputPath: options.path, container: options.container }),
      });
      recorder = new Recorder(options, writer);
      await recorder.#waitUntilListening();
      return recorder;
    } catch (error) {
      // A recorder that was made has released everything on its way out.
      if (!recorder && markerWritten) await rm(markerPath(options.path), { force: true });
      if (error instanceof RecordingError) throw error;
      throw new RecordingError('recorder_failed', `the recording could not start: ${(error as Error).message}`);
    }
  }

  private constructor(options: RecorderOptions, writer: RtpFileWriter) {
    super();
    this.#options = options;
    this.room = options.room;
    this.file = options.file;
    this.path = options.path;
    this.#writer = writer;
    this.#isKeyframe = recordingVideoCodec(options.container) === 'H264' ? isH264KeyframeStart : isVp8KeyframeStart;
    this.#frameTimestamps = new FrameTimestamps(90_000 / options.fps);
    this.#closed = writer.closed.then(({ expected, code, signal, stderrTail }) =>
      this.#onExit(expected && signal !== 'SIGKILL', `FFmpeg exited (code ${code}, signal ${signal}): ${stderrTail}`),
    );
    this.#every(SIZE_POLL_MS, () => void this.#updateSize());
    log.info({ room: this.room, file: this.file, path: this.path }, 'recording requested');
  }

  get state(): RecordingState {
    return this.#state;
  }

  info(): RecordingInfo {
    const { container } = this.#options;
    const started = this.#startedAtMs;
    const live = started !== undefined && this.#lastSentAtMs !== undefined ? (this.#lastSentAtMs - started) / 1000 : 0;
    return {
      room: this.room,
      file: this.file,
      container,
      state: this.#state,
      requestedAt: this.#requestedAt.toISOString(),
      startedAt: started !== undefined ? new Date(started).toISOString() : null,
      durationSeconds: Math.round((this.#finalDuration ?? live) * 1000) / 1000,
      frames: this.#frames,
      bytes: this.#bytes,
      ...(this.#error !== undefined ? { error: this.#error } : {}),
    };
  }

  /** A packet of the composite (`video`) or of the mix (`audio`), as participants receive it. */
  push(kind: 'video' | 'audio', packet: Buffer): void {
    // Nothing after a stop request: the file ends when it was asked to (see stop()).
    if (!this.#listening || this.#writer.process.exited || this.#stopping) return;
    if (!this.#open) {
      if (kind !== 'video' || !this.#isKeyframe(packet)) return;
      this.#open = true;
      this.#startedAtMs = Date.now();
      this.#audio = new AudioAligner(this.#startedAtMs);
      if (this.#state === 'starting') this.#setState('recording');
      log.info({ room: this.room, file: this.file }, 'recording: first keyframe in the file');
    }
    // A copy: the same buffer goes on to every participant's sender.
    const copy = Buffer.from(packet);
    if (kind === 'audio') {
      const aligner = this.#audio;
      const ts = aligner?.map(readTimestamp(copy), Date.now());
      if (!aligner || ts === undefined) return;
      // Sequence numbers close up over what was left out: FFmpeg would wait for it as lost.
      writeSeqAndTimestamp(copy, seqAdd(readSeq(copy), -aligner.dropped), ts);
      this.#send(kind, copy);
      return;
    }
    writeSeqAndTimestamp(copy, readSeq(copy), this.#frameTimestamps.map(readTimestamp(copy)));
    if (readMarker(copy)) this.#frames++;
    this.#send(kind, copy);
  }

  /**
   * Stops and finalizes the file (FFmpeg writes its index and duration). Idempotent. Packets stop
   * going to FFmpeg at once, so the file ends at this moment, not when FFmpeg gets round to it.
   */
  stop(): Promise<RecordingInfo> {
    this.#stopping ??= (async () => {
      if (this.#state === 'starting' || this.#state === 'recording') this.#setState('stopping');
      await this.#writer.stop();
      return this.#closed;
    })();
    return this.#stopping;
  }

  /** Resolves with the final info once the recorder has ended, asked to or not. */
  whenClosed(): Promise<RecordingInfo> {
    return this.#closed;
  }

  #send(kind: 'video' | 'audio', packet: Buffer): void {
    this.#lastSentAtMs = Date.now();
    this.#writer.send(kind, packet);
  }

  async #waitUntilListening(): Promise<void> {
    const listening = await this.#writer.untilListening(LISTEN_TIMEOUT_MS).catch(async (error: unknown) => {
      await this.stop();
      throw error;
    });
    if (!listening) {
      await this.stop();
      throw new RecordingError('recorder_failed', `the recorder did not listen within ${LISTEN_TIMEOUT_MS / 1000} s`);
    }
    this.#listening = true;
    this.#options.requestKeyframe();
    const retry = this.#every(KEYFRAME_RETRY_MS, () => {
      if (this.#open || this.#stopping) clearInterval(retry);
      else this.#options.requestKeyframe();
    });
  }

  async #onExit(clean: boolean, problem: string): Promise<RecordingInfo> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    const asked = this.#stopping !== undefined;
    const wrote = await this.#updateSize();
    if (!this.#open) {
      // Nothing reached the file: there is nothing to keep.
      await rm(this.path, { force: true });
      await rm(markerPath(this.path), { force: true });
      if (!asked) this.#error = problem;
      this.#setState(asked ? 'finished' : 'failed');
    } else if (clean && asked) {
      this.#finalDuration = await probeDuration(this.path).catch(() => undefined);
      await rm(markerPath(this.path), { force: true });
      this.#setState('finished');
    } else {
      // Ended on its own, or killed: what it wrote is repaired like a crash's leftover.
      this.#error = asked ? `the recorder had to be killed; the file was repaired` : problem;
      try {
        this.#finalDuration = await repairRecording(this.path, this.#options.container);
        await rm(markerPath(this.path), { force: true });
      } catch (error) {
        this.#error += `; repair failed: ${(error as Error).message}`;
      }
      await this.#updateSize();
      this.#setState(asked ? 'finished' : 'failed');
    }
    const info = this.info();
    log.info(
      { ...info, bytesBefore: wrote, framesMoved: this.#frameTimestamps.moved, audioLeftOut: this.#audio?.dropped ?? 0 },
      'recording ended',
    );
    this.safeEmit('@close', info);
    this.observer.safeEmit('close', info);
    return info;
  }

  async #updateSize(): Promise<number> {
    this.#bytes = await stat(this.path).then(
      (s) => s.size,
      () => this.#bytes,
    );
    return this.#bytes;
  }

  #setState(state: RecordingState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.observer.safeEmit('state', this.info());
  }

  #every(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.#timers.add(timer);
    return timer;
  }
}
