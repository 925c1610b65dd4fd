import { writeSync } from 'node:fs';

/** Writes what it can of `data` to `fd` now; returns the bytes written. Throws as fs.writeSync. */
export type WriteNow = (fd: number, data: Buffer) => number;

/** Unwritten log bytes kept for the next write; past this, new lines are dropped. */
const MAX_PENDING_BYTES = 64 * 1024;

/**
 * Where log lines go: a file descriptor (stderr), written at once and never waited for.
 * pino's own destination (sonic-boom) sleeps and retries a full pipe for as long as it stays
 * full, and at exit retries a closed one for ever: a session process whose server had gone hung
 * in it for minutes. A media process must not wait for whoever reads its logs: the rest of a
 * line that did not fit is kept (up to 64 KiB) and written first next time, a line that finds
 * that full is dropped and counted (and the count logged once lines fit again), and a closed
 * descriptor (EPIPE) ends logging.
 */
export class LogDestination {
  readonly #fd: number;
  readonly #write: WriteNow;
  #pending: Buffer = Buffer.alloc(0);
  #dropped = 0;
  #closed = false;

  constructor(fd = 2, write: WriteNow = writeSync) {
    this.#fd = fd;
    this.#write = write;
  }

  /** Lines dropped since the last notice. */
  get dropped(): number {
    return this.#dropped;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** pino's destination interface: one serialized line. */
  write(line: string): void {
    if (this.#closed) return;
    if (!this.#flushPending()) {
      this.#drop(line);
      return;
    }
    if (this.#dropped > 0) {
      const notice = JSON.stringify({ level: 40, time: new Date().toISOString(), msg: `${this.#dropped} log lines dropped: the log reader was too slow` });
      this.#dropped = 0;
      this.#pending = Buffer.from(`${notice}\n`);
      if (!this.#flushPending()) {
        this.#drop(line);
        return;
      }
    }
    this.#pending = Buffer.from(line);
    this.#flushPending();
  }

  /** At exit: one last try, without waiting. */
  flushSync(): void {
    if (!this.#closed) this.#flushPending();
  }

  /** Writes what is pending; true when nothing is left. */
  #flushPending(): boolean {
    while (this.#pending.length > 0) {
      let written: number;
      try {
        written = this.#write(this.#fd, this.#pending);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return false;
        // EPIPE, EBADF...: nobody will read these logs again.
        this.#closed = true;
        this.#pending = Buffer.alloc(0);
        return false;
      }
      if (written <= 0) return false;
      this.#pending = this.#pending.subarray(written);
    }
    return true;
  }

  #drop(line: string): void {
    if (this.#closed) return;
    if (this.#pending.length + Buffer.byteLength(line) <= MAX_PENDING_BYTES && this.#dropped === 0) {
      this.#pending = Buffer.concat([this.#pending, Buffer.from(line)]);
      return;
    }
    this.#dropped++;
  }
}
