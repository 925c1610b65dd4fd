import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../base/log/logger.ts';
import { withParentDeathSignal } from '../../base/process/parentDeath.ts';
import { getBackgroundNiceness } from '../../base/process/priority.ts';
import type { HostToSession, SessionToHost } from './sessionProcessProtocol.ts';
import { TSX_LOADER } from '../../base/process/Spawner.ts';
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
const START_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 15_000;
const KILL_AFTER_TERM_MS = 5_000;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

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
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #booted: Promise<void>;
  readonly #pending = new Map<number, Pending>();
  #nextRequest = 1;
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
    const [file, args] = withParentDeathSignal(process.execPath, ['--import', TSX_LOADER, ENTRY]);
    this.#child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
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
    this.#child.on('message', (message: SessionToHost) => this.#onMessage(message));
    this.#child.on('error', (error) => log.error({ err: error }, 'session process failed'));
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        const error = new Error(`session process exited (code ${code}, signal ${signal})`);
        for (const pending of this.#pending.values()) pending.reject(error);
        this.#pending.clear();
        if (!this.#closed && !this.#closing) {
          log.error({ code, signal }, 'session process exited unexpectedly');
          this.#closed = true;
          this.safeEmit('@close');
          this.observer.safeEmit('close');
        }
        resolve();
      });
    });
    this.#booted = new Promise<void>((resolve, reject) => {
      const onMessage = (message: SessionToHost) => {
        if (message.op !== 'booted') return;
        this.#child.off('message', onMessage);
        resolve();
      };
      this.#child.on('message', onMessage);
      void this.#exited.then(() => reject(new Error('session process exited during start')));
    });
    this.#booted.catch(() => {});
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  addParticipant(participant: SessionParticipant): Promise<SessionParticipantPorts> {
    return this.#request({ op: 'add', requestId: 0, participant }) as Promise<SessionParticipantPorts>;
  }

  async removeParticipant(id: string): Promise<void> {
    // Closing removes everyone anyway.
    if (this.#closed || this.#closing) return;
    await this.#request({ op: 'remove', requestId: 0, id }).catch((error: unknown) => {
      if (!this.#closed && !this.#closing) throw error;
    });
  }

  compositeSwitched(ssrc: number): void {
    if (!this.#closed) this.#post({ op: 'switched', ssrc });
  }

  setLayout(layout: SessionLayout): void {
    if (!this.#closed) this.#post({ op: 'layout', layout });
  }

  setH264Wanted(wanted: boolean): void {
    if (!this.#closed) this.#post({ op: 'h264', wanted });
  }

  requestCompositeKeyframe(): void {
    if (!this.#closed) this.#post({ op: 'keyframe' });
  }

  stats(): SessionStats {
    return this.#stats;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#closed) return;
      // SIGTERM makes the session stop its FFmpeg gracefully too; SIGKILL is the last resort.
      const timers = [
        setTimeout(() => this.#child.kill('SIGTERM'), CLOSE_TIMEOUT_MS),
        setTimeout(() => this.#child.kill('SIGKILL'), CLOSE_TIMEOUT_MS + KILL_AFTER_TERM_MS),
      ];
      await this.#request({ op: 'close', requestId: 0 }).catch((error: unknown) => {
        log.warn({ err: error }, 'session did not close cleanly');
      });
      await this.#exited;
      timers.forEach(clearTimeout);
      this.#closed = true;
      this.safeEmit('@close');
      this.observer.safeEmit('close');
    })();
    return this.#closing;
  }

  /** Whether the process is up and waiting for start() (a spare that is still usable). */
  get ready(): Promise<boolean> {
    return this.#booted.then(
      () => !this.#closed && !this.#closing && this.#child.exitCode === null,
      () => false,
    );
  }

  /** Waits for the process to boot (if it has not yet), then starts its session. Once only. */
  async start(settings: SessionSettings): Promise<void> {
    this.#stats = { ...this.#stats, layout: settings.layout, tileSource: settings.tileSource };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        reject(new Error(`session process did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.#booted, timeout]);
      await Promise.race([this.#request({ op: 'init', requestId: 0, settings, backgroundNiceness: getBackgroundNiceness() }), timeout]);
    } catch (error) {
      // Gone before the caller hears of the failure: a server that counts its session processes
      // (the session limit) must not start the next one while this one still runs.
      const kill = setTimeout(() => this.#child.kill('SIGKILL'), KILL_AFTER_TERM_MS);
      this.#child.kill('SIGTERM');
      await this.#exited;
      clearTimeout(kill);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  #request(message: Extract<HostToSession, { requestId: number }>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('session is closed'));
    const requestId = this.#nextRequest++;
    return new Promise((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject });
      this.#post({ ...message, requestId });
    });
  }

  #post(message: HostToSession): void {
    if (this.#child.connected) this.#child.send(message);
  }

  #onMessage(message: SessionToHost): void {
    switch (message.op) {
      case 'reply': {
        const pending = this.#pending.get(message.requestId);
        this.#pending.delete(message.requestId);
        if (message.error !== undefined) pending?.reject(new Error(message.error));
        else pending?.resolve(message.result);
        return;
      }
      case 'event':
        if (message.event === 'keyframeneeded') this.safeEmit('keyframeneeded', ...message.args);
        else if (message.event === 'speaker') this.safeEmit('speaker', ...message.args);
        else if (message.event === 'decoded') this.safeEmit('decoded', ...message.args);
        else this.safeEmit('compositestart', ...message.args);
        return;
      case 'observer':
        if (message.event === 'layoutchange') this.observer.safeEmit('layoutchange', ...message.args);
        else this.observer.safeEmit('firstframe', ...message.args);
        return;
      case 'stats':
        this.#stats = message.stats;
        return;
      case 'booted':
        return;
    }
  }
}
