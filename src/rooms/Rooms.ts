import { createLogger } from '../../base/log/logger.ts';
import type { SpareSessions } from '../../mixer/process/SpareSessions.ts';
import { LimitError, RoomNotFoundError } from '../errors.ts';
import { Room } from './Room.ts';
import type { RoomNetwork, RoomSettings } from './RoomTypes.ts';

const log = createLogger('Rooms');

/** The server's rooms, by name. Rooms made on a join are removed with their last participant. */
export class Rooms {
  readonly #rooms = new Map<string, Promise<Room>>();
  readonly #defaults: RoomSettings;
  readonly #network: RoomNetwork;
  readonly #autoCreate: boolean;
  readonly #spares: SpareSessions;
  readonly #maxRooms: number;
  /** The rooms made so far (the map also holds ones still being made). */
  readonly #made = new Set<Room>();
  #closing?: Promise<void>;

  constructor(options: { defaults: RoomSettings; network: RoomNetwork; autoCreate: boolean; spares: SpareSessions; maxRooms?: number }) {
    this.#defaults = options.defaults;
    this.#network = options.network;
    this.#autoCreate = options.autoCreate;
    this.#spares = options.spares;
    this.#maxRooms = options.maxRooms ?? Infinity;
  }

  /** Participants in every room of the server. */
  get participantCount(): number {
    let count = 0;
    for (const room of this.#made) count += room.participantCount;
    return count;
  }

  /** The settings a room gets unless told otherwise. */
  get defaults(): RoomSettings {
    return this.#defaults;
  }

  /** Creates a room an operator asked for; it stays when empty. */
  async create(name: string, settings: Partial<RoomSettings> = {}): Promise<Room> {
    const existing = await this.#rooms.get(name)?.catch(() => undefined);
    if (existing && !existing.closed) return existing;
    return this.#add(name, { ...this.#defaults, persistent: true, ...settings });
  }

  /** The room a client joins: an existing one, or a new temporary one when auto-creation is on. */
  async forJoin(name: string): Promise<Room> {
    const existing = await this.#rooms.get(name)?.catch(() => undefined);
    // A room closing with its last participant is replaced, not joined.
    if (existing && !existing.closed) return existing;
    if (!this.#autoCreate) throw new RoomNotFoundError(name);
    return this.#add(name, { ...this.#defaults, persistent: false });
  }

  async list(): Promise<Room[]> {
    return Promise.all(this.#rooms.values());
  }

  async get(name: string): Promise<Room | undefined> {
    return this.#rooms.get(name);
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Closes every room (each closes its participants, recording and session) and makes no more.
   * Idempotent: a second call waits for the same close.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      // A room still being made is closed once made; one that failed to be made has nothing to close.
      await Promise.all([...this.#rooms.values()].map((creating) => creating.then((room) => room.close(), () => {})));
    })();
    return this.#closing;
  }

  #add(name: string, settings: RoomSettings): Promise<Room> {
    if (this.closed) throw new RoomNotFoundError(name);
    if (this.#rooms.size >= this.#maxRooms) throw new LimitError('room_limit', `the server already has its ${this.#maxRooms} rooms`);
    const creating = Room.create(name, settings, this.#network, this.#spares);
    this.#rooms.set(name, creating);
    creating.then(
      (room) => {
        log.info({ room: name, persistent: settings.persistent }, 'room created');
        this.#made.add(room);
        room.once('@close', () => {
          this.#made.delete(room);
          if (this.#rooms.get(name) === creating) this.#rooms.delete(name);
        });
        room.on('@empty', () => {
          // A recording keeps even a temporary room; the room hears `@empty` again when it ends.
          const recording = room.recording?.state;
          if (!room.settings.persistent && recording !== 'starting' && recording !== 'recording' && recording !== 'stopping') {
            void room.close();
          }
        });
      },
      () => this.#rooms.delete(name),
    );
    return creating;
  }
}
