import { checkLadder, MAX_RUNGS, type Rung } from '../../mixer/logic/ladder.ts';

/**
 * A room's lower rungs as an operator gives them (`--ladder`, the REST API's `ladder`): the
 * renditions below the composite, best first. The composite itself is the top rung, at the
 * room's size and bitrate. Every refusal says what fits: "must ...".
 */

export const LOWER_RUNGS_SYNTAX =
  'WIDTHxHEIGHT@KBPS rungs below the composite, best first, separated by commas (e.g. 640x360@500,320x180@150), or none';

/** `640x360@500,320x180@150` or `none` (viewers go from the composite straight to audio only). Syntax only. */
export function parseLowerRungs(text: string): Rung[] {
  if (text.trim() === 'none') return [];
  return text.split(',').map((part) => {
    const match = /^\s*(\d{1,5})x(\d{1,5})@(\d{1,6})\s*$/.exec(part);
    if (!match) throw new RangeError(`must be ${LOWER_RUNGS_SYNTAX}`);
    return { width: Number(match[1]), height: Number(match[2]), kbps: Number(match[3]) };
  });
}

/** `lower` checked below `composite` (checkLadder: each rung smaller and cheaper than the one above it). */
export function checkLowerRungs(composite: Rung, lower: readonly Rung[]): Rung[] {
  if (lower.length > MAX_RUNGS - 1) throw new RangeError(`must have at most ${MAX_RUNGS - 1} rungs below the composite, not ${lower.length}`);
  try {
    checkLadder([composite, ...lower], composite);
  } catch (error) {
    const top = `${composite.width}x${composite.height}@${composite.kbps}`;
    throw new RangeError(`must fit below the composite ${top} (rung 1): ${(error as Error).message}`);
  }
  return lower.map((rung) => ({ ...rung }));
}

/**
 * The rungs of `candidates` that fit below `composite`, best first: a room whose size or bitrate
 * differs from the server's keeps the server's (or the default) rungs that still make sense for
 * it, rather than being refused for rungs its operator never gave.
 */
export function rungsThatFit(composite: Rung, candidates: readonly Rung[]): Rung[] {
  const kept: Rung[] = [];
  for (const rung of candidates) {
    const above = kept.at(-1) ?? composite;
    if (kept.length < MAX_RUNGS - 1 && rung.width <= above.width && rung.height <= above.height && rung.kbps < above.kbps) kept.push({ ...rung });
  }
  return kept;
}
