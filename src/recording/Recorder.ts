import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { createLogger } from '../../base/log/logger.ts';
import { allocateRtpPort, releaseRtpPort, waitUntilBound } from '../../base/net/ports.ts';
import { rtpSdp } from '../../base/rtp/sdp.ts';
import { recorderArgs, recordingVideoCodec } from './recorderArgs.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { isH264KeyframeStart } from '../rtp/h264.ts';
import { readMarker, readSeq, readTimestamp, writeSeqAndTimestamp } from '../rtp/rtpHeader.ts';
import { seqAdd, tsAdd } from '../rtp/seq.ts';
import { isVp8KeyframeStart } from '../rtp/vp8.ts';
import { RecordingError } from './errors.ts';
import { AudioAligner } from './AudioAligner.ts';
import { FrameTimestamps } from './FrameTimestamps.ts';
import { markerPath } from './recordingPath.ts';
import { probeDuration, repairRecording } from './repair.ts';
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
/** While stopping: the first extra packet (see #kick), and more while FFmpeg has not exited. */
const KICK_FIRST_MS = 50;
const KICK_AFTER_MS = 250;
/** 20 ms of Opus at 48 kHz (RFC 7587 §4.1: the RTP clock is always 48 kHz). */
const OPUS_FRAME_TICKS = 960;

/**
 * One recording of a room: the composite and the mix, as participants receive them (after the
 * stream switcher, so one continuous stream across compositor restarts), forwarded on loopback
 * UDP to an FFmpeg that stream-copies them into the file (no second encode).
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
  readonly #socket: Socket;
  readonly #ports: { video: number; audio: number };
  readonly #workDir: string;
  readonly #process: FfmpegProcess;
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
  #lastAudio: Buffer | undefined;
  #bytes = 0;
  #finalDuration: number | undefined;
  #error: string | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopping: Promise<RecordingInfo> | undefined;
  #closed: Promise<RecordingInfo>;

  /** Starts FFmpeg and resolves once it listens; the file begins at the next composite keyframe. */
  static async create(options: RecorderOptions): Promise<Recorder> {
    const ports: number[] = [];
    let workDir: string | undefined;
    let socket: Socket | undefined;
    let markerWritten = false;
    let recorder: Recorder | undefined;
    try {
      const video = await allocateRtpPort();
      ports.push(video);
      const audio = await allocateRtpPort();
      ports.push(audio);
      workDir = await mkdtemp(join(tmpdir(), 'mcu-recorder-'));
      const sdpPath = join(workDir, 'input.sdp');
      await writeFile(
        sdpPath,
        rtpSdp('mcu recording', [
          { kind: 'video', port: video, codec: recordingVideoCodec(options.container), payloadType: options.videoPayloadType },
          { kind: 'audio', port: audio, codec: 'opus', payloadType: options.audioPayloadType },
        ]),
      );
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
      const bound = createSocket('udp4');
      socket = bound;
      await new Promise<void>((resolve, reject) => {
        bound.once('error', reject);
        bound.bind(0, '127.0.0.1', () => resolve());
      });
      recorder = new Recorder(options, { socket: bound, ports: { video, audio }, workDir, sdpPath });
      await recorder.#waitUntilListening();
      return recorder;
    } catch (error) {
      // A recorder that was made has released everything on its way out.
      if (!recorder) {
        socket?.close();
        for (const port of ports) releaseRtpPort(port);
        if (workDir) await rm(workDir, { recursive: true, force: true });
        if (markerWritten) await rm(markerPath(options.path), { force: true });
      }
      if (error instanceof RecordingError) throw error;
      throw new RecordingError('recorder_failed', `the recording could not start: ${(error as Error).message}`);
    }
  }

  private constructor(
    options: RecorderOptions,
    io: { socket: Socket; ports: { video: number; audio: number }; workDir: string; sdpPath: string },
  ) {
    super();
    this.#options = options;
    this.room = options.room;
    this.file = options.file;
    this.path = options.path;
    this.#socket = io.socket;
    this.#socket.on('error', () => {});
    this.#ports = io.ports;
    this.#workDir = io.workDir;
    this.#isKeyframe = recordingVideoCodec(options.container) === 'H264' ? isH264KeyframeStart : isVp8KeyframeStart;
    this.#frameTimestamps = new FrameTimestamps(90_000 / options.fps);
    this.#process = new FfmpegProcess({
      name: `recorder ${options.room} ${options.file}`,
      args: recorderArgs({ sdpPath: io.sdpPath, outputPath: options.path, container: options.container }),
    });
    this.#closed = new Promise((resolve) => {
      this.#process.once('exit', ({ expected, code, signal, stderrTail }) => {
        void this.#onExit(expected && signal !== 'SIGKILL', `FFmpeg exited (code ${code}, signal ${signal}): ${stderrTail}`).then(resolve);
      });
    });
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
    if (!this.#listening || this.#process.exited || this.#stopping) return;
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
      this.#lastAudio = copy;
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
      const stopped = this.#process.stop();
      // SIGINT is sent; FFmpeg sees it at its next packet (see #kick).
      this.#later(KICK_FIRST_MS, () => this.#kick());
      this.#every(KICK_AFTER_MS, () => this.#kick());
      await stopped;
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
    this.#socket.send(packet, kind === 'video' ? this.#ports.video : this.#ports.audio, '127.0.0.1');
  }

  async #waitUntilListening(): Promise<void> {
    const both = Promise.all([
      waitUntilBound(this.#ports.video, LISTEN_TIMEOUT_MS),
      waitUntilBound(this.#ports.audio, LISTEN_TIMEOUT_MS),
    ]);
    const [video, audio] = await this.#process.untilReady(both, 'listening for RTP').catch(async (error: unknown) => {
      await this.stop();
      throw error;
    });
    if (!video || !audio) {
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

  /**
   * FFmpeg sees a stop request only between packets: with its input quiet (no more packets after
   * the request) it sits in a read. One more packet of the mix, a repeat of the last one moved on
   * by 20 ms, lets it see the request and finish the file.
   */
  #kick(): void {
    const last = this.#lastAudio;
    if (!last || this.#process.exited) return;
    const copy = Buffer.from(last);
    writeSeqAndTimestamp(copy, seqAdd(readSeq(last), 1), tsAdd(readTimestamp(last), OPUS_FRAME_TICKS));
    this.#lastAudio = copy;
    this.#send('audio', copy);
  }

  async #onExit(clean: boolean, problem: string): Promise<RecordingInfo> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.clear();
    this.#socket.close();
    releaseRtpPort(this.#ports.video);
    releaseRtpPort(this.#ports.audio);
    await rm(this.#workDir, { recursive: true, force: true });
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

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }

  #every(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.#timers.add(timer);
    return timer;
  }
}
