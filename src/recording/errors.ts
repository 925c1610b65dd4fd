/** Why a recording could not be started or stopped; the REST API maps each code to a status. */
export type RecordingErrorCode =
  /** The name escapes the recordings folder, or has an extension no container fits. */
  | 'bad_path'
  | 'file_exists'
  | 'recording_active'
  | 'recording_not_found'
  /** FFmpeg could not start the recording. */
  | 'recorder_failed';

export class RecordingError extends Error {
  override name = 'RecordingError';
  constructor(
    readonly code: RecordingErrorCode,
    message: string,
  ) {
    super(message);
  }
}
