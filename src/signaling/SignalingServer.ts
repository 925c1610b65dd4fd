import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createLogger } from '../../mixer/logger.ts';
import { BadRequestError, ProtocolError } from '../errors.ts';
import type { Participant } from '../rooms/Participant.ts';
import type { Rooms } from '../rooms/Rooms.ts';
import type { IceServer } from '../peers/peerConfig.ts';
import { MAX_FRAME_BYTES, parseClientFrame, type ClientMessage, type ServerMessage } from './messages.ts';

const log = createLogger('Signaling');

/** Pings in a row a socket may leave unanswered before it is dropped. */
const MISSED_PINGS = 2;

export const SOCKET_PATH = '/socket';

export interface SignalingOptions {
  rooms: Rooms;
  iceServers: IceServer[];
  /** Pings go out this often; a socket that answers none of MISSED_PINGS in a row is dropped, and its participant with it. */
  pingIntervalMs: number;
}

/** The WebSocket endpoint of PROTOCOL.md: one SignalingConnection per socket. */
export class SignalingServer {
  readonly #wss: WebSocketServer;
  readonly #pingTimer: NodeJS.Timeout;
  readonly #connections = new Set<SignalingConnection>();

  constructor(http: HttpServer, options: SignalingOptions) {
    // maxPayload is larger than the protocol's limit so that an oversized frame gets an
    // `error` reply instead of a closed socket.
    this.#wss = new WebSocketServer({ server: http, path: SOCKET_PATH, maxPayload: 4 * MAX_FRAME_BYTES });
    this.#wss.on('connection', (socket, request) => {
      const connection = new SignalingConnection(socket, request, options);
      this.#connections.add(connection);
      socket.once('close', () => this.#connections.delete(connection));
    });
    this.#pingTimer = setInterval(() => {
      for (const connection of this.#connections) connection.ping();
    }, options.pingIntervalMs);
  }

  async close(): Promise<void> {
    clearInterval(this.#pingTimer);
    for (const connection of this.#connections) connection.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** One client socket: parses frames, and drives its participant. */
class SignalingConnection {
  readonly #socket: WebSocket;
  readonly #options: SignalingOptions;
  readonly #remote: string;
  #participant?: Participant;
  #joining = false;
  #alive = true;
  #missed = 0;
  /** Messages are handled one at a time, in order: an offer is answered before its candidates. */
  #queue: Promise<void> = Promise.resolve();

  constructor(socket: WebSocket, request: IncomingMessage, options: SignalingOptions) {
    this.#socket = socket;
    this.#options = options;
    this.#remote = `${request.socket.remoteAddress}:${request.socket.remotePort}`;
    socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    socket.on('pong', () => (this.#alive = true));
    socket.on('close', () => this.#participant?.close('socket closed'));
    socket.on('error', (error) => log.debug({ remote: this.#remote, err: error.message }, 'socket error'));
  }

  ping(): void {
    this.#missed = this.#alive ? 0 : this.#missed + 1;
    // Two intervals without a pong: a client busy starting up (its event loop held for seconds on
    // a loaded machine) is not dropped for one late answer, a frozen one still goes within 10 s.
    if (this.#missed >= MISSED_PINGS) {
      log.info({ remote: this.#remote }, 'socket answered no ping; dropping it');
      this.terminate();
      return;
    }
    this.#alive = false;
    this.#socket.ping();
  }

  terminate(): void {
    this.#participant?.close('socket dropped');
    this.#socket.terminate();
  }

  send(message: ServerMessage): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    const parsed = isBinary
      ? ({ ok: false, message: 'binary frames are not part of the protocol' } as const)
      : parseClientFrame(buffer);
    if (!parsed.ok) {
      this.send({ type: 'error', code: 'bad_request', message: parsed.message });
      return;
    }
    this.#queue = this.#queue.then(() => this.#handle(parsed.message)).catch((error: unknown) => this.#fail(error));
  }

  async #handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'join': {
        if (this.#participant && !this.#participant.closed) throw new BadRequestError('already joined; send leave first');
        if (this.#joining) throw new BadRequestError('a join is already in progress');
        this.#joining = true;
        try {
          const room = await this.#options.rooms.forJoin(message.room);
          const participant = room.join({ name: message.name, signal: this });
          this.#participant = participant;
          this.send({
            type: 'joined',
            room: room.name,
            id: participant.id,
            iceServers: this.#options.iceServers,
            participants: room.participants(),
          });
          room.broadcastParticipants();
          if (room.speaker !== null) this.send({ type: 'speaker', id: room.speaker });
        } finally {
          this.#joining = false;
        }
        return;
      }
      case 'offer':
        return this.#joined().negotiate(message.sdp);
      case 'candidate':
        return this.#joined().addCandidate(message.candidate);
      case 'leave':
        this.#joined().close('left');
        this.#participant = undefined;
        return;
    }
  }

  #joined(): Participant {
    const participant = this.#participant;
    if (!participant || participant.closed) throw new ProtocolError('not_joined', 'send join first');
    return participant;
  }

  #fail(error: unknown): void {
    if (error instanceof ProtocolError) {
      this.send({ type: 'error', code: error.code, message: error.message });
      if (error.fatal) this.#socket.close(4001, error.code);
      return;
    }
    log.error({ remote: this.#remote, err: error }, 'unexpected error handling a message');
    this.send({ type: 'error', code: 'internal', message: 'the server could not handle that message' });
  }
}
