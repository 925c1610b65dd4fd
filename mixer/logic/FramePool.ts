/**
 * Reusable buffers for decoded video frames, all of one size. A fresh buffer per frame cost a
 * session 11% of a core at five participants (profiled): every new buffer is new memory, and
 * touching it page by page in the copy from the decoder's pipe is what was slow. A buffer is
 * reused once nobody holds it: not the decoder filling it, not a tile showing it, not a
 * compositor pipe still writing it (FFmpeg reads a frame in pieces, so it must not change
 * under the writer).
 */
export class FramePool {
  readonly frameBytes: number;
  readonly #holds = new Map<Buffer, number>();
  readonly #free: Buffer[] = [];
  readonly #maxFree: number;
  allocated = 0;

  constructor(frameBytes: number, maxFree = 64) {
    this.frameBytes = frameBytes;
    this.#maxFree = maxFree;
  }

  /** A buffer for one frame, held once by the caller. */
  acquire(): Buffer {
    let frame = this.#free.pop();
    if (!frame) {
      frame = Buffer.allocUnsafeSlow(this.frameBytes);
      this.allocated++;
    }
    this.#holds.set(frame, 1);
    return frame;
  }

  /** One more holder of `frame`; buffers that are not the pool's (a black tile) are ignored. */
  hold(frame: Buffer): void {
    const holds = this.#holds.get(frame);
    if (holds !== undefined) this.#holds.set(frame, holds + 1);
  }

  /** One holder fewer; the last one gives the buffer back for reuse. */
  release(frame: Buffer): void {
    const holds = this.#holds.get(frame);
    if (holds === undefined) return;
    if (holds > 1) {
      this.#holds.set(frame, holds - 1);
      return;
    }
    this.#holds.delete(frame);
    if (this.#free.length < this.#maxFree) this.#free.push(frame);
  }

  /** Buffers held by someone now (for tests and stats). */
  get held(): number {
    return this.#holds.size;
  }
}
