import { spawn } from 'node:child_process';
import type { Size, Tile } from '../../mixer/logic/layout.ts';

/** Runs FFmpeg (argument array, no shell) and collects stdout; rejects with stderr on failure. */
export function runFfmpeg(args: string[], binary = 'ffmpeg', timeoutMs = 60_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${binary} ${args.join(' ')} exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

export interface RgbFrame {
  width: number;
  height: number;
  data: Buffer;
}

/** Decodes the frame at `seconds` of the file's video as packed RGB. */
export async function frameAt(file: string, seconds: number, width = 320, height = 180): Promise<RgbFrame> {
  const data = await runFfmpeg([
    '-v', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1',
    '-vf', `scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ]);
  if (data.length !== width * height * 3) throw new Error(`no frame at ${seconds}s of ${file}`);
  return { width, height, data };
}

/** Mean colour of a small square around (fx, fy), given as fractions of the frame size. */
export function colorAt(frame: RgbFrame, fx: number, fy: number, radius = 4): [number, number, number] {
  const cx = Math.round(fx * frame.width);
  const cy = Math.round(fy * frame.height);
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = cy - radius; y <= cy + radius; y++) {
    for (let x = cx - radius; x <= cx + radius; x++) {
      const i = (y * frame.width + x) * 3;
      sum[0]! += frame.data[i]!;
      sum[1]! += frame.data[i + 1]!;
      sum[2]! += frame.data[i + 2]!;
      n++;
    }
  }
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

/** The name of the nearest of a few reference colours (no dark green: a compressed lime can look like it). */
export function nearestColor(rgb: [number, number, number]): string {
  const refs: Record<string, [number, number, number]> = {
    red: [255, 0, 0],
    lime: [0, 255, 0],
    blue: [0, 0, 255],
    yellow: [255, 255, 0],
    black: [0, 0, 0],
    white: [255, 255, 255],
  };
  let best = 'unknown';
  let bestDistance = Infinity;
  for (const [name, ref] of Object.entries(refs)) {
    const d = (rgb[0] - ref[0]) ** 2 + (rgb[1] - ref[1]) ** 2 + (rgb[2] - ref[2]) ** 2;
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return best;
}

/** The nearest reference colour at the centre of `tile` of a `canvas`-sized composite. */
export function tileColor(frame: RgbFrame, tile: Tile, canvas: Size, radius?: number): string {
  return nearestColor(colorAt(frame, (tile.x + tile.width / 2) / canvas.width, (tile.y + tile.height / 2) / canvas.height, radius));
}

/** Mono 48 kHz s16 samples of the file's audio from `start` for `duration` seconds. */
export async function pcmOf(file: string, start: number, duration: number): Promise<Int16Array> {
  const data = await runFfmpeg([
    '-v', 'error', '-ss', String(start), '-t', String(duration), '-i', file,
    '-vn', '-ac', '1', '-ar', '48000', '-f', 's16le', 'pipe:1',
  ]);
  return new Int16Array(data.buffer, data.byteOffset, Math.floor(data.length / 2));
}

/** Power of one frequency in `pcm` (Goertzel), normalised by length: comparable across tones. */
export function tonePower(pcm: Int16Array, frequency: number, sampleRate = 48000): number {
  const k = (2 * Math.cos((2 * Math.PI * frequency) / sampleRate));
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < pcm.length; i++) {
    const s = pcm[i]! / 32768 + k * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const power = s1 * s1 + s2 * s2 - k * s1 * s2;
  return power / (pcm.length * pcm.length);
}

/** Video stream duration and frame count, via ffprobe. */
export async function probe(file: string): Promise<{ streams: { codec_type: string; codec_name: string }[]; duration: number }> {
  const out = await runFfmpeg(
    ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', file],
    'ffprobe',
  );
  const parsed = JSON.parse(out.toString()) as { streams: { codec_type: string; codec_name: string }[]; format: { duration?: string } };
  return { streams: parsed.streams, duration: Number(parsed.format.duration ?? 0) };
}

/**
 * Maps wall-clock times (ms) to seconds into a bot's recording, from the frame log the bot wrote
 * beside it. Anchored at the end: the recorder starts at the first keyframe it sees, which may be
 * long after the first frame arrived on a busy machine, but it runs until the bot leaves.
 */
export async function recordingClock(file: string, frameTimes: number[]): Promise<(wallMs: number) => number> {
  const { duration } = await probe(file);
  const last = frameTimes[frameTimes.length - 1];
  if (!duration || last === undefined) throw new Error(`${file} has no duration or its frame log is empty`);
  return (wallMs) => duration - (last - wallMs) / 1000;
}

/** Every frame of the file's video, scaled down, as packed RGB: to follow a tile over time. */
export async function decodeFrames(file: string, width = 128, height = 72): Promise<RgbFrame[]> {
  const data = await runFfmpeg([
    '-v', 'error', '-i', file, '-map', '0:v:0', '-vf', `scale=${width}:${height}`,
    '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ]);
  const size = width * height * 3;
  const frames: RgbFrame[] = [];
  for (let offset = 0; offset + size <= data.length; offset += size) frames.push({ width, height, data: data.subarray(offset, offset + size) });
  return frames;
}

/**
 * The wall-clock arrival time of each of a recording's `frameCount` frames, from the bot's frame
 * log. Anchored at the end, like `recordingClock`: the recorder starts late, but stops last.
 */
export function frameWallTimes(frameCount: number, frameLog: number[]): number[] {
  if (frameCount > frameLog.length) throw new Error(`${frameCount} frames recorded but only ${frameLog.length} logged`);
  return frameLog.slice(frameLog.length - frameCount);
}

/**
 * Whether a whole picture is black but for name labels (at least 95% of its pixels dark): a
 * composite must never flash one.
 */
export function isBlack(frame: RgbFrame, threshold = 40): boolean {
  let dark = 0;
  for (let i = 0; i < frame.data.length; i += 3) {
    if (frame.data[i]! < threshold && frame.data[i + 1]! < threshold && frame.data[i + 2]! < threshold) dark++;
  }
  return dark >= 0.95 * (frame.data.length / 3);
}

/** NAL units as an H.264 Annex B stream, each after a 4-byte start code (what the clips hold). */
export function annexB(nals: readonly Buffer[]): Buffer {
  const start = Buffer.from([0, 0, 0, 1]);
  return Buffer.concat(nals.flatMap((nal) => [start, nal]));
}
