import type { SessionLike } from '../../mixer/SessionTypes.ts';
import { LimitError } from '../errors.ts';

/**
 * The server's budget of sessions (a session is a process with its own FFmpeg children): a room
 * takes a slot to start its session and gives it back when the session ends.
 */
export class SessionSlots {
  readonly max: number;
  #used = 0;

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes a slot, or throws LimitError('session_limit'); the returned release is idempotent. */
  take(): () => void {
    if (this.#used >= this.max) {
      throw new LimitError('session_limit', `the server already runs its ${this.max} sessions: try again later`);
    }
    this.#used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used--;
    };
  }

  /** Starts a session in a slot of its own, given back when the session has ended or failed to start. */
  async start<T extends SessionLike>(create: () => Promise<T>): Promise<T> {
    const release = this.take();
    try {
      const session = await create();
      session.once('@close', release);
      return session;
    } catch (error) {
      release();
      throw error;
    }
  }
}
