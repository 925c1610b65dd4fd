/** Where one participant's picture goes in the composite. All values are even (I420 needs it). */
export interface Tile {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Size {
  width: number;
  height: number;
}

/** The automatic grid holds at most 5x5 tiles. */
export const MAX_GRID_TILES = 25;

const floorEven = (n: number): number => Math.floor(n / 2) * 2;
/** A size: even and at least 2 pixels. */
const even = (n: number): number => Math.max(2, floorEven(n));

/** Columns for `count` tiles: 1 full frame, 2 side by side, then the smallest square that fits. */
export function gridColumns(count: number): number {
  if (count <= 1) return 1;
  if (count === 2) return 2;
  return Math.ceil(Math.sqrt(count));
}

/**
 * The automatic grid: `count` equal tiles filling `canvas`, rows top to bottom, a short last
 * row centred. Pictures are letterboxed inside their tile by the compositor, so the tile's own
 * aspect ratio does not need to match the source's.
 */
export function gridLayout(count: number, canvas: Size): Tile[] {
  if (!Number.isInteger(count) || count < 0 || count > MAX_GRID_TILES) {
    throw new RangeError(`a grid holds 0 to ${MAX_GRID_TILES} tiles, not ${count}`);
  }
  if (count === 0) return [];
  const columns = gridColumns(count);
  const rows = Math.ceil(count / columns);
  const width = even(canvas.width / columns);
  const height = even(canvas.height / rows);
  const tiles: Tile[] = [];
  for (let i = 0; i < count; i++) {
    const row = Math.floor(i / columns);
    const inThisRow = row === rows - 1 ? count - row * columns : columns;
    const column = i % columns;
    const rowOffset = floorEven((canvas.width - inThisRow * width) / 2);
    tiles.push({ x: rowOffset + column * width, y: row * height, width, height });
  }
  return tiles;
}

/** The rectangle a `source`-shaped picture takes inside `tile` when letterboxed (centred, aspect kept). */
export function letterbox(source: Size, tile: Tile): Tile {
  const scale = Math.min(tile.width / source.width, tile.height / source.height);
  const width = even(source.width * scale);
  const height = even(source.height * scale);
  return {
    x: tile.x + floorEven((tile.width - width) / 2),
    y: tile.y + floorEven((tile.height - height) / 2),
    width,
    height,
  };
}
