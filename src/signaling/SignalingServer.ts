import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { createLogger } from '../../base/log/logger.ts';
import { authorizeJoin, JoinRefused, type JoinGrant } from '../auth/joinAuth.ts';
import type { ApiKeys } from '../auth/keys.ts';
import { originAllowed, type OriginPolicy } from '../auth/origin.ts';
import { KeyedRateLimiter, TokenBucket, type RateLimit } from '../auth/rateLimit.ts';
import { turnCredentials, type TurnSettings } from '../auth/turnCredentials.ts';
import { BadRequestError, ForbiddenError, LimitError, ProtocolError } from '../errors.ts';
import { isRefusalCode, type Refusals } from '../metrics/refusals.ts';
import { planOffer } from '../peers/offer.ts';
import type { Participant } from '../rooms/Participant.ts';
import type { Room } from '../rooms/Room.ts';
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
  /** API keys; none: development mode, no token asked for. */
  keys?: ApiKeys;
  origins?: OriginPolicy;
  /** Whether the socket is served over TLS (the page's own origin is then https://). */
  tls?: boolean;
  limits?: { messages: RateLimit; joins: RateLimit; participants: number };
  refusals?: Refusals;
  /** Short-lived TURN credentials for each participant, in `joined.iceServers`. */
  turn?: TurnSettings;
}

/** Frames refused over the message rate after which the socket is closed: no client that keeps to the rate gets near it. */
const FLOOD_CLOSE_AFTER = 1000;
/** Replies a slow reader may leave unread before its socket is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** The signaling WebSocket endpoint (README, "Signaling"): one SignalingConnection per socket. */
export class SignalingServer {
  readonly #wss: WebSocketServer;
  readonly #pingTimer: NodeJS.Timeout;
  readonly #connections = new Set<SignalingConnection>();

  constructor(http: HttpServer | HttpsServer, options: SignalingOptions) {
    // maxPayload is larger than the protocol's limit so that an oversized frame gets an
    // `error` reply instead of a closed socket.
    this.#wss = new WebSocketServer({ server: http, path: SOCKET_PATH, maxPayload: 4 * MAX_FRAME_BYTES });
    const joins = options.limits && new KeyedRateLimiter(options.limits.joins);
    this.#wss.on('connection', (socket, request) => {
      if (options.origins && !originAllowed(options.origins, request.headers.origin, request.headers.host, options.tls ?? false)) {
        options.refusals?.count('origin_not_allowed', 'socket');
        log.info({ remote: request.socket.remoteAddress, origin: request.headers.origin?.slice(0, 200) }, 'socket from an origin not allowed');
        socket.send(JSON.stringify({ type: 'error', code: 'origin_not_allowed', message: 'pages of this origin may not use this server' }));
        socket.close(4003, 'origin_not_allowed');
        return;
      }
      const connection = new SignalingConnection(socket, request, options, joins);
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
  readonly #address: string;
  readonly #messages?: TokenBucket;
  readonly #joins?: KeyedRateLimiter;
  #participant?: Participant;
  #grant?: JoinGrant;
  #room?: Room;
  #alive = true;
  #missed = 0;
  /** Frames refused by the message rate limit: in a row (the first is told), and in all. */
  #refusedInARow = 0;
  #refused = 0;
  /** Messages are handled one at a time, in order: an offer is answered before its candidates. */
  #queue: Promise<void> = Promise.resolve();

  constructor(socket: WebSocket, request: IncomingMessage, options: SignalingOptions, joins?: KeyedRateLimiter) {
    this.#socket = socket;
    this.#options = options;
    this.#address = request.socket.remoteAddress ?? 'unknown';
    this.#remote = `${this.#address}:${request.socket.remotePort}`;
    if (options.limits) this.#messages = new TokenBucket(options.limits.messages);
    if (joins) this.#joins = joins;
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
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    if (this.#socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      log.info({ remote: this.#remote }, 'socket reads none of its replies; dropping it');
      this.terminate();
      return;
    }
    this.#socket.send(JSON.stringify(message));
  }

  /** Over the message rate: the first frame of a run is told, the rest dropped; a flood closes the socket. */
  #overRate(): boolean {
    if (!this.#messages || this.#messages.take()) {
      this.#refusedInARow = 0;
      return false;
    }
    this.#options.refusals?.count('rate_limited', 'socket');
    if (++this.#refusedInARow === 1) {
      const { perSecond } = this.#options.limits!.messages;
      this.send({ type: 'error', code: 'rate_limited', message: `too many messages: at most ${perSecond} a second; the ones over it are dropped` });
    }
    if (++this.#refused === FLOOD_CLOSE_AFTER) {
      log.info({ remote: this.#remote }, 'socket floods over the message rate; closing it');
      this.#participant?.close('flooding');
      this.#socket.close(4008, 'rate_limited');
    }
    return true;
  }

  #onFrame(data: RawData, isBinary: boolean): void {
    if (this.#overRate()) return;
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
        if (this.#participant && !this.#participant.closed) throw new ProtocolError('already_joined', 'already joined; send leave first');
        return this.#join(message);
      }
      case 'offer': {
        const participant = this.#joined();
        if (this.#grant?.access.publish === false && publishes(message.sdp)) {
          throw new ForbiddenError('your token does not allow publishing (canPublish): offer recvonly transceivers');
        }
        try {
          await participant.negotiate(message.sdp);
        } catch (error) {
          // No session could start for it: out of the room, so that it may join again later.
          if (error instanceof LimitError) {
            participant.close(error.code);
            this.#participant = undefined;
          }
          throw error;
        }
        return;
      }
      case 'candidate':
        return this.#joined().addCandidate(message.candidate);
      case 'cap': {
        const participant = this.#joined();
        if (!this.#room?.setRungCap(participant.id, message.rung ?? 0)) {
          throw new BadRequestError('cap: you receive no VP8 composite (send it after your offer, with a video transceiver that receives)');
        }
        return;
      }
      case 'leave':
        this.#joined().close('left');
        this.#participant = undefined;
        return;
    }
  }

  async #join(message: Extract<ClientMessage, { type: 'join' }>): Promise<void> {
    const { rooms, limits } = this.#options;
    if (this.#joins && !this.#joins.take(this.#address)) {
      throw new LimitError('join_rate_limited', `too many joins from your address: at most ${limits!.joins.perSecond} a second`);
    }
    let grant: JoinGrant;
    try {
      grant = await authorizeJoin(this.#options.keys ?? new Map(), message);
    } catch (error) {
      if (error instanceof JoinRefused) log.info({ remote: this.#remote, room: message.room, reason: error.reason }, 'join refused');
      throw error;
    }
    if (limits && rooms.participantCount >= limits.participants) {
      throw new LimitError('participant_limit', `the server already has its ${limits.participants} participants`);
    }
    const room = await rooms.forJoin(message.room);
    const participant = room.join({ name: grant.name, signal: this, access: grant.access });
    this.#participant = participant;
    this.#room = room;
    this.#grant = grant;
    if (grant.identity !== undefined) log.info({ participant: participant.id, identity: grant.identity }, 'joined with a token');
    const turn = this.#options.turn;
    this.send({
      type: 'joined',
      room: room.name,
      id: participant.id,
      iceServers: turn ? [...this.#options.iceServers, turnCredentials(turn, participant.id, Date.now())] : this.#options.iceServers,
      participants: room.participants(),
    });
    room.broadcastParticipants();
    if (room.speaker !== null) this.send({ type: 'speaker', id: room.speaker });
  }

  #joined(): Participant {
    const participant = this.#participant;
    if (!participant || participant.closed) throw new ProtocolError('not_joined', 'send join first');
    return participant;
  }

  #fail(error: unknown): void {
    if (error instanceof ProtocolError) {
      if (isRefusalCode(error.code)) this.#options.refusals?.count(error.code, 'socket');
      this.send({ type: 'error', code: error.code, message: error.message });
      if (error.fatal) this.#socket.close(4001, error.code);
      return;
    }
    log.error({ remote: this.#remote, err: error }, 'unexpected error handling a message');
    this.send({ type: 'error', code: 'internal', message: 'the server could not handle that message' });
  }
}

/** Whether an offer sends anything (a sendrecv or sendonly section); an unusable one is left to negotiate() to refuse. */
function publishes(sdp: string): boolean {
  const plan = planOffer(sdp);
  return !('error' in plan) && (plan.audio?.publishes === true || plan.video?.publishes === true);
}
