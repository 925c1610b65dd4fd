import { createLogger } from '../../base/log/logger.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import type { SessionLike } from '../../mixer/SessionTypes.ts';
import type { SessionSlot, SessionSlots } from './SessionSlots.ts';

const log = createLogger('RoomSession');

/** How long an offer waits for the slot of a session that is closing. */
const SESSION_SLOT_GRACE_MS = 150;

export interface RoomSessionOptions {
  room: string;
  /** The server's budget of sessions (none: unlimited). */
  slots: SessionSlots | undefined;
  /** Starts a session process with the room's settings of the moment. */
  create(): Promise<SessionLike>;
}

export type RoomSessionEvents = {
  /** A session started: the room wires its events now, before anyone uses it. */
  '@start': [SessionLike];
  /** The session stopped at the room's request. */
  '@stop': [];
  /** The running session ended without being asked to (its process died). */
  '@lost': [];
  /** The active speaker changed (null: none). */
  '@speaker': [participantId: string | null];
};

/**
 * A room's session: started with the first offer (or a recording), stopped when nobody needs it,
 * restarted after a loss. Exists so that a start, a stop and a loss never overlap: one chain
 * serializes them, so a join during a stop gets a fresh session. Its owner, the room, hears
 * `@start`, `@stop` and `@lost`; after close() no session starts again.
 */
export class RoomSession extends TypedEmitter<RoomSessionEvents> {
  readonly #options: RoomSessionOptions;
  #session?: Promise<SessionLike>;
  /** Sessions that have started, by their promise: stats never wait for one that is starting. */
  readonly #started = new WeakMap<Promise<SessionLike>, SessionLike>();
  /** Serializes session start and stop. */
  #chain: Promise<unknown> = Promise.resolve();
  #speaker: string | null = null;
  #closing?: Promise<void>;

  constructor(options: RoomSessionOptions) {
    super();
    this.#options = options;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** A session is running or starting. */
  get running(): boolean {
    return this.#session !== undefined;
  }

  /** The running session, once started (undefined while it starts). */
  get current(): SessionLike | undefined {
    return this.#session && this.#started.get(this.#session);
  }

  /** The active speaker of the running session, or null. */
  get speaker(): string | null {
    return this.#speaker;
  }

  /**
   * For an offer: a room without a session takes a slot for one now, so that an offer the server
   * has no room for is refused before its answer (LimitError('session_limit')).
   */
  async reserve(): Promise<void> {
    const slots = this.#options.slots;
    if (this.#session || !slots) return;
    await slots.available(SESSION_SLOT_GRACE_MS);
    if (!this.#session && !this.closed) void this.ensure(slots.take()).catch(() => {});
  }

  /** The room's session, started now if there is none (in `slot` when one was taken for it). */
  ensure(slot?: SessionSlot): Promise<SessionLike> {
    if (this.closed) {
      slot?.release();
      return Promise.reject(new Error(`room ${this.#options.room} is closed`));
    }
    if (!this.#session) {
      const starting = this.#chain.then(() => this.#start(slot));
      this.#session = starting;
      this.#chain = starting.catch(() => {});
      starting.then((session) => this.#started.set(starting, session)).catch(() => {
        if (this.#session === starting) this.#session = undefined;
      });
    }
    return this.#session;
  }

  /** Runs `use` on the session once it has started; nothing if there is none or it fails. */
  use(use: (session: SessionLike) => void): void {
    void this.#session?.then(use).catch(() => {});
  }

  /** Takes a participant out of the session it is in now (if any). */
  removeParticipant(id: string): Promise<void> {
    const current = this.#session;
    return (async () => {
      await (await current?.catch(() => undefined))?.removeParticipant(id);
    })();
  }

  /** Stops the session; a later ensure() starts a fresh one. */
  stop(): Promise<void> {
    const current = this.#session;
    if (!current) return this.#chain.then(() => undefined);
    this.#session = undefined;
    const stopping = this.#chain.then(async () => {
      const session = await current.catch(() => undefined);
      if (session) this.#options.slots?.closing(session);
      await session?.close();
      this.#speaker = null;
      log.info({ room: this.#options.room }, 'session stopped');
      this.safeEmit('@stop');
    });
    this.#chain = stopping.catch(() => {});
    return stopping;
  }

  /** Stops the session for good. Idempotent: a second call waits for the same stop. */
  close(): Promise<void> {
    this.#closing ??= this.stop();
    return this.#closing;
  }

  async #start(slot?: SessionSlot): Promise<SessionLike> {
    const create = this.#options.create;
    const session = await (this.#options.slots?.start(create, slot) ?? create());
    session.once('@close', () => this.#onClosed(session));
    session.on('speaker', (id) => {
      this.#speaker = id;
      this.safeEmit('@speaker', id);
    });
    this.safeEmit('@start', session);
    log.info({ room: this.#options.room }, 'session started');
    return session;
  }

  #onClosed(session: SessionLike): void {
    void this.#session?.then((current) => {
      if (current !== session || this.closed) return;
      this.#session = undefined;
      log.error({ room: this.#options.room }, 'session lost');
      this.safeEmit('@lost');
    });
  }
}
