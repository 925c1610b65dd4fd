/**
 * Reading a composite picture: which grid it shows, whose picture is in each tile (its colour,
 * src/loadtest/palette.ts) and the code drawn into each (mixer/logic/timecode.ts). Pure: pixels in.
 */
import { gridLayout, letterbox, type Size, type Tile } from '../../mixer/logic/layout.ts';
import { readTimecode, type I420Frame } from '../../mixer/logic/timecode.ts';
import { nearestPaletteIndex } from './palette.ts';

/** What one tile showed: the bot (palette index, -1 unknown) and its code (undefined: unreadable). */
export interface TileRead {
  bot: number;
  ms: number | undefined;
}

/** What one composite picture showed. */
export interface CompositeRead {
  /** How many tiles the grid had (the layout whose tiles read best); 0 when none read. */
  count: number;
  tiles: TileRead[];
}

/** The tiles of grids of 1..maxTiles on `canvas`, each letterboxed to the `source` picture's shape. */
export function gridLayouts(maxTiles: number, canvas: Size, source: Size): Tile[][] {
  const layouts: Tile[][] = [];
  for (let n = 1; n <= maxTiles; n++) layouts.push(gridLayout(n, canvas).map((tile) => letterbox(source, tile)));
  return layouts;
}

/** Mean colour (RGB, from limited-range BT.601 I420) of the middle of a tile, below the code. */
export function tileColor(frame: I420Frame, box: Tile): [number, number, number] {
  const { width, height, data } = frame;
  const lumaSize = width * height;
  const chromaWidth = Math.ceil(width / 2);
  const chromaSize = chromaWidth * Math.ceil(height / 2);
  let y = 0;
  let u = 0;
  let v = 0;
  let n = 0;
  const x0 = Math.floor(box.x + 0.3 * box.width);
  const x1 = Math.floor(box.x + 0.7 * box.width);
  const y0 = Math.floor(box.y + 0.35 * box.height);
  const y1 = Math.floor(box.y + 0.75 * box.height);
  for (let py = y0; py < y1; py += 2) {
    for (let px = x0; px < x1; px += 2) {
      const c = (py >> 1) * chromaWidth + (px >> 1);
      y += data[py * width + px]!;
      u += data[lumaSize + c]!;
      v += data[lumaSize + chromaSize + c]!;
      n++;
    }
  }
  const Y = 1.164 * (y / n - 16);
  const U = u / n - 128;
  const V = v / n - 128;
  const clamp = (c: number): number => Math.max(0, Math.min(255, c));
  return [clamp(Y + 1.596 * V), clamp(Y - 0.392 * U - 0.813 * V), clamp(Y + 2.017 * U)];
}

/** Reads every tile of the grid (of those in `layouts`) that fits this frame best. */
export function readComposite(frame: I420Frame, layouts: readonly Tile[][], source: Size): CompositeRead {
  let best: { boxes: readonly Tile[]; valid: number; reads: (number | undefined)[] } = { boxes: [], valid: 0, reads: [] };
  for (const boxes of layouts) {
    const reads = boxes.map((box) => readTimecode(frame, box, source)?.ms);
    const valid = reads.filter((ms) => ms !== undefined).length;
    // More tiles read wins; at a tie, a grid read completely wins over a smaller one.
    if (valid > best.valid || (valid === best.valid && valid > 0 && valid === boxes.length)) {
      best = { boxes, valid, reads };
    }
  }
  if (best.valid === 0) return { count: 0, tiles: [] };
  return {
    count: best.boxes.length,
    tiles: best.boxes.map((box, i) => ({ bot: nearestPaletteIndex(tileColor(frame, box)), ms: best.reads[i] })),
  };
}

