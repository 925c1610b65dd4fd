import { FramePool } from './logic/FramePool.ts';
import type { Size } from './logic/layout.ts';
import { i420Size } from './logic/timecode.ts';
import { blackFrame, placeholderFrame } from './logic/tileFrames.ts';

/**
 * Frame pools and the black and placeholder tiles for each tile-source size a session uses
 * (sourceSize.ts: one size, or two while decoders move from one to the other). A frame goes back
 * to the pool of its own size, known from its length.
 */
export class SizedFrames {
  readonly #pools = new Map<number, FramePool>();
  readonly #tiles = new Map<number, { black: Buffer; placeholder: Buffer }>();

  pool(size: Size): FramePool {
    const bytes = i420Size(size.width, size.height);
    let pool = this.#pools.get(bytes);
    if (!pool) {
      pool = new FramePool(bytes);
      this.#pools.set(bytes, pool);
    }
    return pool;
  }

  /** The black (before a first frame) and placeholder (stalled) tiles of this size. */
  tiles(size: Size): { black: Buffer; placeholder: Buffer } {
    const bytes = i420Size(size.width, size.height);
    let tiles = this.#tiles.get(bytes);
    if (!tiles) {
      tiles = { black: blackFrame(size), placeholder: placeholderFrame(size) };
      this.#tiles.set(bytes, tiles);
    }
    return tiles;
  }

  /** Gives a decoded frame back to the pool of its size. */
  release(frame: Buffer): void {
    this.#pools.get(frame.length)?.release(frame);
  }
}
