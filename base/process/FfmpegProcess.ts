import type { Readable, Writable } from 'node:stream';
import { FfmpegError } from './errors.ts';
import { createLogger } from '../log/logger.ts';
import { withParentDeathSignal } from './parentDeath.ts';
import { launchHere, type LaunchedProcess, type Launcher } from './Spawner.ts';
import { getBackgroundNiceness, niceCommand, raiseToCallerPriority } from './priority.ts';
import { TypedEmitter } from '../TypedEmitter.ts';

const log = createLogger('FfmpegProcess');

const STDERR_TAIL_LINES = 15;
/** How long FFmpeg gets to finish after `q`/SIGINT (a muxer writing its index), then SIGTERM. */
const GRACEFUL_STOP_MS = 3000;
const TERM_STOP_MS = 1000;

export type FfmpegProcessEvents = {
  /** Its pipes exist (see whenStarted). */
  started: [];
  /** A line FFmpeg wrote on stderr (e.g. `showinfo`'s, which a reader of decoded frames needs). */
  stderrline: [line: string];
  /** The process is gone; `expected` is true when we asked it to stop. */
  exit: [{ code: number | null; signal: NodeJS.Signals | null; expected: boolean; stderrTail: string }];
};

export interface FfmpegProcessOptions {
  /** Short name for logs, e.g. `decoder video alice`. */
  name: string;
  args: string[];
  /** Extra writable pipes after stdio 0-2 (fd 3, 4, ...), for raw inputs beyond stdin. */
  extraInputPipes?: number;
  /** When stdin is FFmpeg's control channel (not a data input), stop sends `q` there. */
  stdinIsControl?: boolean;
  /** A job that ends by itself (a repair, a probe): its exit is expected, whatever its code. */
  job?: boolean;
  binary?: string;
  /** Background work (decoders, mix encoders): started below the media path's priority (priority.ts). */
  background?: boolean;
  /**
   * How long stop() waits after `q`/SIGINT before SIGTERM (default 3 s). FFmpeg acts on the first
   * signal only between packets; the second interrupts a read that waits for input which will
   * not come (a network input gone quiet), so a process with nothing to finish asks sooner.
   */
  stopGraceMs?: number;
}

const live = new Set<FfmpegProcess>();
let launcher: Launcher = launchHere;

const NOT_FOUND_EXIT = 127;

function installHint(binary: string): string {
  return `${binary} not found: install FFmpeg (sudo apt-get install ffmpeg)`;
}

/**
 * One supervised FFmpeg child: spawned from an argument array (never a shell), its stderr kept
 * as a short tail for errors, stopped gracefully (`q` or SIGINT) before SIGTERM and SIGKILL.
 */
export class FfmpegProcess extends TypedEmitter<FfmpegProcessEvents> {
  readonly name: string;
  readonly #child: LaunchedProcess;
  #started: boolean;
  readonly #stdinIsControl: boolean;
  readonly #job: boolean;
  readonly #stopGraceMs: number;
  #background: boolean;
  readonly #stderrLines: string[] = [];
  #stopping = false;
  #exited = false;
  readonly #exitPromise: Promise<void>;

  /** How processes are started from now on in this process (a session process: its Spawner). */
  static useLauncher(next: Launcher): void {
    launcher = next;
  }

  /** Processes started and not yet exited: tests assert this is empty at the end. */
  static liveProcesses(): ReadonlySet<FfmpegProcess> {
    return live;
  }

  /** Stops every process still running; used on server shutdown. */
  static async stopAll(): Promise<void> {
    await Promise.all([...live].map((p) => p.stop()));
  }

  constructor(options: FfmpegProcessOptions) {
    super();
    this.name = options.name;
    this.#stdinIsControl = options.stdinIsControl ?? false;
    this.#job = options.job ?? false;
    this.#stopGraceMs = options.stopGraceMs ?? GRACEFUL_STOP_MS;
    this.#background = options.background ?? false;
    const binary = options.binary ?? process.env.MCU_FFMPEG ?? 'ffmpeg';
    const pipes = 3 + (options.extraInputPipes ?? 0);
    log.debug({ name: this.name, command: [binary, ...options.args].join(' ') }, 'spawning ffmpeg');
    const [file, args] = withParentDeathSignal(...niceCommand(binary, options.args, this.#background ? getBackgroundNiceness() : 0));
    // setpriv or nice in front: a missing FFmpeg shows as their exit code 127, not as ENOENT.
    const wrapped = file !== binary;
    this.#child = launcher(file, args, pipes);
    live.add(this);
    this.#started = this.#child.stdio.length === pipes;
    if (this.#started) this.#onStarted();
    else {
      this.#child.once('spawn', () => {
        this.#started = true;
        this.#onStarted();
        this.safeEmit('started');
      });
    }

    this.#exitPromise = new Promise((resolve) => {
      this.#child.once('error', (error) => {
        this.#stderrLines.push(error.message);
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') this.#stderrLines.push(installHint(binary));
      });
      this.#child.once('close', (code, signal) => {
        if (code === NOT_FOUND_EXIT && wrapped) this.#stderrLines.push(installHint(binary));
        this.#exited = true;
        live.delete(this);
        const expected = this.#stopping || this.#job;
        const stderrTail = this.stderrTail;
        if (!expected) log.warn({ name: this.name, code, signal, stderrTail }, 'ffmpeg exited unexpectedly');
        else log.debug({ name: this.name, code, signal }, 'ffmpeg exited');
        this.safeEmit('exit', { code, signal, expected, stderrTail });
        resolve();
      });
    });
  }

  /** Reads stderr into the tail kept for errors; its pipes exist from here on. */
  #onStarted(): void {
    let stderrRest = '';
    const stderr = this.#child.stdio[2] as Readable | undefined;
    stderr?.setEncoding('utf8');
    stderr?.on('data', (chunk: string) => {
      const lines = (stderrRest + chunk).split(/\r?\n|\r/);
      stderrRest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        this.#stderrLines.push(line);
        if (this.#stderrLines.length > STDERR_TAIL_LINES) this.#stderrLines.shift();
        log.debug({ name: this.name }, line);
        this.safeEmit('stderrline', line);
      }
    });
    // A pipe closing under us (EPIPE) is reported through `exit`, not as an uncaught error.
    for (const stream of this.#child.stdio) stream?.on('error', () => {});
  }

  /**
   * Calls `callback` once the pipes exist: at once for a process started here, after the
   * spawner's reply for one it started (see useLauncher), never if it failed to start.
   */
  whenStarted(callback: () => void): void {
    if (this.#started) callback();
    else this.once('started', callback);
  }

  get started(): boolean {
    return this.#started;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Background work that became urgent (a standby compositor taken into use): media priority from now on. */
  raisePriority(): void {
    if (!this.#background || this.#child.pid === undefined || getBackgroundNiceness() === 0) return;
    this.#background = false;
    if (!raiseToCallerPriority(this.#child.pid)) log.warn({ name: this.name }, 'could not raise the priority of a process started as background work');
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get stderrTail(): string {
    return this.#stderrLines.join('\n');
  }

  /** Its pipes exist once started (see whenStarted); a process started here is started at once. */
  get stdin(): Writable {
    return this.#child.stdio[0] as Writable;
  }

  get stdout(): Readable {
    return this.#child.stdio[1] as Readable;
  }

  /** Writable pipe for FFmpeg's input `pipe:fd` (fd 0 is stdin, 3+ are extra pipes). */
  inputPipe(fd: number): Writable {
    return this.#child.stdio[fd] as Writable;
  }

  /** Resolves when the process has exited, for whatever reason. */
  whenExited(): Promise<void> {
    return this.#exitPromise;
  }

  /** Rejects with the stderr tail if the process exits before `ready` resolves. */
  async untilReady<T>(ready: Promise<T>, what: string): Promise<T> {
    if (this.#exited) throw new FfmpegError(`${this.name} exited before ${what}`, this.stderrTail);
    let onExit: (() => void) | undefined;
    const died = new Promise<never>((_, reject) => {
      onExit = () => reject(new FfmpegError(`${this.name} exited before ${what}`, this.stderrTail));
      this.once('exit', onExit);
    });
    try {
      return await Promise.race([ready, died]);
    } finally {
      if (onExit) this.off('exit', onExit);
    }
  }

  /** Graceful stop: `q` (or EOF on a data stdin, plus SIGINT), then SIGTERM, then SIGKILL. Idempotent. */
  async stop(): Promise<void> {
    if (this.#exited) return;
    if (!this.#stopping) {
      this.#stopping = true;
      const stdin = this.#child.stdio[0] as Writable | undefined;
      if (this.#stdinIsControl && stdin?.writable) stdin.write('q');
      else this.#child.kill('SIGINT');
      const timers = [
        setTimeout(() => this.#child.kill('SIGTERM'), this.#stopGraceMs),
        setTimeout(() => this.#child.kill('SIGKILL'), this.#stopGraceMs + TERM_STOP_MS),
      ];
      void this.#exitPromise.then(() => timers.forEach(clearTimeout));
    }
    await this.#exitPromise;
  }
}
