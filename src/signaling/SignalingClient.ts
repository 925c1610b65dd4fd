import WebSocket from 'ws';
import { z } from 'zod';
import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import type { ClientMessage, IceCandidateInit } from './messages.ts';

const log = createLogger('SignalingClient');

/**
 * A small typed client for the signaling protocol (README, "Signaling") over `ws`: the bot uses
 * it, and tests can use it to speak to the server the way a browser page does.
 */

const iceServerSchema = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

const participantSchema = z.object({ id: z.string(), name: z.string() });

const candidateSchema = z
  .object({
    candidate: z.string().optional(),
    sdpMid: z.string().nullable().optional(),
    sdpMLineIndex: z.number().nullable().optional(),
    usernameFragment: z.string().nullable().optional(),
  })
  .nullable();

// Unknown fields are kept (z.looseObject): the protocol may add fields, never re-shape them.
const serverMessageSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('joined'),
    room: z.string(),
    id: z.string(),
    iceServers: z.array(iceServerSchema),
    participants: z.array(participantSchema),
  }),
  z.looseObject({ type: z.literal('answer'), sdp: z.string() }),
  z.looseObject({ type: z.literal('candidate'), candidate: candidateSchema }),
  z.looseObject({ type: z.literal('participants'), participants: z.array(participantSchema) }),
  z.looseObject({ type: z.literal('speaker'), id: z.string().nullable() }),
  z.looseObject({ type: z.literal('error'), code: z.string(), message: z.string() }),
]);

/** A server message as received (unknown extra fields kept). */
export type ReceivedServerMessage = z.infer<typeof serverMessageSchema>;
export type JoinedMessage = Extract<ReceivedServerMessage, { type: 'joined' }>;
export type ParticipantInfo = z.infer<typeof participantSchema>;
export type IceServerInit = z.infer<typeof iceServerSchema>;
export type { IceCandidateInit };

export type { ClientMessage };

/** An `error` message from the server, or a failure to reach it, as a throwable. */
export class SignalingError extends Error {
  override readonly name = 'SignalingError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type SignalingClientEvents = {
  /** The server accepted `join` (emitted before `join()` resolves). */
  joined: [joined: JoinedMessage];
  answer: [sdp: string];
  candidate: [candidate: IceCandidateInit | null];
  participants: [participants: ParticipantInfo[]];
  speaker: [id: string | null];
  error: [error: { code: string; message: string }];
  /** The socket is closed (by either side); `code`/`reason` as WebSocket reports them. */
  close: [info: { code: number; reason: string }];
};

export interface ConnectOptions {
  /** Give up opening the socket after this long (default 10 s). */
  timeoutMs?: number;
}

export interface JoinOptions {
  token?: string;
  /** Give up waiting for `joined` after this long (default 10 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Frames beyond this are not protocol messages (the protocol caps frames at 64 KiB). */
const MAX_FRAME_BYTES = 256 * 1024;

export class SignalingClient extends TypedEmitter<SignalingClientEvents> {
  readonly url: string;
  readonly #ws: WebSocket;
  #closed = false;
  #joined: JoinedMessage | undefined;
  /** The pending `join()`'s resolver, called with the `joined` message. */
  #onJoined: ((joined: JoinedMessage) => void) | undefined;

  private constructor(url: string, ws: WebSocket) {
    super();
    this.url = url;
    this.#ws = ws;
    ws.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    ws.on('close', (code, reason) => {
      this.#closed = true;
      this.safeEmit('close', { code, reason: reason.toString('utf8') });
    });
    // After the open, socket errors are followed by `close`; keep them from being uncaught.
    ws.on('error', (error) => log.debug({ err: error }, 'socket error'));
  }

  /** Opens the socket; rejects with a `SignalingError` (code `connect_failed`) if it cannot. */
  static connect(url: string, options: ConnectOptions = {}): Promise<SignalingClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, handshakeTimeout: timeoutMs });
      } catch (error) {
        reject(new SignalingError('connect_failed', `cannot connect to ${url}: ${errorText(error)}`));
        return;
      }
      const timer = setTimeout(() => {
        fail(new SignalingError('connect_failed', `cannot connect to ${url}: no answer after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (error: SignalingError): void => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => {});
        ws.terminate();
        reject(error);
      };
      ws.once('open', () => {
        clearTimeout(timer);
        ws.removeAllListeners();
        resolve(new SignalingClient(url, ws));
      });
      ws.once('error', (error) => fail(new SignalingError('connect_failed', `cannot connect to ${url}: ${errorText(error)}`)));
      ws.once('unexpected-response', (_request, response) => {
        fail(new SignalingError('connect_failed', `cannot connect to ${url}: HTTP ${response.statusCode}`));
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The `joined` message, once the server has accepted `join`. */
  get joined(): JoinedMessage | undefined {
    return this.#joined;
  }

  /**
   * Sends `join` and resolves with `joined`; rejects with a `SignalingError` carrying the
   * server's `error` code, or `timeout`, or `closed`.
   */
  join(room: string, name: string, options: JoinOptions = {}): Promise<JoinedMessage> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const unsubscribes: (() => void)[] = [];
      const done = (): void => {
        clearTimeout(timer);
        for (const unsubscribe of unsubscribes) unsubscribe();
      };
      const timer = setTimeout(() => {
        done();
        reject(new SignalingError('timeout', `no answer to join after ${timeoutMs} ms`));
      }, timeoutMs);
      unsubscribes.push(
        this.subscribe('error', ({ code, message }) => {
          done();
          reject(new SignalingError(code, message));
        }),
        this.subscribe('close', ({ code, reason }) => {
          done();
          reject(new SignalingError('closed', `the server closed the connection (${code}${reason ? ` ${reason}` : ''})`));
        }),
      );
      this.#onJoined = (joined) => {
        done();
        resolve(joined);
      };
      this.send({ type: 'join', room, name, ...(options.token !== undefined ? { token: options.token } : {}) });
    });
  }

  sendOffer(sdp: string): void {
    this.send({ type: 'offer', sdp });
  }

  sendCandidate(candidate: IceCandidateInit | null): void {
    this.send({ type: 'candidate', candidate });
  }

  leave(): void {
    this.send({ type: 'leave' });
  }

  /** Sends one message; a message to a closed socket is dropped (and logged). */
  send(message: ClientMessage): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) {
      log.debug({ type: message.type }, 'socket not open: message dropped');
      return;
    }
    this.#ws.send(JSON.stringify(message));
  }

  /** Closes the socket and resolves once it is closed (at most 2 s, then it is terminated). */
  close(): Promise<void> {
    if (this.#ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#ws.terminate(), 2000);
      this.#ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#ws.close(1000, 'bye');
    });
  }

  #onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      log.warn('binary frame from the server ignored');
      return;
    }
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      log.warn({ frame: text.slice(0, 200) }, 'frame from the server is not JSON: ignored');
      return;
    }
    const parsed = serverMessageSchema.safeParse(raw);
    if (!parsed.success) {
      const type = typeof raw === 'object' && raw !== null && 'type' in raw ? String(raw.type) : undefined;
      // The protocol lets the server add message types: an unknown one is not a fault.
      log.debug({ type, issues: parsed.error.issues.slice(0, 3) }, 'unknown or malformed message from the server: ignored');
      return;
    }
    const message = parsed.data;
    switch (message.type) {
      case 'joined': {
        this.#joined = message;
        this.safeEmit('joined', message);
        const onJoined = this.#onJoined;
        this.#onJoined = undefined;
        onJoined?.(message);
        break;
      }
      case 'answer':
        this.safeEmit('answer', message.sdp);
        break;
      case 'candidate':
        this.safeEmit('candidate', message.candidate);
        break;
      case 'participants':
        this.safeEmit('participants', message.participants);
        break;
      case 'speaker':
        this.safeEmit('speaker', message.id);
        break;
      case 'error':
        this.safeEmit('error', { code: message.code, message: message.message });
        break;
    }
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}
