import { spawn, type ChildProcess } from 'node:child_process';
import { getPriority } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { niceCommand } from '../../base/process/priority.ts';

const MCU = fileURLToPath(new URL('../../bin/mcu.js', import.meta.url));

export interface BotEvent {
  event: string;
  [key: string]: unknown;
}

export interface BotSpec {
  url: string;
  room: string;
  name: string;
  color?: string;
  tone?: number;
  /** A media file published in a loop instead of the synthetic source (`--file --loop`). */
  file?: string;
  viewer?: boolean;
  noVideo?: boolean;
  record?: string;
  frameLog?: string;
  size?: string;
  fps?: number;
  bitrate?: number;
  /** The only video codec the bot offers and publishes. */
  codec?: 'vp8' | 'h264';
  /** Draw the wall-clock time as a code in the published picture (`--timecode`). */
  timecode?: boolean;
  /**
   * A bot whose received frames the test measures. Bots stand for other machines: by default
   * one runs at normal priority, below the in-process server's boosted media path (see
   * base/process/priority.ts); a measuring bot runs at the media path's priority, so that what it logs
   * is what the server sent and not how the two cores were shared out.
   */
  measures?: boolean;
  /** Percentage of its RTP packets the bot drops on their way out (`--uplink-loss`). */
  uplinkLoss?: number;
  /** Seconds it may take to connect (`--timeout`, default 15). */
  timeout?: number;
  /** A join token (`--token`), for a server with API keys. */
  token?: string;
  /** More environment, e.g. NODE_EXTRA_CA_CERTS for a server with a self-signed certificate. */
  env?: Record<string, string>;
  /** A command that runs the bot's command, e.g. ['ip', 'netns', 'exec', 'ns1'] (it must exec, keeping the PID). */
  wrapper?: string[];
}

const NORMAL_NICE = 0;

/**
 * How long a bot may take to start, join and connect in a test. A fresh-clone run beside the
 * quick lane's process-heavy files took over 20 s for a viewer bot to say it had joined (node and
 * its modules loading at load 8 on two cores): a test waits rather than fail on that.
 */
export const BOT_START_MS = 60_000;

/** A publisher that only adds load to a test: small and slow. */
export const LIGHT_BOT = { size: '320x180', fps: 15, bitrate: 150 } as const satisfies Partial<BotSpec>;

/** A bot in its own OS process (`mcu bot`), with its JSON-line events. */
export class BotProcess {
  readonly name: string;
  readonly events: BotEvent[] = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly #exited: Promise<number | null>;
  stderr = '';

  constructor(spec: BotSpec) {
    this.name = spec.name;
    const args = [MCU, 'bot', '--url', spec.url, '--room', spec.room, '--name', spec.name];
    if (spec.color) args.push('--color', spec.color);
    if (spec.tone !== undefined) args.push('--tone', String(spec.tone));
    if (spec.file) args.push('--file', spec.file, '--loop');
    if (spec.viewer) args.push('--viewer');
    if (spec.noVideo) args.push('--no-video');
    if (spec.record) args.push('--record', spec.record);
    if (spec.frameLog) args.push('--frame-log', spec.frameLog);
    if (spec.size) args.push('--size', spec.size);
    if (spec.fps) args.push('--fps', String(spec.fps));
    if (spec.bitrate) args.push('--bitrate', String(spec.bitrate));
    if (spec.codec) args.push('--codec', spec.codec);
    if (spec.timecode) args.push('--timecode');
    if (spec.uplinkLoss) args.push('--uplink-loss', String(spec.uplinkLoss));
    if (spec.token) args.push('--token', spec.token);
    // The bot's own give-up (its default is 15 s) within the test's bound: see BOT_START_MS.
    args.push('--timeout', String(spec.timeout ?? (BOT_START_MS - 10_000) / 1000));
    // Its receiving at the media path's priority, its own encoding and recording at normal priority.
    if (spec.measures && getPriority() < NORMAL_NICE) args.push('--ffmpeg-nice', String(NORMAL_NICE - getPriority()));
    const nice = spec.measures ? getPriority() : NORMAL_NICE;
    const [nicedFile, nicedArgv] = niceCommand(process.execPath, args, nice - getPriority());
    const [file, ...argv] = [...(spec.wrapper ?? []), nicedFile, ...nicedArgv];
    this.#child = spawn(file!, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, MCU_LOG_LEVEL: process.env.MCU_BOT_LOG_LEVEL ?? 'warn', ...spec.env },
    });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as BotEvent);
      } catch {
        return;
      }
      for (const wake of this.#waiters) wake();
    });
    // A bot that has exited closes its end: a late command must not crash the test.
    this.#child.stdin!.on('error', () => {});
    this.#child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    void this.#exited.then(() => {
      for (const wake of this.#waiters) wake();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Resolves with the first event (already seen or future) matching `predicate`. */
  waitFor(predicate: (e: BotEvent) => boolean, timeoutMs: number, what = 'event'): Promise<BotEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
          return true;
        }
        if (!this.running) {
          cleanup();
          reject(new Error(`bot ${this.name} exited before ${what}; stderr: ${this.stderr}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        const seen = this.events.slice(-5).map((e) => e.event).join(', ') || 'none';
        reject(new Error(`bot ${this.name}: no ${what} within ${timeoutMs} ms; its last events: ${seen}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      const wake = () => void check();
      if (!check()) this.#waiters.add(wake);
    });
  }

  /** Waits for the bot to have joined or connected, within BOT_START_MS. */
  waitForStart(event: 'joined' | 'connected' = 'connected', what: string = event): Promise<BotEvent> {
    return this.waitFor((e) => e.event === event, BOT_START_MS, what);
  }

  /** Waits until the bot has received `frames` composite frames in total. */
  waitForFrames(frames: number, timeoutMs: number): Promise<BotEvent> {
    return this.waitFor((e) => e.event === 'stats' && Number(e.videoFrames) >= frames, timeoutMs, `${frames} frames`);
  }

  latestStats(): BotEvent | undefined {
    return [...this.events].reverse().find((e) => e.event === 'stats' || e.event === 'left');
  }

  /** Leaves gracefully (SIGINT); SIGKILL if it does not exit in time. Resolves with the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.running) this.#child.kill('SIGINT');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }

  /** Stops its video, or starts it again at the next keyframe (SIGUSR2 toggles). */
  toggleVideo(): void {
    if (this.running) this.#child.kill('SIGUSR2');
  }

  /** Switches its video between its size and half of it (SIGUSR1): a browser adapting its resolution. */
  toggleVideoSize(): void {
    if (this.running) this.#child.kill('SIGUSR1');
  }

  /** Sends the server a PLI or FIR about the composite it receives (a `keyframerequest` event says when). */
  requestKeyframe(kind: 'pli' | 'fir'): void {
    if (this.running) this.#child.stdin!.write(`${kind}\n`);
  }

  /** Freezes (SIGSTOP): its socket and its peer go silent without closing, like a lost network. */
  freeze(): void {
    if (this.running) this.#child.kill('SIGSTOP');
  }

  /** Dies without leaving: the socket drops as the kernel closes it. */
  async kill(): Promise<void> {
    if (this.running) this.#child.kill('SIGKILL');
    await this.#exited;
  }
}
