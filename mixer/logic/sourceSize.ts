import { gridLayout, letterbox, type LayoutKind, type Size } from './layout.ts';

/**
 * The size decoders deliver every participant's picture at (the tile source). Up to nine tiles
 * it is the configured one (640x360: a 2x2 grid tile, and the big tile of the speaker and
 * presenter layouts, which may show anyone); from ten grid tiles on it is a 4x4 grid's tile
 * (320x180 for 1280x720), which 10 to 16 tiles show as it is and 17 to 25 scale down a little:
 * the raw frames the decoders pipe to the session and the session to the compositor are a
 * quarter as large, and the compositor scales little or nothing.
 * Measured here (FFmpeg 5.1): a compositor of sixteen 640x360 inputs scaled to 320x180 took
 * 0.53 of a core, of sixteen 320x180 inputs 0.26; the decoder's own scaling costs 0.006 of a
 * core more per participant.
 *
 * The size changes only when the grid crosses the bound, and back only two tiles below it, so
 * that a room of nine or ten whose tenth comes and goes does not restart every decoder each time.
 */
export const SMALL_FROM_TILES = 10;
const BACK_BELOW_TILES = SMALL_FROM_TILES - 2;
/** The grid whose tile is the small size. */
const SMALL_GRID = 16;

/** The tile size of a grid of `count` on `canvas` for a `configured` picture, whole even pixels. */
function gridTileSource(count: number, canvas: Size, configured: Size): Size {
  const tile = letterbox(configured, gridLayout(count, canvas)[0]!);
  return { width: Math.min(configured.width, tile.width), height: Math.min(configured.height, tile.height) };
}

/**
 * The tile source for `count` tiles in layout `kind`, given the one in use now (`current`).
 * Pure: the session asks on every recomposition.
 */
export function tileSourceFor(o: { count: number; kind: LayoutKind; canvas: Size; configured: Size; current: Size }): Size {
  if (o.kind !== 'grid') return o.configured;
  const small = o.current.width < o.configured.width;
  if (o.count >= SMALL_FROM_TILES || (small && o.count > BACK_BELOW_TILES)) {
    return gridTileSource(SMALL_GRID, o.canvas, o.configured);
  }
  return o.configured;
}

export const sameSize = (a: Size, b: Size): boolean => a.width === b.width && a.height === b.height;
