import { readFileSync } from 'node:fs';

/** Wall-clock arrival times (ms) of the frames a bot logged with --frame-log. */
export function readFrameLog(path: string): number[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => Number(line.split(' ')[0]));
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
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim().endsWith(' k'))
    .map((line) => Number(line.split(' ')[0]));
}
