import { describe, expect, it, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import {
  focusLayout,
  gridColumns,
  gridLayout,
  layoutTiles,
  letterbox,
  MAX_GRID_TILES,
  type Size,
  type Tile,
} from '../../mixer/logic/layout.ts';

const CANVAS: Readonly<Size> = Object.freeze({ width: 1280, height: 720 });

const overlaps = (a: Tile, b: Tile): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

describe('gridColumns()', () => {
  eachReturns('gridColumns(%i) is %i', gridColumns, [
    [0, 1],
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 2],
    [5, 3],
    [6, 3],
    [9, 3],
    [10, 4],
    [16, 4],
    [17, 5],
    [25, 5],
  ]);
});

describe('gridLayout() on 1280x720', () => {
  const tile = (x: number, y: number, width: number, height: number): Tile => ({ x, y, width, height });

  it.each<[string, number, Tile[]]>([
    ['gives no tiles for nobody', 0, []],
    ['gives one participant the whole canvas', 1, [tile(0, 0, 1280, 720)]],
    ['puts two tiles side by side, each full height', 2, [tile(0, 0, 640, 720), tile(640, 0, 640, 720)]],
    ['puts three tiles as two on top and one centred below', 3, [tile(0, 0, 640, 360), tile(640, 0, 640, 360), tile(320, 360, 640, 360)]],
    ['puts four tiles in a 2x2 grid', 4, [tile(0, 0, 640, 360), tile(640, 0, 640, 360), tile(0, 360, 640, 360), tile(640, 360, 640, 360)]],
  ])('gridLayout() %s', (_what, count, tiles) => {
    expect(gridLayout(count, CANVAS)).toEqual(tiles);
  });

  // count, columns, rows, tile width, tile height
  describe.each([
    [1, 1, 1, 1280, 720],
    [2, 2, 1, 640, 720],
    [3, 2, 2, 640, 360],
    [4, 2, 2, 640, 360],
    [5, 3, 2, 426, 360],
    [9, 3, 3, 426, 240],
    [10, 4, 3, 320, 240],
    [16, 4, 4, 320, 180],
    [25, 5, 5, 256, 144],
  ])('gridLayout(%i)', (count, columns, rows, width, height) => {
    const tiles = gridLayout(count, CANVAS);

    it(`gives ${count} tiles`, () => {
      expect(tiles).toHaveLength(count);
    });

    it(`makes every tile ${width}x${height}`, () => {
      for (const tile of tiles) expect(tile).toMatchObject({ width, height });
    });

    it('uses only even values (I420)', () => {
      for (const tile of tiles) {
        for (const value of [tile.x, tile.y, tile.width, tile.height]) expect(value % 2).toBe(0);
      }
    });

    it('keeps every tile inside the canvas', () => {
      for (const tile of tiles) {
        expect(tile.x).toBeGreaterThanOrEqual(0);
        expect(tile.y).toBeGreaterThanOrEqual(0);
        expect(tile.x + tile.width).toBeLessThanOrEqual(CANVAS.width);
        expect(tile.y + tile.height).toBeLessThanOrEqual(CANVAS.height);
      }
    });

    it('lets no two tiles overlap', () => {
      for (let i = 0; i < tiles.length; i++) {
        for (let j = i + 1; j < tiles.length; j++) {
          expect(overlaps(tiles[i]!, tiles[j]!), `tiles ${i} and ${j}`).toBe(false);
        }
      }
    });

    it(`fills ${rows} rows top to bottom, ${columns} per full row, in reading order`, () => {
      const ys = [...new Set(tiles.map((t) => t.y))];
      expect(ys).toEqual(Array.from({ length: rows }, (_, r) => r * height));
      for (let r = 0; r < rows; r++) {
        const row = tiles.filter((t) => t.y === r * height);
        const expected = r === rows - 1 ? count - r * columns : columns;
        expect(row).toHaveLength(expected);
        // adjacent, left to right, in input order
        for (let c = 1; c < row.length; c++) expect(row[c]!.x).toBe(row[c - 1]!.x + width);
      }
      for (let i = 1; i < tiles.length; i++) {
        const a = tiles[i - 1]!;
        const b = tiles[i]!;
        expect(b.y > a.y || (b.y === a.y && b.x > a.x)).toBe(true);
      }
    });

    it('centres every row, the short last one included (within the 2 pixels even rounding costs)', () => {
      for (let r = 0; r < rows; r++) {
        const row = tiles.filter((t) => t.y === r * height);
        const left = row[0]!.x;
        const right = CANVAS.width - (row[row.length - 1]!.x + width);
        expect(Math.abs(left - right)).toBeLessThanOrEqual(2);
      }
    });
  });

  it('gridLayout() centres the short last row of five tiles exactly', () => {
    const last = gridLayout(5, CANVAS).slice(3);
    expect(last).toEqual([
      { x: 214, y: 360, width: 426, height: 360 },
      { x: 640, y: 360, width: 426, height: 360 },
    ]);
  });

  it('gridLayout() holds at most MAX_GRID_TILES (25) tiles', () => {
    expect(MAX_GRID_TILES).toBe(25);
    expect(gridLayout(MAX_GRID_TILES, CANVAS)).toHaveLength(25);
  });

  test.each([26, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('gridLayout(%s) throws a RangeError', (count) => {
    expect(() => gridLayout(count, CANVAS)).toThrow(RangeError);
  });
});

describe('letterbox()', () => {
  it.each([
    ['fits a 16:9 source into a 640x720 tile as 640x360 centred at y=180', { width: 640, height: 360 }, { x: 0, y: 0, width: 640, height: 720 }, { x: 0, y: 180, width: 640, height: 360 }],
    ['offsets the picture by the tile position', { width: 1920, height: 1080 }, { x: 640, y: 0, width: 640, height: 720 }, { x: 640, y: 180, width: 640, height: 360 }],
    ['pillarboxes a 4:3 source in a 16:9 tile', { width: 640, height: 480 }, { x: 0, y: 360, width: 640, height: 360 }, { x: 80, y: 360, width: 480, height: 360 }],
    ['scales a small source up to fill the tile', { width: 320, height: 180 }, { x: 0, y: 0, width: 1280, height: 720 }, { x: 0, y: 0, width: 1280, height: 720 }],
  ])('letterbox() %s', (_what, source, tile, box) => {
    expect(letterbox(source, tile)).toEqual(box);
  });

  const sources: Size[] = [
    { width: 640, height: 360 },
    { width: 640, height: 480 },
    { width: 1920, height: 1080 },
    { width: 360, height: 640 },
    { width: 333, height: 251 },
    { width: 1000, height: 1000 },
  ];
  const tiles: Tile[] = [2, 3, 5, 9, 10, 16, 25].flatMap((n) => gridLayout(n, CANVAS));

  it('letterbox() keeps the aspect ratio, uses even values and stays inside the tile, centred', () => {
    for (const source of sources) {
      for (const tile of tiles) {
        const box = letterbox(source, tile);
        const where = `${source.width}x${source.height} in ${JSON.stringify(tile)}`;
        for (const value of [box.x, box.y, box.width, box.height]) expect(value % 2, where).toBe(0);
        expect(box.x, where).toBeGreaterThanOrEqual(tile.x);
        expect(box.y, where).toBeGreaterThanOrEqual(tile.y);
        expect(box.x + box.width, where).toBeLessThanOrEqual(tile.x + tile.width);
        expect(box.y + box.height, where).toBeLessThanOrEqual(tile.y + tile.height);
        // One side fills the tile (up to even rounding).
        expect(Math.min(tile.width - box.width, tile.height - box.height), where).toBeLessThan(2);
        // Aspect ratio kept: rounding each side down to even costs under 2 pixels per side.
        expect(Math.abs(box.width - (box.height * source.width) / source.height), where).toBeLessThan(
          2 * (1 + source.width / source.height),
        );
        // Centred: the margins on both sides differ by at most 2 pixels.
        const left = box.x - tile.x;
        const right = tile.x + tile.width - (box.x + box.width);
        const top = box.y - tile.y;
        const bottom = tile.y + tile.height - (box.y + box.height);
        expect(Math.abs(left - right), where).toBeLessThanOrEqual(2);
        expect(Math.abs(top - bottom), where).toBeLessThanOrEqual(2);
      }
    }
  });
});

describe('focus layouts (speaker, presenter)', () => {
  const CANVAS = { width: 1280, height: 720 };

  it('focusLayout() puts tile 0 large on top and the others in a strip below', () => {
    expect(focusLayout(3, CANVAS)).toEqual([
      { x: 0, y: 0, width: 1280, height: 540 },
      { x: 320, y: 540, width: 320, height: 180 },
      { x: 640, y: 540, width: 320, height: 180 },
    ]);
  });

  it('focusLayout() of one participant is the whole canvas', () => {
    expect(focusLayout(1, CANVAS)).toEqual([{ x: 0, y: 0, width: 1280, height: 720 }]);
  });

  it.each([2, 5, 9, 16, 25])('focusLayout(%i) keeps every tile inside the canvas, even, without overlap', (count) => {
    const tiles = focusLayout(count, CANVAS);
    expect(tiles).toHaveLength(count);
    for (const t of tiles) {
      for (const v of [t.x, t.y, t.width, t.height]) expect(v % 2).toBe(0);
      expect(t.x + t.width).toBeLessThanOrEqual(1280);
      expect(t.y + t.height).toBeLessThanOrEqual(720);
    }
    const strip = tiles.slice(1);
    for (let i = 1; i < strip.length; i++) expect(strip[i]!.x).toBeGreaterThanOrEqual(strip[i - 1]!.x + strip[i - 1]!.width);
  });

  it('focusLayout() refuses more than 25 tiles', () => {
    expect(() => focusLayout(26, CANVAS)).toThrow(RangeError);
  });

  it('layoutTiles() is the grid for grid and the focus layout otherwise', () => {
    expect(layoutTiles('grid', 4, CANVAS)).toEqual(gridLayout(4, CANVAS));
    expect(layoutTiles('speaker', 4, CANVAS)).toEqual(focusLayout(4, CANVAS));
    expect(layoutTiles('presenter', 4, CANVAS)).toEqual(focusLayout(4, CANVAS));
  });
});
