import type { Size } from './layout.ts';

/** One rendition of the composite: its picture size and the bitrate its encoder is started with. */
export interface Rung extends Size {
  /** Video bitrate in kbit/s (libvpx's is fixed when the encoder starts: a ladder has fixed rungs). */
  kbps: number;
}

/**
 * The composite's renditions, best first. Every viewer of a room receives one of them, or none
 * (audio only) when even the last does not fit its link.
 */
export type Ladder = readonly Rung[];

export const DEFAULT_LADDER: Ladder = [
  { width: 1280, height: 720, kbps: 1500 },
  { width: 640, height: 360, kbps: 500 },
  { width: 320, height: 180, kbps: 150 },
];

/** At most this many rungs: all encoders of one FFmpeg process share one thread. */
export const MAX_RUNGS = 4;

/**
 * Parses `1280x720@1500,640x360@500` (width x height @ kbit/s, best first). Throws a RangeError
 * that says what is wrong: rungs must shrink in both size and bitrate, have even sizes (yuv420p),
 * and be no larger than the canvas (the top rung is the canvas itself when it is given).
 */
export function parseLadder(text: string, canvas?: Size): Ladder {
  const rungs = text.split(',').map((part) => {
    const match = /^\s*(\d+)x(\d+)@(\d+)\s*$/.exec(part);
    if (!match) throw new RangeError(`a rung is WIDTHxHEIGHT@KBPS (like 640x360@500), not "${part.trim()}"`);
    return { width: Number(match[1]), height: Number(match[2]), kbps: Number(match[3]) };
  });
  return checkLadder(rungs, canvas);
}

/** Checks a ladder (see parseLadder) and returns it. */
export function checkLadder(rungs: readonly Rung[], canvas?: Size): Ladder {
  if (rungs.length === 0 || rungs.length > MAX_RUNGS) throw new RangeError(`a ladder has 1 to ${MAX_RUNGS} rungs, not ${rungs.length}`);
  rungs.forEach((rung, i) => {
    const name = `rung ${i + 1} (${rung.width}x${rung.height}@${rung.kbps})`;
    if (rung.width < 32 || rung.height < 32 || rung.width % 2 || rung.height % 2) throw new RangeError(`${name}: sizes are even and at least 32`);
    if (rung.kbps < 30 || rung.kbps > 20_000) throw new RangeError(`${name}: the bitrate is 30 to 20000 kbit/s`);
    if (canvas && (rung.width > canvas.width || rung.height > canvas.height)) {
      throw new RangeError(`${name}: larger than the ${canvas.width}x${canvas.height} canvas`);
    }
    const better = rungs[i - 1];
    if (better && (rung.width > better.width || rung.height > better.height || rung.kbps >= better.kbps)) {
      throw new RangeError(`${name}: each rung is smaller and has a lower bitrate than the one before it`);
    }
  });
  return rungs;
}

/**
 * The rungs that are encoded: those some viewer receives (by index). The top rung is always
 * encoded (recording keeps it, and a viewer that joins starts there); a rung nobody receives
 * costs an encoder for nothing.
 */
export function rungsToEncode(received: Iterable<number | 'audio'>, ladder: Ladder): number[] {
  const wanted = new Set<number>([0]);
  for (const rung of received) if (rung !== 'audio' && rung >= 0 && rung < ladder.length) wanted.add(rung);
  return [...wanted].sort((a, b) => a - b);
}
