/**
 * Reads back what a bot recorded: decodes its .mkv with FFmpeg, finds for every frame when it
 * arrived (the bot's frame log, matched by RTP timestamp), and reads the timecode and the colour
 * of every tile of the grid. From that: glass-to-glass latency and when each bot's tile appeared.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { gridLayouts, readComposite, type CompositeRead } from '../../src/loadtest/compositeTiles.ts';
import type { Size } from '../../mixer/logic/layout.ts';
import { i420Size, msSince } from '../../mixer/logic/timecode.ts';
import { runCommand } from '../lib/processes.ts';
import { distribution, round, type Distribution } from './numbers.ts';

/** One line of a bot's `--frame-log`: wall-clock arrival (ms) and RTP timestamp of a frame. */
export interface FrameLogEntry {
  wall: number;
  ts: number;
}

export function readFrameLogEntries(path: string): FrameLogEntry[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const entries: FrameLogEntry[] = [];
  for (const line of text.split('\n')) {
    const [wall, ts] = line.trim().split(' ').map(Number);
    if (Number.isFinite(wall) && Number.isFinite(ts)) entries.push({ wall: wall!, ts: ts! });
  }
  return entries;
}

export interface DecodedFrame extends CompositeRead {
  /** Presentation time in the recording, ms. */
  ptsMs: number;
}

export interface DecodeOptions {
  path: string;
  /** The size of every participant's picture before it was scaled into its tile. */
  source: Size;
  /** Grids of 1..maxTiles tiles are tried on every frame. */
  maxTiles: number;
  timeoutMs: number;
  binary?: string;
}

/** Decodes the first video stream of a recording and reads every frame's tiles. */
export async function decodeRecording(o: DecodeOptions): Promise<{ canvas: Size; frames: DecodedFrame[] }> {
  const probe = await runCommand(
    process.env.MCU_FFPROBE ?? 'ffprobe',
    ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', `file:${o.path}`],
    20_000,
  );
  const [width, height] = probe.trim().split('\n')[0]!.split(',').map(Number);
  if (!width || !height) throw new Error(`no video stream in ${o.path}`);
  const canvas = { width, height };
  const layouts = gridLayouts(o.maxTiles, canvas, o.source);

  const args = [
    '-hide_banner', '-nostdin', '-loglevel', 'info', '-nostats', '-i', `file:${o.path}`, '-map', '0:v:0',
    '-vf', 'showinfo=checksum=0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1',
  ];
  const child = spawn(o.binary ?? process.env.MCU_FFMPEG ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const frameSize = i420Size(width, height);
  const buffer = Buffer.allocUnsafe(frameSize);
  let filled = 0;
  const reads: CompositeRead[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(frameSize - filled, chunk.length - offset);
      chunk.copy(buffer, filled, offset, offset + n);
      filled += n;
      offset += n;
      if (filled === frameSize) {
        reads.push(readComposite({ format: 'i420', width, height, data: buffer }, layouts, o.source));
        filled = 0;
      }
    }
  });
  const pts: number[] = [];
  const stderrTail: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    const m = /\bn:\s*(\d+)\s+pts:\s*-?\d+\s+pts_time:(-?[\d.]+)/.exec(line);
    if (m) {
      pts[Number(m[1])] = Number(m[2]) * 1000;
    } else {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`decoding ${o.path} failed (exit ${code}): ${stderrTail.join(' | ').slice(-600)}`);
  const frames: DecodedFrame[] = [];
  reads.forEach((read, i) => {
    const ptsMs = pts[i];
    if (ptsMs !== undefined) frames.push({ ptsMs, ...read });
  });
  return { canvas, frames };
}

/** RTP timestamps made monotonic across the 2^32 wrap (RFC 3550 §5.1: 32-bit, wrapping). */
function unwrapTimestamps(ts: readonly number[]): number[] {
  const out: number[] = [];
  let previous: number | undefined;
  let value = 0;
  for (const t of ts) {
    value = previous === undefined ? t : value + ((t - previous) | 0);
    previous = t;
    out.push(value);
  }
  return out;
}

/** Index of the value in sorted `values` nearest to `target`. */
function nearestIndex(values: readonly number[], target: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (values[mid]! < target) lo = mid;
    else hi = mid;
  }
  return Math.abs(values[lo]! - target) <= Math.abs(values[hi]! - target) ? lo : hi;
}

export interface FrameMatch {
  /** Wall-clock arrival (ms) of each recorded frame; undefined where no log line matched. */
  arrivals: (number | undefined)[];
  matched: number;
  /** Mean |recording pts − log timestamp| of the chosen alignment, ms (matroska keeps whole ms). */
  meanErrorMs: number | null;
  /** The same for the best other alignment: far above meanErrorMs means the match is unambiguous. */
  runnerUpErrorMs: number | null;
}

const VIDEO_CLOCK_PER_MS = 90; // RTP video clock: 90 kHz
const MATCH_TOLERANCE_MS = 2.5;
const ERROR_CAP_MS = 10;

/**
 * Aligns a recording's frames with the frame log of the bot that recorded them. The recording's
 * pts are the RTP timestamps (90 kHz, rounded to ms by Matroska) counted from an unknown first
 * packet, so every log line is tried as the first recorded frame and the alignment whose
 * timestamp differences agree best wins. The server retimes the composite by wall clock, so
 * frame spacing jitters and only one alignment fits.
 */
export function matchFramesToLog(ptsMs: readonly number[], log: readonly FrameLogEntry[]): FrameMatch {
  const none: FrameMatch = { arrivals: ptsMs.map(() => undefined), matched: 0, meanErrorMs: null, runnerUpErrorMs: null };
  if (ptsMs.length === 0 || log.length === 0) return none;
  const ts = unwrapTimestamps(log.map((e) => e.ts));
  const rel = ptsMs.map((p) => p - ptsMs[0]!);
  const span = rel[rel.length - 1]!;
  const step = Math.max(1, Math.floor(rel.length / 300));
  const sample = rel.filter((_, i) => i % step === 0);
  let best = { anchor: -1, error: Infinity };
  let runnerUp = Infinity;
  for (let j = 0; j < ts.length; j++) {
    if ((ts[ts.length - 1]! - ts[j]!) / VIDEO_CLOCK_PER_MS < span - MATCH_TOLERANCE_MS) break;
    let sum = 0;
    for (const r of sample) {
      const target = ts[j]! + r * VIDEO_CLOCK_PER_MS;
      const k = nearestIndex(ts, target);
      sum += Math.min(ERROR_CAP_MS, Math.abs(ts[k]! - target) / VIDEO_CLOCK_PER_MS);
    }
    const error = sum / sample.length;
    if (error < best.error) {
      runnerUp = best.error;
      best = { anchor: j, error };
    } else if (error < runnerUp) {
      runnerUp = error;
    }
  }
  if (best.anchor < 0) return none;
  let matched = 0;
  const arrivals = rel.map((r) => {
    const target = ts[best.anchor]! + r * VIDEO_CLOCK_PER_MS;
    const k = nearestIndex(ts, target);
    if (Math.abs(ts[k]! - target) / VIDEO_CLOCK_PER_MS > MATCH_TOLERANCE_MS) return undefined;
    matched++;
    return log[k]!.wall;
  });
  return {
    arrivals,
    matched,
    meanErrorMs: round(best.error, 3),
    runnerUpErrorMs: Number.isFinite(runnerUp) ? round(runnerUp, 3) : null,
  };
}

export interface LatencyAnalysis {
  /** arrival − drawn time over every readable tile of every frame in the window. */
  allFrames: Distribution;
  /** The same, counting each drawn frame of each tile once, at its first appearance. */
  firstSeen: Distribution;
  framesInWindow: number;
  /** Frames in the window whose grid had every participant. */
  fullFrames: number;
  tilesRead: number;
  tilesExpected: number;
}

/** Latency over the frames that arrived in [from, to], expecting `participants` tiles. */
export function analyseLatency(
  frames: readonly DecodedFrame[],
  arrivals: readonly (number | undefined)[],
  window: { from: number; to: number },
  participants: number,
): LatencyAnalysis {
  const all: number[] = [];
  const first: number[] = [];
  const lastCode = new Map<string, number>();
  let framesInWindow = 0;
  let fullFrames = 0;
  let tilesRead = 0;
  frames.forEach((frame, i) => {
    const arrival = arrivals[i];
    if (arrival === undefined) return;
    const inWindow = arrival >= window.from && arrival < window.to;
    if (inWindow) {
      framesInWindow++;
      if (frame.count === participants) fullFrames++;
    }
    frame.tiles.forEach((tile, t) => {
      if (tile.ms === undefined) return;
      const key = tile.bot >= 0 ? `bot${tile.bot}` : `tile${t}`;
      const isNew = lastCode.get(key) !== tile.ms;
      lastCode.set(key, tile.ms);
      if (!inWindow) return;
      const latency = msSince(arrival, tile.ms);
      tilesRead++;
      all.push(latency);
      if (isNew) first.push(latency);
    });
  });
  return {
    allFrames: distribution(all),
    firstSeen: distribution(first),
    framesInWindow,
    fullFrames,
    tilesRead,
    tilesExpected: framesInWindow * participants,
  };
}
