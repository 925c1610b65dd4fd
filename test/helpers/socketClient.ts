import WebSocket, { type ClientOptions } from 'ws';
import { settleOnWake } from './wait.ts';

/** A raw WebSocket client for tests: sends anything, collects every parsed reply. */
export class RawClient {
  readonly replies: { type?: string; code?: string; message?: string; [key: string]: unknown }[] = [];
  readonly #socket: WebSocket;
  readonly #waiters = new Set<() => void>();
  #closed = false;
  /** The close code the server sent (e.g. 4001 after a fatal error), once closed. */
  closeCode: number | undefined;

  /** `options`: e.g. an Origin header, or the CA of a self-signed server. */
  static async connect(url: string, options?: ClientOptions): Promise<RawClient> {
    const socket = new WebSocket(url, options);
    // Listening before the socket opens: a server may send in the same breath as the handshake.
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on('message', (data) => {
      try {
        this.replies.push(JSON.parse(data.toString()) as RawClient['replies'][number]);
      } catch {
        this.replies.push({ type: 'not-json' });
      }
      for (const wake of this.#waiters) wake();
    });
    socket.on('close', (code) => {
      this.#closed = true;
      this.closeCode = code;
      for (const wake of this.#waiters) wake();
    });
    // A socket error is followed by its close; the close is what callers wait for.
    socket.on('error', () => {});
  }

  /** Resolves true once `condition` holds (checked at each message and at the close), false after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (!condition()) return false;
        resolve(true);
        return true;
      };
      settleOnWake(this.#waiters, check, timeoutMs, () => resolve(false));
    });
  }

  /** The first reply from index `from` on that matches, 'closed' if the socket closes first, undefined after `timeoutMs`. */
  async next(from: number, match: (reply: RawClient['replies'][number]) => boolean, timeoutMs: number): Promise<RawClient['replies'][number] | 'closed' | undefined> {
    let found: RawClient['replies'][number] | undefined;
    const ended = await this.until(() => (found = this.replies.slice(from).find(match)) !== undefined || this.#closed, timeoutMs);
    return found ?? (ended ? 'closed' : undefined);
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(frame: string | Buffer, binary = false): void {
    this.#socket.send(frame, { binary });
  }

  errors(): RawClient['replies'] {
    return this.replies.filter((r) => r.type === 'error');
  }

  close(): void {
    this.#socket.close();
  }
}
