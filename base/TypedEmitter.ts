import { EventEmitter } from 'node:events';
import { createLogger } from './log/logger.ts';

const log = createLogger('TypedEmitter');

type EventMap = Record<string, unknown[]>;

/**
 * An EventEmitter typed by an event map. `safeEmit` turns a listener's throw into a logged
 * error so that one bad listener can't break the emitter or the media loop (mediasoup's safeEmit).
 */
export class TypedEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(Infinity);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Subscribes and returns the unsubscribe, so owners can collect and run them on close. */
  subscribe<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): () => void {
    this.on(event, listener);
    return () => this.off(event, listener);
  }

  safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    // rawListeners: calling a `once` wrapper is what removes it.
    for (const listener of this.#emitter.rawListeners(event)) {
      try {
        (listener as (...a: E[K]) => void)(...args);
      } catch (error) {
        log.error({ event, err: error }, 'event listener threw');
      }
    }
  }

  removeAllListeners(): void {
    this.#emitter.removeAllListeners();
  }
}
