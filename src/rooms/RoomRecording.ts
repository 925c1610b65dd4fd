import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import { H264_PAYLOAD_TYPE, OPUS_PAYLOAD_TYPE, VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
import { RoomNotFoundError } from '../errors.ts';
import { RecordingError } from '../recording/errors.ts';
import { Recorder } from '../recording/Recorder.ts';
import { recordingVideoCodec } from '../recording/recorderArgs.ts';
import type { RecordingInfo } from '../recording/RecorderTypes.ts';
import type { RecordingTarget } from '../recording/recordingPath.ts';
import type { RoomMedia } from './RoomMedia.ts';
import type { RoomSession } from './RoomSession.ts';

const log = createLogger('RoomRecording');

export type RoomRecordingEvents = {
  '@start': [RecordingInfo];
  /** The recording ended (finished or failed) and its taps are off. */
  '@stop': [RecordingInfo];
};

/**
 * A room's recording: at most one at a time, of the composite and the mix of everyone. Exists so
 * that the recorder, its taps on the room's media and the session's H.264 encoding it may need
 * start and end together. While it records the session runs, even in an empty room.
 */
export class RoomRecording extends TypedEmitter<RoomRecordingEvents> {
  readonly #room: string;
  readonly #fps: number;
  readonly #media: RoomMedia;
  readonly #session: RoomSession;
  #recorder?: Recorder;
  #starting = false;
  #untap: (() => void)[] = [];
  #last?: RecordingInfo;
  #closing?: Promise<void>;

  constructor(options: { room: string; fps: number; media: RoomMedia; session: RoomSession }) {
    super();
    this.#room = options.room;
    this.#fps = options.fps;
    this.#media = options.media;
    this.#session = options.session;
  }

  /** Recording or starting to: the session must keep running. */
  get active(): boolean {
    return this.#recorder !== undefined || this.#starting;
  }

  /** The running recording, else the last one (finished or failed), else undefined. */
  get info(): RecordingInfo | undefined {
    return this.#recorder?.info() ?? this.#last;
  }

  /** The running recording is an MP4: the session must encode the composite in H.264 too. */
  get wantsH264(): boolean {
    return this.#recorder !== undefined && recordingVideoCodec(this.#recorder.info().container) === 'H264';
  }

  /**
   * Records into `target` (checked to be inside the recordings folder) until stop() or close().
   * Starts the session if there is none: an empty room's file shows a black composite and silence.
   */
  async start(target: RecordingTarget): Promise<RecordingInfo> {
    if (this.#closing) throw new RoomNotFoundError(this.#room);
    if (this.active) {
      throw new RecordingError('recording_active', `room ${this.#room} is already recording ${this.#recorder?.file ?? ''}`.trim());
    }
    this.#starting = true;
    try {
      this.#session.ensure().catch(() => {});
      const h264 = recordingVideoCodec(target.container) === 'H264';
      const recorder = await Recorder.create({
        room: this.#room,
        ...target,
        videoPayloadType: h264 ? H264_PAYLOAD_TYPE : VP8_PAYLOAD_TYPE,
        audioPayloadType: OPUS_PAYLOAD_TYPE,
        fps: this.#fps,
        requestKeyframe: () => this.#session.use((s) => s.requestCompositeKeyframe()),
      });
      if (this.#closing) {
        await recorder.stop();
        throw new RoomNotFoundError(this.#room);
      }
      this.#recorder = recorder;
      this.#untap = this.#media.tap(h264, (kind, packet) => recorder.push(kind, packet));
      recorder.once('@close', (info) => this.#onClosed(recorder, info));
      if (h264) this.#session.use((s) => s.setH264Wanted(true));
      log.info({ room: this.#room, file: target.file }, 'recording started');
      this.safeEmit('@start', recorder.info());
      return recorder.info();
    } finally {
      this.#starting = false;
    }
  }

  /** Stops the recording and resolves once its file is finalized. */
  async stop(): Promise<RecordingInfo> {
    const recorder = this.#recorder;
    if (!recorder) throw new RecordingError('recording_not_found', `room ${this.#room} is not recording`);
    return recorder.stop();
  }

  /** Finishes the file and records no more. Idempotent: a second call waits for the same stop. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#recorder?.stop();
    })();
    return this.#closing;
  }

  #onClosed(recorder: Recorder, info: RecordingInfo): void {
    if (this.#recorder !== recorder) return;
    for (const untap of this.#untap.splice(0)) untap();
    this.#recorder = undefined;
    this.#last = info;
    log.info({ room: this.#room, file: info.file, state: info.state }, 'recording ended');
    if (recordingVideoCodec(info.container) === 'H264') this.#session.use((s) => s.setH264Wanted(false));
    this.safeEmit('@stop', info);
  }
}
