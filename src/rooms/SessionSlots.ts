import type { SessionLike } from '../../mixer/SessionTypes.ts';
import { LimitError } from '../errors.ts';

/**
 * The server's budget of sessions (a session is a process with its own FFmpeg children): a room
 * takes a slot to start its session and gives it back when the session ends.
 */
export class SessionSlots {
  readonly max: number;
  #used = 0;
  readonly #waiters = new Set<() => void>();

  constructor(max: number) {
    this.max = max;
  }

  get used(): number {
    return this.#used;
  }

  /**
   * Resolves when a slot is free, waiting up to `graceMs` (a session that has just ended gives its
   * slot back when its process has gone, a moment later); else rejects with LimitError('session_limit').
   */
  async available(graceMs: number): Promise<void> {
    const deadline = performance.now() + graceMs;
    while (this.#used >= this.max) {
      const left = deadline - performance.now();
      if (left <= 0) throw this.#limitError();
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

  /** Takes a slot, or throws LimitError('session_limit'); the returned release is idempotent. */
  take(): () => void {
    if (this.#used >= this.max) throw this.#limitError();
    this.#used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#used--;
      for (const wake of [...this.#waiters]) wake();
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

  #limitError(): LimitError {
    return new LimitError('session_limit', `the server already runs its ${this.max} sessions: try again later`);
  }
}
