import { Worker } from 'node:worker_threads';
import { createLogger } from './logger.ts';
import { getBackgroundNiceness } from './priority.ts';
import type { HostToWorker, SessionWorkerData, WorkerToHost } from './sessionWorkerProtocol.ts';
import { TypedEmitter } from './TypedEmitter.ts';
import type {
  SessionEvents,
  SessionLayout,
  SessionLike,
  SessionObserverEvents,
  SessionParticipant,
  SessionParticipantPorts,
  SessionSettings,
  SessionStats,
} from './SessionTypes.ts';

const log = createLogger('WorkerSession');

const BOOT = new URL('./workerBoot.mjs', import.meta.url);
const ENTRY = new URL('./sessionWorkerMain.ts', import.meta.url).href;
const START_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 15_000;

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * A Session running in a worker thread of its own. The main thread does werift's DTLS
 * handshakes in JavaScript and stalls for hundreds of milliseconds around each join
 * (DESIGN.md); the clocks, the pipes and FFmpeg's supervision must not stall with it.
 */
export class WorkerSession extends TypedEmitter<SessionEvents> implements SessionLike {
  readonly observer = new TypedEmitter<SessionObserverEvents>();
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextRequest = 1;
  #stats: SessionStats;
  #closed = false;
  #closing?: Promise<void>;

  static async create(settings: SessionSettings): Promise<WorkerSession> {
    const session = new WorkerSession(settings);
    await session.#ready();
    return session;
  }

  private constructor(settings: SessionSettings) {
    super();
    const data: SessionWorkerData = { entry: ENTRY, settings, backgroundNiceness: getBackgroundNiceness() };
    this.#worker = new Worker(BOOT, { workerData: data, name: 'mcu-session' });
    this.#stats = {
      participants: 0,
      tiles: [],
      layout: settings.layout,
      compositorFramesWritten: 0,
      compositorTicksSkipped: 0,
      videoClockSkipped: 0,
      decoderRestarts: 0,
      compositorRestarts: 0,
      keyframeRequests: 0,
      compositeKeyframes: 0,
      audio: {},
    };
    this.#worker.on('message', (message: WorkerToHost) => this.#onMessage(message));
    this.#worker.on('error', (error) => log.error({ err: error }, 'session worker failed'));
    this.#worker.once('exit', (code) => {
      const error = new Error(`session worker exited (code ${code})`);
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
      if (!this.#closed) {
        log.error({ code }, 'session worker exited unexpectedly');
        this.#closed = true;
        this.safeEmit('@close');
        this.observer.safeEmit('close');
      }
    });
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
      if (!this.#closed) throw error;
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
      const exited = new Promise<void>((resolve) => this.#worker.once('exit', () => resolve()));
      const timer = setTimeout(() => void this.#worker.terminate(), CLOSE_TIMEOUT_MS);
      await this.#request({ op: 'close', requestId: 0 }).catch((error: unknown) => {
        log.warn({ err: error }, 'session did not close cleanly');
      });
      this.#closed = true;
      await exited;
      clearTimeout(timer);
      this.safeEmit('@close');
      this.observer.safeEmit('close');
    })();
    return this.#closing;
  }

  #ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        void this.#worker.terminate();
        reject(new Error(`session worker did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onMessage = (message: WorkerToHost) => {
        if (message.op !== 'ready') return;
        clearTimeout(timer);
        this.#worker.off('message', onMessage);
        resolve();
      };
      this.#worker.on('message', onMessage);
      this.#worker.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`session worker exited during start (code ${code})`));
      });
    });
  }

  #request(message: Extract<HostToWorker, { requestId: number }>): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error('session is closed'));
    const requestId = this.#nextRequest++;
    return new Promise((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject });
      this.#post({ ...message, requestId });
    });
  }

  #post(message: HostToWorker): void {
    this.#worker.postMessage(message);
  }

  #onMessage(message: WorkerToHost): void {
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
        else this.safeEmit('compositestart', ...message.args);
        return;
      case 'observer':
        if (message.event === 'layoutchange') this.observer.safeEmit('layoutchange', ...message.args);
        else this.observer.safeEmit('firstframe', ...message.args);
        return;
      case 'stats':
        this.#stats = message.stats;
        return;
      case 'ready':
        return;
    }
  }
}
