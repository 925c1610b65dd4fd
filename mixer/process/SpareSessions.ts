import { createLogger } from '../../base/log/logger.ts';
import { SessionProcess } from './SessionProcess.ts';
import type { SessionSettings } from '../SessionTypes.ts';

const log = createLogger('SpareSessions');

/** A new spare boots this long after one was taken: not while the room that took it starts. */
const REPLENISH_DELAY_MS = 5000;

/**
 * One session process booted ahead of need. A room's first join waited for its session process
 * to boot (Node and the TypeScript loader: 1-2.5 s on a busy machine) before its first composite
 * frame; a booted spare only has to start its session (README: Joining). The spare is not a
 * session yet: it runs no FFmpeg, and is titled `mcu-spare` until it is taken.
 */
export class SpareSessions {
  #spare: SessionProcess | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #enabled: boolean;

  constructor(options: { enabled: boolean }) {
    this.#enabled = options.enabled;
    this.#boot();
  }

  /** A running session with these settings: the spare when it is usable, else a new process. */
  async start(settings: SessionSettings): Promise<SessionProcess> {
    const spare = this.#spare;
    this.#spare = undefined;
    const usable = spare !== undefined && (await spare.ready);
    if (spare && !usable) void spare.close();
    const session = usable ? spare : SessionProcess.boot();
    if (!this.#closed && this.#enabled) {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.#boot(), REPLENISH_DELAY_MS);
    }
    // A session that fails to start has ended by the time this rejects (SessionProcess.start).
    await session.start(settings);
    log.debug({ spare: usable }, 'session process started');
    return session;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const spare = this.#spare;
    this.#spare = undefined;
    await spare?.close();
  }

  #boot(): void {
    if (this.#closed || !this.#enabled || this.#spare) return;
    this.#spare = SessionProcess.boot();
  }
}
