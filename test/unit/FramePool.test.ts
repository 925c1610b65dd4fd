import { describe, expect, it } from 'vitest';
import { FramePool } from '../../mixer/logic/FramePool.ts';

describe('FramePool', () => {
  it('reuses a buffer only once its last holder has released it', () => {
    const pool = new FramePool(16);
    const a = pool.acquire();
    pool.hold(a); // a compositor pipe writing it
    pool.release(a); // the tile moved on to a newer frame
    const b = pool.acquire();
    expect(b).not.toBe(a); // the pipe still holds a
    pool.release(a); // the pipe took all of it
    pool.release(b);
    const c = pool.acquire();
    expect([a, b]).toContain(c);
    expect(pool.allocated).toBe(2);
    expect(pool.held).toBe(1);
  });

  it('ignores buffers that are not its own, such as the black tile', () => {
    const pool = new FramePool(16);
    const black = Buffer.alloc(16);
    pool.hold(black);
    pool.release(black);
    expect(pool.held).toBe(0);
    expect(pool.acquire()).not.toBe(black);
  });

  it('keeps at most maxFree buffers for reuse', () => {
    const pool = new FramePool(16, 2);
    const frames = [pool.acquire(), pool.acquire(), pool.acquire()];
    for (const frame of frames) pool.release(frame);
    pool.acquire();
    pool.acquire();
    pool.acquire();
    expect(pool.allocated).toBe(4);
  });
});
