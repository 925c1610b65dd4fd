import WebSocket, { type ClientOptions } from 'ws';

/** A raw WebSocket client for tests: sends anything, collects every parsed reply. */
export class RawClient {
  readonly replies: { type?: string; code?: string; message?: string; [key: string]: unknown }[] = [];
  readonly #socket: WebSocket;
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
    });
    socket.on('close', (code) => {
      this.#closed = true;
      this.closeCode = code;
    });
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
