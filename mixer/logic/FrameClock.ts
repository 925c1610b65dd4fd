/**
 * A drift-free clock: tick n is due at start + n × period. A late timer runs at most `maxBurst`
 * of the ticks it missed back to back (audio must not lose samples) and skips the rest (video
 * only needs the latest frame), counted in `skipped`. Time and timers are injected so that tests
 * can step it without sleeping.
 */

export interface ClockTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: ClockTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class FrameClock {
  readonly periodMs: number;
  readonly #onTick: (tick: number) => void;
  readonly #timers: ClockTimers;
  #start = 0;
  #next = 0;
  #handle: unknown;
  #running = false;
  skipped = 0;
  ticks = 0;

  readonly #maxBurst: number;

  constructor(
    periodMs: number,
    onTick: (tick: number) => void,
    options: { maxBurst?: number; timers?: ClockTimers } = {},
  ) {
    if (!(periodMs > 0)) throw new RangeError(`clock period must be positive, not ${periodMs}`);
    this.periodMs = periodMs;
    this.#maxBurst = options.maxBurst ?? 1;
    if (!Number.isInteger(this.#maxBurst) || this.#maxBurst < 1) throw new RangeError('maxBurst must be a whole number ≥ 1');
    this.#onTick = onTick;
    this.#timers = options.timers ?? realTimers;
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#start = this.#timers.now();
    this.#next = 0;
    this.#fire();
  }

  stop(): void {
    this.#running = false;
    if (this.#handle !== undefined) this.#timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #fire(): void {
    if (!this.#running) return;
    const now = this.#timers.now();
    const due = Math.floor((now - this.#start) / this.periodMs);
    const behind = due - this.#next + 1;
    if (behind > this.#maxBurst) {
      this.skipped += behind - this.#maxBurst;
      this.#next += behind - this.#maxBurst;
    }
    for (let i = 0; i < Math.min(Math.max(behind, 1), this.#maxBurst) && this.#running; i++) {
      this.ticks++;
      this.#onTick(this.#next);
      this.#next++;
    }
    if (!this.#running) return;
    const wait = Math.max(0, this.#start + this.#next * this.periodMs - this.#timers.now());
    this.#handle = this.#timers.setTimeout(() => this.#fire(), wait);
  }
}
