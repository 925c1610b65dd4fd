/**
 * Pure builders of the FFmpeg argument arrays the headless bot (`mcu bot`) runs: its media
 * source (a synthetic colour + tone, or a media file) sent as RTP to loopback ports the bot
 * listens on, and its recorder, which stream-copies the RTP the bot receives into a file.
 * Every flag and every value is its own element; nothing here is ever joined into a shell string.
 */

import { VP8_REALTIME } from '../../mixer/ffmpeg/ffmpegArgs.ts';
import { timecodeFilter } from '../../mixer/logic/timecode.ts';

const COMMON = ['-hide_banner', '-nostdin', '-loglevel', 'warning', '-nostats'];

/** RTP packets of at most 1200 bytes leave room for SRTP and TURN overhead under a 1500-byte MTU. */
const RTP_PACKET_SIZE = 1200;

export const BOT_AUDIO_SAMPLE_RATE = 48000;

/**
 * FFmpeg's colour names (libavutil/parseutils.c, `ffmpeg -colors`), lower case; FFmpeg compares
 * them case-insensitively. Checked here so that a typo is refused before the bot joins a room.
 */
export const FFMPEG_COLOR_NAMES: ReadonlySet<string> = new Set([
  'aliceblue', 'antiquewhite', 'aqua', 'aquamarine', 'azure', 'beige', 'bisque', 'black', 'blanchedalmond',
  'blue', 'blueviolet', 'brown', 'burlywood', 'cadetblue', 'chartreuse', 'chocolate', 'coral',
  'cornflowerblue', 'cornsilk', 'crimson', 'cyan', 'darkblue', 'darkcyan', 'darkgoldenrod', 'darkgray',
  'darkgreen', 'darkkhaki', 'darkmagenta', 'darkolivegreen', 'darkorange', 'darkorchid', 'darkred',
  'darksalmon', 'darkseagreen', 'darkslateblue', 'darkslategray', 'darkturquoise', 'darkviolet', 'deeppink',
  'deepskyblue', 'dimgray', 'dodgerblue', 'firebrick', 'floralwhite', 'forestgreen', 'fuchsia', 'gainsboro',
  'ghostwhite', 'gold', 'goldenrod', 'gray', 'green', 'greenyellow', 'honeydew', 'hotpink', 'indianred',
  'indigo', 'ivory', 'khaki', 'lavender', 'lavenderblush', 'lawngreen', 'lemonchiffon', 'lightblue',
  'lightcoral', 'lightcyan', 'lightgoldenrodyellow', 'lightgreen', 'lightgrey', 'lightpink', 'lightsalmon',
  'lightseagreen', 'lightskyblue', 'lightslategray', 'lightsteelblue', 'lightyellow', 'lime', 'limegreen',
  'linen', 'magenta', 'maroon', 'mediumaquamarine', 'mediumblue', 'mediumorchid', 'mediumpurple',
  'mediumseagreen', 'mediumslateblue', 'mediumspringgreen', 'mediumturquoise', 'mediumvioletred',
  'midnightblue', 'mintcream', 'mistyrose', 'moccasin', 'navajowhite', 'navy', 'oldlace', 'olive',
  'olivedrab', 'orange', 'orangered', 'orchid', 'palegoldenrod', 'palegreen', 'paleturquoise',
  'palevioletred', 'papayawhip', 'peachpuff', 'peru', 'pink', 'plum', 'powderblue', 'purple', 'red',
  'rosybrown', 'royalblue', 'saddlebrown', 'salmon', 'sandybrown', 'seagreen', 'seashell', 'sienna', 'silver',
  'skyblue', 'slateblue', 'slategray', 'snow', 'springgreen', 'steelblue', 'tan', 'teal', 'thistle', 'tomato',
  'turquoise', 'violet', 'wheat', 'white', 'whitesmoke', 'yellow', 'yellowgreen',
]);

/** An FFmpeg colour name (`red`, `SteelBlue`) or hexadecimal `0xRRGGBB` / `#RRGGBB`. */
export function isFfmpegColor(color: string): boolean {
  return FFMPEG_COLOR_NAMES.has(color.toLowerCase()) || /^(0x|#)[0-9a-fA-F]{6}$/.test(color);
}

/** Where one RTP stream goes: a loopback UDP port the bot listens on. */
export interface RtpOutput {
  port: number;
  payloadType: number;
  ssrc: number;
}

/** The codecs the bot can publish, named as in SDP `rtpmap` (and base/rtp/sdp.ts). */
export type BotVideoCodecName = 'VP8' | 'H264';

export interface VideoOutput extends RtpOutput {
  codec: BotVideoCodecName;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

export type AudioOutput = RtpOutput;

/** What the source sends: video, audio or both (an audio-only bot has no `video`). */
export interface SourceOutputs {
  video?: VideoOutput;
  audio?: AudioOutput;
}

export interface SyntheticSourceOptions extends SourceOutputs {
  /** An FFmpeg colour (see `isFfmpegColor`). */
  color: string;
  /** Frequency of the sine tone; 0 sends silence. */
  toneHz: number;
  /** Draw the wall-clock time as a code in the top rows of the picture (mixer/logic/timecode.ts). */
  timecode?: boolean;
}

export interface FileSourceOptions extends SourceOutputs {
  path: string;
  /** Start again at the end of the file, forever. */
  loop: boolean;
}

function requireInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

function checkRtpOutput(kind: string, o: RtpOutput): void {
  requireInteger(`${kind} port`, o.port, 1, 65535);
  requireInteger(`${kind} payload type`, o.payloadType, 0, 127);
  // FFmpeg's rtp muxer takes `-ssrc` as a signed 32-bit int.
  requireInteger(`${kind} ssrc`, o.ssrc, 1, 0x7fffffff);
}

function checkOutputs(o: SourceOutputs): void {
  if (!o.video && !o.audio) throw new TypeError('a bot source needs a video or an audio output');
  if (o.video) {
    checkRtpOutput('video', o.video);
    requireInteger('width', o.video.width, 16, 3840);
    requireInteger('height', o.video.height, 16, 2160);
    if (o.video.width % 2 !== 0 || o.video.height % 2 !== 0) {
      throw new TypeError(`video size must be even for yuv420p, got ${o.video.width}x${o.video.height}`);
    }
    requireInteger('fps', o.video.fps, 1, 60);
    requireInteger('video bitrate (kbps)', o.video.bitrateKbps, 10, 20000);
    if (o.video.codec !== 'VP8' && o.video.codec !== 'H264') throw new TypeError(`unknown video codec ${JSON.stringify(o.video.codec)}`);
    const problem = o.video.codec === 'H264' ? h264LevelProblem(o.video) : undefined;
    if (problem) throw new TypeError(problem);
  }
  if (o.audio) checkRtpOutput('audio', o.audio);
}

/**
 * The RTP muxer's destination. `rtcpport` equal to the RTP port sends FFmpeg's sender reports to
 * the same socket (the bot drops them), so nothing goes to a port nobody has bound. `connect=1`
 * makes a send to a closed port fail with ECONNREFUSED, and FFmpeg then exits: measured here, a
 * source whose bot has died (its sockets closed) stops within one packet instead of running on.
 */
function rtpUrl(port: number): string {
  return `rtp://127.0.0.1:${port}?pkt_size=${RTP_PACKET_SIZE}&rtcpport=${port}&connect=1`;
}

function rtpOutputArgs(o: RtpOutput): string[] {
  return ['-payload_type', String(o.payloadType), '-ssrc', String(o.ssrc), '-f', 'rtp', rtpUrl(o.port)];
}

/**
 * H.264 level 3.1 limits (ITU-T H.264 Table A-1, A.3.1 f; Baseline MaxBR): what the
 * `profile-level-id=42e01f` the bot offers (src/peers/peerConfig.ts) promises a receiver.
 */
const H264_LEVEL_3_1 = { maxFrameMbs: 3600, maxMbsPerSecond: 108_000, maxSideMbs: 169, maxBitrateKbps: 14_000 };

/**
 * Why H.264 at this size, frame rate and bitrate would break level 3.1 (e.g. 1920x1080, or
 * 1280x720 at 60 fps), or `undefined` if it fits. x264 only warns and writes level 3.1 anyway.
 */
export function h264LevelProblem(v: Pick<VideoOutput, 'width' | 'height' | 'fps' | 'bitrateKbps'>): string | undefined {
  const l = H264_LEVEL_3_1;
  const mbsWide = Math.ceil(v.width / 16);
  const mbsHigh = Math.ceil(v.height / 16);
  const frameMbs = mbsWide * mbsHigh;
  if (frameMbs > l.maxFrameMbs || mbsWide > l.maxSideMbs || mbsHigh > l.maxSideMbs) {
    return `H.264 level 3.1 holds at most 1280x720 (3600 macroblocks, 2704 pixels a side), got ${v.width}x${v.height}`;
  }
  if (frameMbs * v.fps > l.maxMbsPerSecond) {
    return `H.264 level 3.1 decodes at most ${l.maxMbsPerSecond} macroblocks per second (1280x720 at 30 fps), got ${v.width}x${v.height} at ${v.fps} fps`;
  }
  if (v.bitrateKbps > l.maxBitrateKbps) {
    return `H.264 level 3.1 (Baseline) allows at most ${l.maxBitrateKbps} kbit/s, got ${v.bitrateKbps}`;
  }
  return undefined;
}

/**
 * libx264 for WebRTC: Baseline (x264 marks it constrained: its SPS reads 42c01f, within the
 * offered 42e01f), level 3.1, no B-frames or lookahead (`zerolatency`), rate capped over a
 * one-second buffer. One thread: the bot shares a small machine with the server.
 *
 * In-band SPS/PPS, measured here with FFmpeg 5.1.9 by capturing these arguments' RTP on a UDP
 * socket and listing the NAL unit types of every frame (3.5 s at 30 fps, RFC 6184 STAP-A and FU-A
 * unpacked): the rtp muxer asks for no global header, so x264 repeats SPS and PPS before
 * every IDR; all 4 IDRs came as STAP-A [SPS, PPS, IDR] for a solid colour and STAP-A [SPS, PPS]
 * then FU-A (IDR) for testsrc2. A receiver that joins mid-stream decodes from the next keyframe,
 * with no `repeat-headers` or `dump_extra` needed. The rtp muxer packetizes in mode 1 (STAP-A,
 * FU-A; its SDP says `packetization-mode=1`), the mode WebRTC negotiates.
 */
export function h264EncoderArgs(v: Pick<VideoOutput, 'bitrateKbps' | 'fps'>): string[] {
  const kbps = `${v.bitrateKbps}k`;
  return [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-level:v', '3.1',
    '-pix_fmt', 'yuv420p', '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps,
    '-g', String(v.fps), '-keyint_min', String(v.fps), '-threads', '1',
  ];
}

export function vp8EncoderArgs(v: Pick<VideoOutput, 'bitrateKbps' | 'fps'>): string[] {
  return [
    '-c:v', 'libvpx', '-b:v', `${v.bitrateKbps}k`, ...VP8_REALTIME,
    '-g', String(v.fps), '-keyint_min', String(v.fps), '-pix_fmt', 'yuv420p',
  ];
}

/**
 * VP8 or H.264 out. FFmpeg cannot be asked for a keyframe while it runs, so a PLI from the server
 * cannot be honoured: the keyframe interval is one second (`-g` = fps) instead, which bounds how
 * long a decoder that joined late or lost a packet waits.
 */
function videoOutputArgs(input: string, v: VideoOutput, filter?: string): string[] {
  const encoder = v.codec === 'H264' ? h264EncoderArgs(v) : vp8EncoderArgs(v);
  return ['-map', input, ...(filter !== undefined ? ['-vf', filter] : []), ...encoder, ...rtpOutputArgs(v)];
}

/** Opus, 20 ms frames, as a browser sends it (RFC 7587: 48 kHz RTP clock, 2 channels). */
export const OPUS_ENCODER_ARGS: readonly string[] = [
  '-c:a', 'libopus', '-b:a', '32k', '-ac', '2', '-ar', String(BOT_AUDIO_SAMPLE_RATE), '-application', 'voip', '-frame_duration', '20',
];

function audioOutputArgs(input: string, a: AudioOutput): string[] {
  return ['-map', input, ...OPUS_ENCODER_ARGS, ...rtpOutputArgs(a)];
}

/** The timecode filter for the bot's video; a picture too small for it is a TypeError like any bad option. */
function wallClockTimecode(v: VideoOutput): string {
  try {
    return timecodeFilter({ width: v.width, height: v.height, fps: v.fps, clock: 'wall' });
  } catch (error) {
    throw new TypeError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * A solid colour and a sine tone, both paced at real time (`-re` on each lavfi input). With
 * `timecode`, each frame carries the wall-clock time at which FFmpeg made it (`timecodeFilter`).
 */
export function syntheticSourceArgs(o: SyntheticSourceOptions): string[] {
  checkOutputs(o);
  if (!isFfmpegColor(o.color)) throw new TypeError(`not an FFmpeg colour: ${JSON.stringify(o.color)}`);
  requireInteger('tone (Hz)', o.toneHz, 0, 20000);
  const inputs: string[] = [];
  const outputs: string[] = [];
  let index = 0;
  if (o.video) {
    const v = o.video;
    inputs.push('-re', '-f', 'lavfi', '-i', `color=c=${o.color}:s=${v.width}x${v.height}:r=${v.fps}`);
    const filter = o.timecode ? wallClockTimecode(v) : undefined;
    outputs.push(...videoOutputArgs(`${index++}:v:0`, v, filter));
  }
  if (o.audio) {
    inputs.push('-re', '-f', 'lavfi', '-i', `sine=frequency=${o.toneHz}:sample_rate=${BOT_AUDIO_SAMPLE_RATE}`);
    outputs.push(...audioOutputArgs(`${index++}:a:0`, o.audio));
  }
  return [...COMMON, ...inputs, ...outputs];
}

/**
 * A media file read at real time, transcoded to VP8 (or H.264) and Opus. The caller says which outputs the
 * file can feed (probe it with `probeStreamsArgs`): a missing stream would make FFmpeg refuse to
 * start. The picture is letterboxed to the requested size and frame rate.
 */
export function fileSourceArgs(o: FileSourceOptions): string[] {
  checkOutputs(o);
  if (o.path.length === 0) throw new TypeError('the media file path is empty');
  const outputs: string[] = [];
  if (o.video) {
    const v = o.video;
    const fit =
      `scale=${v.width}:${v.height}:force_original_aspect_ratio=decrease:force_divisible_by=2,` +
      `pad=${v.width}:${v.height}:(ow-iw)/2:(oh-ih)/2:color=black,fps=${v.fps},format=yuv420p`;
    outputs.push('-vf', fit, ...videoOutputArgs('0:v:0', v));
  }
  if (o.audio) outputs.push(...audioOutputArgs('0:a:0', o.audio));
  // `file:` keeps FFmpeg from reading a name such as `concat:a|b` or `http:x` as a protocol.
  return [...COMMON, '-re', ...(o.loop ? ['-stream_loop', '-1'] : []), '-i', `file:${o.path}`, ...outputs];
}

/** ffprobe arguments listing a file's stream types, one per line (`video`, `audio`, ...). */
export function probeStreamsArgs(path: string): string[] {
  return ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', `file:${path}`];
}

export interface ReceiverOptions {
  sdpPath: string;
  /** `.mkv` (Matroska: VP8 or H.264) or `.webm` (WebM: VP8/Opus only, see `checkRecordingCodec`). */
  outputPath: string;
}

/** The container for a recording path, from its extension. */
export function recordingFormat(outputPath: string): 'matroska' | 'webm' {
  const lower = outputPath.toLowerCase();
  if (lower.endsWith('.mkv')) return 'matroska';
  if (lower.endsWith('.webm')) return 'webm';
  throw new TypeError(`a recording must end in .mkv or .webm, got ${JSON.stringify(outputPath)}`);
}

/**
 * Refuses a recording path that is neither `.mkv` nor `.webm` (`recordingFormat`), or whose
 * container cannot hold the composite's codec: WebM holds VP8, VP9 and AV1 video, never H.264
 * (FFmpeg's webm muxer fails at its header), so an H.264 composite goes to Matroska.
 */
export function checkRecordingCodec(outputPath: string, video: BotVideoCodecName): void {
  const format = recordingFormat(outputPath);
  if (video === 'H264' && format === 'webm') {
    throw new TypeError(`WebM cannot hold H.264 video: record an H.264 composite to a .mkv file, not ${JSON.stringify(outputPath)}`);
  }
}

/**
 * Received RTP (read through an SDP file) stream-copied into a file, no re-encode.
 *
 * Probe settings, measured here with FFmpeg 5.1: the decoders' `-probesize 32 -analyzeduration 0`
 * works only when the first video packet is a keyframe. A recorder that starts mid-stream gets
 * "Could not find codec parameters ... unspecified size" and the Matroska muxer refuses to start
 * ("dimensions not set"). Five seconds of analysis let FFmpeg wait for the next keyframe (the bot
 * asks for one with a PLI); packets read meanwhile are kept, not lost.
 *
 * Clusters are flushed every 500 ms with packets flushed as written, so a file cut by SIGKILL
 * loses at most the last half second and still plays. The SDP demuxer gives up after its default
 * `listen_timeout` (10 s) without a packet, so a recorder whose bot has died ends on its own.
 */
export function receiverArgs(o: ReceiverOptions): string[] {
  const format = recordingFormat(o.outputPath);
  return [
    ...COMMON,
    '-protocol_whitelist', 'file,udp,rtp', '-probesize', '5000000', '-analyzeduration', '5000000',
    '-i', o.sdpPath,
    '-map', '0', '-c', 'copy', '-f', format, '-flush_packets', '1', '-cluster_time_limit', '500',
    '-y', o.outputPath,
  ];
}
