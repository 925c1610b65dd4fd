import { Socket, type OnReadOpts, type SocketConstructorOpts } from 'node:net';
import type { Readable } from 'node:stream';

/** What Node's own sockets take besides the documented options: an existing handle to wrap. */
interface HandleSocketOpts extends SocketConstructorOpts {
  handle: object;
  onread: OnReadOpts;
}

/** A child's pipe as Node makes it (child_process, or a handle received over IPC). */
type PipeSocket = Socket & { _handle?: object | null };

export interface ChunkReaderOptions {
  /** Bytes in one chunk: an I420 frame, or 20 ms of PCM. */
  size: number;
  /** A buffer of `size` bytes to fill next (from a FramePool, or a fresh one). */
  allocate: () => Buffer;
  onChunk: (chunk: Buffer) => void;
  /**
   * false: read as a stream and copy into the chunk (how frames were read before; kept for
   * `scripts/bench/crossings.ts`, which measures both).
   */
  direct?: boolean;
}

/**
 * Splits a child's output into fixed-size chunks, each in a buffer of its own, read straight into
 * that buffer. A stream's 'data' reads 64 KiB at a time into fresh memory, then the chunker copied
 * it into the frame: measured (README: Where the peers live) reading 270 frames a second of
 * 640x360 cost a process 0.14 of a core that way, 0.04 read in place. Node reads into a caller's
 * buffer only for a socket made with `onread`, and a child's pipe is a socket Node makes, so the
 * reader takes its handle over (falls back to copying a stream that has none).
 */
export class ChunkReader {
  readonly #options: ChunkReaderOptions;
  #current: Buffer;
  #filled = 0;
  /** True when reading in place (for tests: a Node that changed its sockets would copy again). */
  readonly direct: boolean;

  constructor(stream: Readable, options: ChunkReaderOptions) {
    this.#options = options;
    this.#current = options.allocate();
    const handle = options.direct !== false && stream instanceof Socket ? (stream as PipeSocket)._handle : undefined;
    this.direct = Boolean(handle);
    if (!handle) {
      stream.on('data', (data: Buffer) => this.#copy(data));
      return;
    }
    // Whatever the stream read before it was taken over comes first.
    for (let early: unknown = stream.read(); Buffer.isBuffer(early); early = stream.read()) this.#copy(early);
    (stream as PipeSocket)._handle = null;
    const reader = new Socket({
      handle,
      readable: true,
      writable: false,
      onread: {
        buffer: () => this.#current.subarray(this.#filled),
        callback: (bytes) => {
          this.#advance(bytes);
          return true;
        },
      },
    } satisfies HandleSocketOpts as SocketConstructorOpts);
    // A pipe error ends the reading; the child's exit reports it. The stream that gave its handle
    // closes with the reader: child_process waits for it before its 'close'.
    reader.on('error', () => {});
    reader.on('close', () => stream.destroy());
  }

  /** The part-filled buffer, for the caller to give back once the child has exited. */
  get pending(): Buffer {
    return this.#current;
  }

  #advance(bytes: number): void {
    this.#filled += bytes;
    if (this.#filled < this.#options.size) return;
    const full = this.#current;
    this.#current = this.#options.allocate();
    this.#filled = 0;
    this.#options.onChunk(full);
  }

  #copy(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(this.#options.size - this.#filled, data.length - offset);
      data.copy(this.#current, this.#filled, offset, offset + take);
      offset += take;
      this.#advance(take);
    }
  }
}
