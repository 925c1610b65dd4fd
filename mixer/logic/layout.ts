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

/** How tiles are arranged: `grid` (all equal), `speaker` (the active speaker large), `presenter` (a chosen participant large). */
export type LayoutKind = 'grid' | 'speaker' | 'presenter';

export const LAYOUT_KINDS = ['grid', 'speaker', 'presenter'] as const satisfies readonly LayoutKind[];

/** Share of the canvas height the strip of small tiles takes under the large one. */
const STRIP_SHARE = 0.25;

/**
 * One large tile on top and the others in a centred strip below it, tile 0 being the large one.
 * Small tiles keep the canvas' aspect ratio; a crowded strip narrows them instead of overflowing.
 */
export function focusLayout(count: number, canvas: Size): Tile[] {
  if (!Number.isInteger(count) || count < 0 || count > MAX_GRID_TILES) {
    throw new RangeError(`a layout holds 0 to ${MAX_GRID_TILES} tiles, not ${count}`);
  }
  if (count <= 1) return gridLayout(count, canvas);
  const stripHeight = even(canvas.height * STRIP_SHARE);
  const main: Tile = { x: 0, y: 0, width: even(canvas.width), height: even(canvas.height - stripHeight) };
  const others = count - 1;
  const width = even(Math.min((stripHeight * canvas.width) / canvas.height, canvas.width / others));
  const left = floorEven((canvas.width - others * width) / 2);
  const strip = Array.from({ length: others }, (_, i) => ({ x: left + i * width, y: main.height, width, height: stripHeight }));
  return [main, ...strip];
}

/** The tiles of a layout for `count` participants; for speaker and presenter, tile 0 is the large one. */
export function layoutTiles(kind: LayoutKind, count: number, canvas: Size): Tile[] {
  return kind === 'grid' ? gridLayout(count, canvas) : focusLayout(count, canvas);
}
