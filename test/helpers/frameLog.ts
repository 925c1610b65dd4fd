import { readFileSync } from 'node:fs';
import { tsDiff } from '../../src/rtp/seq.ts';

/** One line of a bot's --frame-log: `<wall ms> <rtp timestamp> [k]`. */
interface FrameLogEntry {
  at: number;
  timestamp: number;
  keyframe: boolean;
}

function readFrameEntries(path: string): FrameLogEntry[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [at, timestamp, flag] = line.trim().split(' ');
      return { at: Number(at), timestamp: Number(timestamp), keyframe: flag === 'k' };
    });
}

/** Wall-clock arrival times (ms) of the frames a bot logged with --frame-log. */
export function readFrameLog(path: string): number[] {
  return readFrameEntries(path).map((frame) => frame.at);
}

/** The longest gap between consecutive frames that arrived in [from, to]. */
export function longestGap(times: number[], from = -Infinity, to = Infinity): number {
  let longest = 0;
  let previous: number | undefined;
  for (const t of times) {
    if (t < from || t > to) continue;
    if (previous !== undefined) longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

/** Frames per second in each whole second of [from, to]. */
export function framesPerSecond(times: number[], from: number, to: number): number[] {
  const counts: number[] = [];
  for (let start = from; start + 1000 <= to; start += 1000) {
    counts.push(times.filter((t) => t >= start && t < start + 1000).length);
  }
  return counts;
}

/** Wall-clock arrival times (ms) of the keyframes in a bot's --frame-log. */
export function readKeyframeTimes(path: string): number[] {
  return readFrameEntries(path)
    .filter((frame) => frame.keyframe)
    .map((frame) => frame.at);
}

/**
 * How the RTP timestamps of the frames that arrived in [from, to] went: steps that did not move
 * forward, and how far their total advance (90 kHz) strayed from the wall-clock time between the
 * first and last of those frames, in ms. One continuous stream has 0 and a few ms.
 */
export function timestampContinuity(path: string, from: number, to: number): { notForward: number; driftMs: number } {
  const frames = readFrameEntries(path).filter(({ at }) => at >= from && at <= to);
  let notForward = 0;
  let advance = 0;
  for (let i = 1; i < frames.length; i++) {
    const step = tsDiff(frames[i]!.timestamp, frames[i - 1]!.timestamp);
    if (step <= 0) notForward++;
    advance += step;
  }
  const wall = frames.length > 1 ? frames.at(-1)!.at - frames[0]!.at : 0;
  return { notForward, driftMs: Math.round(Math.abs(advance / 90 - wall)) };
}
