import { describe, expect, it } from 'vitest';
import { TileSourceMove } from '../../mixer/logic/TileSourceMove.ts';

const CANVAS = { width: 1280, height: 720 };
const BIG = { width: 640, height: 360 };
const SMALL = { width: 320, height: 180 };
const move = () => new TileSourceMove({ canvas: CANVAS, configured: BIG, timeoutMs: 2500 });

describe('TileSourceMove', () => {
  it('stays at the configured size for small grids and the other layouts', () => {
    const m = move();
    expect(m.want(4, 'grid', 0)).toBe('steady');
    expect(m.want(12, 'speaker', 0)).toBe('steady');
    expect(m.size).toEqual(BIG);
    expect(m.nextDeadline()).toBeUndefined();
  });

  it('moves decoders to the small size from ten grid tiles, and ends when every decoder has moved', () => {
    const m = move();
    expect(m.want(10, 'grid', 1000)).toBe('start');
    expect(m.target).toEqual(SMALL);
    expect(m.decodeSize).toEqual(SMALL);
    // Compositors keep the old size until the move ends.
    expect(m.size).toEqual(BIG);
    expect(m.moved(BIG)).toBe(false);
    expect(m.moved(SMALL)).toBe(true);
    // A second roster change wanting the same size waits for the same move.
    expect(m.want(11, 'grid', 1500)).toBe('moving');
    expect(m.nextDeadline()).toBe(3500);
    expect(m.finish()).toEqual(SMALL);
    expect(m.size).toEqual(SMALL);
    expect(m.target).toBeUndefined();
    expect(m.finish()).toBeUndefined();
    // Back only two tiles below the bound.
    expect(m.want(9, 'grid', 4000)).toBe('steady');
    expect(m.want(8, 'grid', 4000)).toBe('start');
  });

  it('ends a move whose last decoders never deliver once the timeout is over', () => {
    const m = move();
    m.want(12, 'grid', 0);
    expect(m.due(2499)).toBe(false);
    expect(m.due(2500)).toBe(true);
    expect(m.finish()).toEqual(SMALL);
    expect(m.due(10_000)).toBe(false);
  });

  it('drops a move that is no longer wanted (the room shrank back before it ended)', () => {
    const m = move();
    m.want(10, 'grid', 0);
    expect(m.want(4, 'grid', 100)).toBe('steady');
    expect(m.target).toBeUndefined();
    expect(m.nextDeadline()).toBeUndefined();
    expect(m.size).toEqual(BIG);
  });

  it('lets held old-size frames go only once no move is under way and the live compositor is at the size in use', () => {
    const m = move();
    m.want(10, 'grid', 0);
    expect(m.oldSizeGone(BIG)).toBe(false);
    m.finish();
    expect(m.oldSizeGone(BIG)).toBe(false);
    expect(m.oldSizeGone(SMALL)).toBe(true);
  });
});
