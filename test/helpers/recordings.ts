import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { runFfmpeg } from './media.ts';

export interface RecordingProbe {
  streams: { codec_type: string; codec_name: string }[];
  /** The container's duration in seconds (NaN when it states none, as in a file cut by a kill). */
  duration: number;
  /** Video frames, counted by decoding. */
  videoFrames: number;
  /** Timestamp (s) of the last video frame that decodes. */
  lastVideoFrame: number;
}

/** ffprobe with frame counting: what a player would find in the file. */
export async function probeRecording(file: string): Promise<RecordingProbe> {
  const out = await runFfmpeg(
    ['-v', 'error', '-count_frames', '-show_entries', 'format=duration:stream=codec_type,codec_name,nb_read_frames', '-of', 'json', file],
    'ffprobe',
  );
  const parsed = JSON.parse(out.toString()) as {
    streams: { codec_type: string; codec_name: string; nb_read_frames?: string }[];
    format: { duration?: string };
  };
  const video = parsed.streams.find((s) => s.codec_type === 'video');
  const times = await runFfmpeg(
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file],
    'ffprobe',
  );
  const last = times.toString().trim().split('\n').map(Number).filter(Number.isFinite).pop() ?? 0;
  return {
    streams: parsed.streams.map(({ codec_type, codec_name }) => ({ codec_type, codec_name })),
    duration: Number(parsed.format.duration ?? Number.NaN),
    videoFrames: Number(video?.nb_read_frames ?? 0),
    lastVideoFrame: last,
  };
}

/** What a full decode of every stream prints at `-v error` (empty for a clean file). */
export function decodeErrors(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-nostdin', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 ? stderr : `${stderr}\n(exit ${code})`));
  });
}

/** Asserts a clean decode of `file`; what FFmpeg printed is logged in full first (an assertion's message cuts it short). */
export async function expectCleanDecode(file: string): Promise<void> {
  const errors = await decodeErrors(file);
  if (errors) console.log(`decoding ${file}: ${errors}`);
  expect(errors).toBe('');
}
