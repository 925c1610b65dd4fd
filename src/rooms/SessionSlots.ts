import type { SessionLike } from '../../mixer/SessionTypes.ts';
import { LimitError } from '../errors.ts';

/** A slot taken for a session; giving it back twice gives it back once. */
export interface SessionSlot {
  release(): void;
}

/**
 * The server's budget of sessions (a session is a process with its own FFmpeg children): a room
 * takes a slot to start its session and gives it back when the session ends.
 */
export class SessionSlots {
  readonly max: number;
  #used = 0;
  /** Slots whose session is closing: given back in a moment. */
  #freeing = 0;
  readonly #slots = new WeakMap<SessionLike, { slot: SessionSlot; freeing: boolean }>();
  readonly #waiters = new Set<() => void>();

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes a slot, or throws LimitError('session_limit'). */
  take(): SessionSlot {
    if (this.#used >= this.max) throw this.#limitError();
    this.#used++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#used--;
        for (const wake of [...this.#waiters]) wake();
      },
    };
  }

  /**
   * Resolves when a slot is free. With none free but one whose session is closing, waits up to
   * `graceMs` for it (its process exits a moment after); else rejects with LimitError('session_limit').
   */
  async available(graceMs: number): Promise<void> {
    const deadline = performance.now() + graceMs;
    while (this.#used >= this.max) {
      const left = deadline - performance.now();
      if (this.#freeing === 0 || left <= 0) throw this.#limitError();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /**
   * Starts a session in a slot (`slot`, taken by the caller beforehand, or one taken now), given
   * back when the session has ended or failed to start.
   */
  async start<T extends SessionLike>(create: () => Promise<T>, slot: SessionSlot = this.take()): Promise<T> {
    try {
      const session = await create();
      const entry = { slot, freeing: false };
      this.#slots.set(session, entry);
      session.once('@close', () => {
        if (entry.freeing) this.#freeing--;
        slot.release();
      });
      return session;
    } catch (error) {
      slot.release();
      throw error;
    }
  }

  /** The owner is closing `session`: its slot comes back soon (see available). */
  closing(session: SessionLike): void {
    const entry = this.#slots.get(session);
    if (!entry || entry.freeing || session.closed) return;
    entry.freeing = true;
    this.#freeing++;
  }

  #limitError(): LimitError {
    return new LimitError('session_limit', `the server already runs its ${this.max} sessions: try again later`);
  }
}
