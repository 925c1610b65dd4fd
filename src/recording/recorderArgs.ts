import { extname } from 'node:path';

/**
 * Pure builders for the recorder: the container a file name asks for, and the argument arrays
 * of the recorder, of the repair of an unfinished file and of the probe of a finished one (its
 * SDP: base/rtp/sdp.ts).
 */

export type RecordingContainer = 'webm' | 'matroska' | 'mp4';

/** File extensions a recording may have, and the container each one means. */
export const RECORDING_EXTENSIONS: Readonly<Record<string, RecordingContainer>> = Object.freeze({
  '.webm': 'webm',
  '.mkv': 'matroska',
  '.mp4': 'mp4',
});

export const DEFAULT_RECORDING_EXTENSION = '.webm';

/** The container for a file name, from its extension (case-insensitive); undefined if none fits. */
export function recordingContainer(path: string): RecordingContainer | undefined {
  // extname: `.webm` alone is a hidden file's name, not an extension.
  return RECORDING_EXTENSIONS[extname(path).toLowerCase()];
}

/**
 * The composite's codec in a container. FFmpeg 5.1's MP4 muxer has no tag for VP8 ("codec not
 * currently supported in container", measured here), so an MP4 recording takes the H.264
 * composite; WebM cannot hold H.264, so it takes VP8, and so does Matroska (no second encode).
 */
export function recordingVideoCodec(container: RecordingContainer): 'VP8' | 'H264' {
  return container === 'mp4' ? 'H264' : 'VP8';
}

/** How long a recorder's piece of the file may stay in memory before it is on disk, at most. */
export const RECORDING_FLUSH_MS = 500;

/**
 * Muxer settings that leave a playable file when the process is killed (README, "Recording"):
 * Matroska and WebM close a cluster at least every RECORDING_FLUSH_MS and write each packet through
 * (measured here: a recorder killed with SIGKILL 5.0 s into its input left 150 of 150 frames
 * decodable); fragmented MP4 writes a self-contained fragment at least as often, where a plain
 * MP4 would have no index at all until its trailer.
 */
export function crashSafeMuxerArgs(container: RecordingContainer): string[] {
  if (container === 'mp4') {
    return [
      '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+default_base_moof',
      '-frag_duration', String(RECORDING_FLUSH_MS * 1000), '-flush_packets', '1',
    ];
  }
  return ['-f', container, '-cluster_time_limit', String(RECORDING_FLUSH_MS), '-flush_packets', '1'];
}

export interface RecorderArgsOptions {
  sdpPath: string;
  /** Absolute path of the file; it must not exist (FFmpeg is told never to overwrite). */
  outputPath: string;
  container: RecordingContainer;
}

/**
 * The recorder: RTP of the composite and the mix, read through an SDP file, stream-copied into
 * the file (no second encode).
 *
 * - Short probe: the server forwards nothing before a keyframe of the composite, so the first
 *   video packet FFmpeg sees starts one. For VP8 `-probesize 32 -analyzeduration 0` then finds
 *   the picture size at once (the bot's recorder, which starts mid-stream, needs seconds). H.264
 *   arrives NAL unit by NAL unit (SPS, PPS, then the IDR picture) and 32 bytes left its size
 *   unknown ("dimensions not set", measured here): it gets up to a second. Packets read while
 *   probing are kept, so the file still starts at that keyframe.
 * - `-nostdin`: it is stopped with SIGINT, which also interrupts it while it still waits for its
 *   first packet, where `q` on stdin is read only once packets flow.
 * - The SDP demuxer's `listen_timeout` (10 s, its default) ends the recorder, with a finalized
 *   file, 10 s after the last packet: a recorder whose server died does not run on.
 * - `-n`: never overwrite a file (the server refuses existing names before this).
 */
export function recorderArgs(o: RecorderArgsOptions): string[] {
  const probe = recordingVideoCodec(o.container) === 'H264' ? ['-probesize', '1000000', '-analyzeduration', '1000000'] : ['-probesize', '32', '-analyzeduration', '0'];
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostats', '-nostdin',
    '-protocol_whitelist', 'file,udp,rtp', ...probe,
    '-i', o.sdpPath,
    '-map', '0:v:0', '-map', '0:a:0', '-c', 'copy',
    ...crashSafeMuxerArgs(o.container),
    '-n', `file:${o.outputPath}`,
  ];
}

/**
 * Repairs a file left by a recorder that did not finish (killed, or the server crashed): FFmpeg
 * reads whatever complete clusters or fragments it holds and writes them, stream-copied, into a
 * finished file with an index and a duration. An MP4 comes out as a plain one, moov first.
 */
export function repairArgs(inputPath: string, outputPath: string, container: RecordingContainer): string[] {
  const muxer = container === 'mp4' ? ['-f', 'mp4', '-movflags', '+faststart'] : ['-f', container];
  return [
    '-hide_banner', '-loglevel', 'error', '-nostats', '-nostdin',
    '-i', `file:${inputPath}`, '-map', '0', '-c', 'copy', ...muxer, '-y', `file:${outputPath}`,
  ];
}

/** ffprobe: the container's duration in seconds on stdout (`N/A` when it has none). */
export function durationProbeArgs(path: string): string[] {
  return ['-v', 'error', '-show_entries', 'format=duration', '-of', 'default=noprint_wrappers=1:nokey=1', `file:${path}`];
}
