import { readFile } from 'node:fs/promises';
import { BOT_AUDIO_SAMPLE_RATE, h264EncoderArgs, OPUS_ENCODER_ARGS, vp8EncoderArgs } from '../bot/botArgs.ts';
import { timecodeFilter } from '../../mixer/logic/timecode.ts';
import type { BotVideoCodec } from '../bot/BotTypes.ts';
import { h264AccessUnits, nalType, readIvf, readOggOpus } from './containers.ts';
import { h264Payloads, vp8Payloads } from './packetize.ts';

/**
 * A publisher's pre-encoded media: a colour with the clip time drawn into it as the timecode
 * (mixer/logic/timecode.ts, `pts` clock: ms since the clip's first frame) and a tone, encoded once by
 * FFmpeg as the bot encodes live (VP8 realtime or x264 Baseline, one keyframe a second; Opus in
 * 20 ms frames), then sent in a loop. Nothing is encoded while a load test runs.
 */
export interface ClipSpec {
  codec: BotVideoCodec;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  /** Whole seconds: the clip loops, and a whole second holds whole video and audio frames. */
  seconds: number;
  /** An FFmpeg colour (0xRRGGBB). */
  color: string;
  /** Sine tone; 0 is silence. */
  toneHz: number;
}

export interface ClipFiles {
  /** VP8 in IVF, or H.264 Annex B with an access unit delimiter before every frame. */
  video: string;
  /** Opus in Ogg. */
  audio: string;
}

/**
 * Strength of FFmpeg's temporal `noise` over the colour: a flat colour encodes to almost nothing
 * (22 kbit/s measured here for 800 asked), and a load test must send what it says. With 6, VP8
 * realtime at 800 kbit/s sent 811 kbit/s (FFmpeg 5.1, 640x360 at 30 fps); the mean colour stays.
 */
export const CLIP_NOISE = 6;

/** One FFmpeg run making both files of a clip. */
export function clipArgs(spec: ClipSpec, files: ClipFiles): string[] {
  const { width, height, fps, seconds } = spec;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) throw new RangeError(`a clip lasts 1 to 600 whole seconds, got ${seconds}`);
  const video = `format=yuv420p,noise=alls=${CLIP_NOISE}:allf=t,${timecodeFilter({ width, height, fps, clock: 'pts' })}`;
  const encoder =
    spec.codec === 'h264'
      ? [...h264EncoderArgs(spec), '-bsf:v', 'h264_metadata=aud=insert', '-f', 'h264']
      : [...vp8EncoderArgs(spec), '-f', 'ivf'];
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `color=c=${spec.color}:s=${width}x${height}:r=${fps}:d=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=${spec.toneHz}:sample_rate=${BOT_AUDIO_SAMPLE_RATE}:duration=${seconds}`,
    '-map', '0:v:0', '-vf', video, ...encoder, `file:${files.video}`,
    '-map', '1:a:0', ...OPUS_ENCODER_ARGS, '-f', 'ogg', `file:${files.audio}`,
  ];
}

export interface ClipFrame {
  /** Time of the frame from the start of the clip, ms (what its timecode says, before rounding). */
  ptsMs: number;
  keyframe: boolean;
  /** RTP payloads, in order; the last one carries the marker bit. VP8 ones carry PictureID 0. */
  payloads: Buffer[];
  bytes: number;
}

export interface Clip {
  spec: ClipSpec;
  durationMs: number;
  video: ClipFrame[];
  /** One Opus frame per 20 ms. */
  audio: Buffer[];
}

export const OPUS_FRAME_MS = 20;

/** A clip from the bytes of its two files: every frame packetized once. */
export function parseClip(spec: ClipSpec, video: Buffer, audio: Buffer): Clip {
  const count = spec.seconds * spec.fps;
  let frames: ClipFrame[];
  if (spec.codec === 'h264') {
    frames = h264AccessUnits(video).map((nals, k) => ({
      ptsMs: (k * 1000) / spec.fps,
      keyframe: nals.some((n) => nalType(n) === 5),
      payloads: h264Payloads(nals),
      bytes: nals.reduce((sum, n) => sum + n.length, 0),
    }));
  } else {
    const ivf = readIvf(video);
    if (ivf.fourcc !== 'VP80') throw new Error(`expected VP8 in the IVF file, found ${ivf.fourcc}`);
    // RFC 6386 §9.1: bit 0 of the frame tag is 0 for a keyframe.
    frames = ivf.frames.map((f, k) => ({ ptsMs: (k * 1000) / spec.fps, keyframe: (f.data[0]! & 1) === 0, payloads: vp8Payloads(f.data, 0), bytes: f.data.length }));
  }
  if (frames.length < count) throw new Error(`the clip has ${frames.length} video frames, ${count} expected`);
  if (!frames[0]!.keyframe) throw new Error('the clip does not start with a keyframe');
  const packets = readOggOpus(audio);
  const audioCount = (spec.seconds * 1000) / OPUS_FRAME_MS;
  if (packets.length < audioCount) throw new Error(`the clip has ${packets.length} Opus frames, ${audioCount} expected`);
  return { spec, durationMs: spec.seconds * 1000, video: frames.slice(0, count), audio: packets.slice(0, audioCount) };
}

export async function loadClip(spec: ClipSpec, files: ClipFiles): Promise<Clip> {
  const [video, audio] = await Promise.all([readFile(files.video), readFile(files.audio)]);
  return parseClip(spec, video, audio);
}
