import { fileURLToPath } from 'node:url';
import { createLogger } from '../../base/log/logger.ts';
import { ChildChannel } from '../../base/process/ChildChannel.ts';
import type { Params, RequestName, Result } from '../../base/process/channelProtocol.ts';
import { ChildStartError, RequestTimeoutError } from '../../base/process/errors.ts';
import { getBackgroundNiceness } from '../../base/process/priority.ts';
import { sessionProtocol, type SessionProtocol } from './sessionProcessProtocol.ts';
import { TypedEmitter } from '../../base/TypedEmitter.ts';
import type {
  SessionEvents,
  SessionLayout,
  SessionLike,
  SessionObserverEvents,
  SessionParticipant,
  SessionParticipantPorts,
  SessionSettings,
  SessionStats,
} from '../SessionTypes.ts';
import { SESSION_DEFAULTS } from '../SessionTypes.ts';

const log = createLogger('SessionProcess');

const ENTRY = fileURLToPath(new URL('./sessionProcessMain.ts', import.meta.url));
/**
 * Booting (Node, the session's code) and starting the session (its compositor): under a second on
 * a quiet machine, and over 15 s seen on a saturated 2-core one; a room waits rather than fail.
 */
const START_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 15_000;
const KILL_AFTER_TERM_MS = 5_000;
/** Adding or removing a participant starts or stops a decoder: seconds at worst on a loaded machine. */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A Session running in a process of its own (`mcu-session`, sessionProcessMain.ts). Two things
 * in the server's process would stall its clock and pipes: werift's DTLS handshakes in
 * JavaScript on the main thread (README, "How it is built"), and starting FFmpeg, which forks
 * the whole server — with a big process, the fork held the address space of every thread for
 * 30-80 ms under load (a thread that touched new memory meanwhile waited). The session's process
 * is small, so its forks are short and stall nobody else.
 */
export class SessionProcess extends TypedEmitter<SessionEvents> implements SessionLike {
  readonly observer = new TypedEmitter<SessionObserverEvents>();
  readonly #channel: ChildChannel<SessionProtocol>;
  #stats: SessionStats;
  #closed = false;
  #closing?: Promise<void>;

  static async create(settings: SessionSettings): Promise<SessionProcess> {
    const session = SessionProcess.boot();
    await session.start(settings);
    return session;
  }

  /**
   * A process that loads the session's code and starts its spawner, and then waits for start():
   * booting took 1-2.5 s of a room's first join on a busy machine (Node, the TypeScript loader),
   * so the server keeps one booted ahead of need (SpareSessions.ts).
   */
  static boot(): SessionProcess {
    return new SessionProcess();
  }

  private constructor() {
    super();
    this.#channel = ChildChannel.spawn({
      name: 'session process',
      entry: ENTRY,
      protocol: sessionProtocol,
      serialization: 'advanced',
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    this.#stats = {
      participants: 0,
      tiles: [],
      layout: { kind: 'grid' },
      tileSource: SESSION_DEFAULTS.tileSource,
      compositorFramesWritten: 0,
      compositorTicksSkipped: 0,
      videoClockSkipped: 0,
      decoderRestarts: 0,
      compositorRestarts: 0,
      compositeKeyframes: 0,
      audio: {},
    };
    const channel = this.#channel;
    channel.on('keyframeneeded', ({ id, need }) => this.safeEmit('keyframeneeded', id, need));
    channel.on('compositestart', (sources) => this.safeEmit('compositestart', sources));
    channel.on('speaker', (id) => this.safeEmit('speaker', id));
    channel.on('decoded', (frames) => this.safeEmit('decoded', frames));
    channel.on('layoutchange', (tiles) => this.observer.safeEmit('layoutchange', tiles));
    channel.on('firstframe', (id) => this.observer.safeEmit('firstframe', id));
    channel.on('stats', (stats) => (this.#stats = stats));
    void channel.exited.then(({ code, signal }) => {
      if (this.#closed || this.#closing) return;
      log.error({ code, signal }, 'session process exited unexpectedly');
      this.#closed = true;
      this.safeEmit('@close');
      this.observer.safeEmit('close');
    });
  }

  get pid(): number | undefined {
    return this.#channel.pid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  addParticipant(participant: SessionParticipant): Promise<SessionParticipantPorts> {
    return this.#request('add', participant);
  }

  async removeParticipant(id: string): Promise<void> {
    // Closing removes everyone anyway.
    if (this.#closed || this.#closing) return;
    await this.#request('remove', { id }).catch((error: unknown) => {
      if (!this.#closed && !this.#closing) throw error;
    });
  }

  compositeSwitched(ssrc: number): void {
    if (!this.#closed) this.#channel.notify('switched', { ssrc });
  }

  setLayout(layout: SessionLayout): void {
    if (!this.#closed) this.#channel.notify('layout', layout);
  }

  setH264Wanted(wanted: boolean): void {
    if (!this.#closed) this.#channel.notify('h264', { wanted });
  }

  setRungsWanted(rungs: number[]): void {
    if (!this.#closed) this.#channel.notify('rungs', { wanted: rungs });
  }

  requestCompositeKeyframe(): void {
    if (!this.#closed) this.#channel.notify('keyframe', undefined);
  }

  stats(): SessionStats {
    return this.#stats;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#closed) return;
      // SIGTERM makes the session stop its FFmpeg gracefully too; SIGKILL is the last resort.
      const timers = [
        setTimeout(() => this.#channel.kill('SIGTERM'), CLOSE_TIMEOUT_MS),
        setTimeout(() => this.#channel.kill('SIGKILL'), CLOSE_TIMEOUT_MS + KILL_AFTER_TERM_MS),
      ];
      // Its exit (the timers above at the latest) ends the request.
      await this.#request('close', undefined, Infinity).catch((error: unknown) => {
        log.warn({ err: error }, 'session did not close cleanly');
      });
      await this.#channel.exited;
      timers.forEach(clearTimeout);
      this.#closed = true;
      this.safeEmit('@close');
      this.observer.safeEmit('close');
    })();
    return this.#closing;
  }

  /** Whether the process is up and waiting for start() (a spare that is still usable). */
  get ready(): Promise<boolean> {
    return this.#channel.ready.then(
      () => !this.#closed && !this.#closing && !this.#channel.hasExited,
      () => false,
    );
  }

  /** Waits for the process to boot (if it has not yet), then starts its session. Once only. */
  async start(settings: SessionSettings): Promise<void> {
    this.#stats = { ...this.#stats, layout: settings.layout, tileSource: settings.tileSource };
    const deadline = Date.now() + START_TIMEOUT_MS;
    try {
      await this.#channel.whenReady(START_TIMEOUT_MS);
      const left = Math.max(0, deadline - Date.now());
      await this.#request('init', { settings, backgroundNiceness: getBackgroundNiceness() }, left).catch((error: unknown) => {
        if (error instanceof RequestTimeoutError) this.#channel.kill('SIGKILL');
        throw error instanceof RequestTimeoutError ? new ChildStartError(`session process did not start within ${START_TIMEOUT_MS} ms`) : error;
      });
    } catch (error) {
      // Gone before the caller hears of the failure: a server that counts its session processes
      // (the session limit) must not start the next one while this one still runs.
      const kill = setTimeout(() => this.#channel.kill('SIGKILL'), KILL_AFTER_TERM_MS);
      this.#channel.kill('SIGTERM');
      await this.#channel.exited;
      clearTimeout(kill);
      throw error;
    }
  }

  #request<M extends RequestName<SessionProtocol>>(method: M, params: Params<SessionProtocol, M>, timeoutMs?: number): Promise<Result<SessionProtocol, M>> {
    if (this.#closed) return Promise.reject(new Error('session is closed'));
    return this.#channel.request(method, params, timeoutMs === undefined ? {} : { timeoutMs });
  }
}
