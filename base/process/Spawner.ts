import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ChildChannel } from './ChildChannel.ts';
import { ChildExitedError, RequestTimeoutError } from './errors.ts';
import { spawnerProtocol, type SpawnerProtocol } from './spawnerProtocol.ts';

const ENTRY = fileURLToPath(new URL('./spawnerMain.ts', import.meta.url));
/**
 * Booting Node and the spawner's code: under a second on a quiet machine; a fresh-clone test run
 * beside the fuzz test took over 15 s. As for the session process, a server waits rather than fail.
 */
const START_TIMEOUT_MS = 30_000;
/** A program's start takes milliseconds; a spawner this late is stuck. */
const SPAWN_TIMEOUT_MS = 15_000;

/**
 * What FfmpegProcess needs of a started program: Node's ChildProcess, or a RemoteProcess. Its
 * `stdio` may fill in after `spawn`; `close` carries the exit code and signal.
 */
export interface LaunchedProcess extends EventEmitter {
  readonly pid?: number | undefined;
  readonly stdio: readonly (Readable | Writable | null | undefined)[];
  kill(signal: NodeJS.Signals): boolean;
}

/** Starts `file` with `pipes` pipes as its fds 0, 1, 2, ... */
export type Launcher = (file: string, args: readonly string[], pipes: number) => LaunchedProcess;

export const launchHere: Launcher = (file, args, pipes) =>
  spawn(file, [...args], { stdio: Array.from({ length: pipes }, () => 'pipe' as const) });

/**
 * A program the spawner process started: its pipes arrive as handles, then the answer to its
 * spawn request, then it emits `spawn`. Its exit may be read before that answer is (several
 * messages in one read): it waits until the start is settled, so `spawn` always comes first.
 */
class RemoteProcess extends EventEmitter implements LaunchedProcess {
  pid: number | undefined;
  stdio: (Socket | undefined)[] = [];
  #pendingSignal: NodeJS.Signals | undefined;
  #settled = false;
  #exited = false;
  #exitBeforeSettled: [number | null, NodeJS.Signals | null] | undefined;

  constructor(readonly pipes: number) {
    super();
  }

  kill(signal: NodeJS.Signals): boolean {
    if (this.#exited) return false;
    if (this.pid === undefined) {
      this.#pendingSignal = signal;
      return true;
    }
    try {
      return process.kill(this.pid, signal);
    } catch {
      return false;
    }
  }

  pipe(fd: number, handle: Socket | undefined): void {
    if (handle) this.stdio[fd] = handle;
  }

  started(pid: number): void {
    this.pid = pid;
    this.#settled = true;
    // A program that died at once may have lost a pipe on the way: unusable, it is ended and
    // reported by its exit, never as started.
    if (this.stdio.filter(Boolean).length < this.pipes) this.kill('SIGKILL');
    else {
      this.emit('spawn');
      if (this.#pendingSignal) this.kill(this.#pendingSignal);
    }
    if (this.#exitBeforeSettled) this.exited(...this.#exitBeforeSettled);
  }

  failed(error: Error): void {
    this.#settled = true;
    // The spawner died: its programs got SIGTERM with it (parent-death signal).
    if (error instanceof ChildExitedError) return this.exited(null, 'SIGTERM');
    this.#exited = true;
    this.emit('error', error);
    this.emit('close', null, null);
  }

  exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exited) return;
    if (!this.#settled) {
      this.#exitBeforeSettled = [code, signal];
      return;
    }
    this.#exited = true;
    this.emit('close', code, signal);
  }
}

/**
 * A small process of the session's own that starts its FFmpeg processes and hands their pipes
 * back over the IPC channel. Starting a program forks the process that starts it: in the session
 * process that held its clock for 25-100 ms per FFmpeg on a loaded machine (the composite's
 * longest gaps around joins and leaves); in the spawner it holds up nothing that is timed.
 */
export class Spawner {
  readonly #channel: ChildChannel<SpawnerProtocol>;
  readonly #processes = new Map<number, RemoteProcess>();
  #nextId = 1;

  static async start(): Promise<Spawner> {
    const channel = await ChildChannel.start({ name: 'spawner process', entry: ENTRY, protocol: spawnerProtocol, requestTimeoutMs: SPAWN_TIMEOUT_MS }, START_TIMEOUT_MS);
    return new Spawner(channel);
  }

  private constructor(channel: ChildChannel<SpawnerProtocol>) {
    this.#channel = channel;
    channel.on('pipe', ({ id, fd }, handle) => {
      const remote = this.#processes.get(id);
      if (remote) remote.pipe(fd, handle);
      else handle?.destroy();
    });
    channel.on('exit', ({ id, code, signal }) => {
      this.#processes.get(id)?.exited(code, signal as NodeJS.Signals | null);
      this.#processes.delete(id);
    });
    void channel.exited.then(() => {
      // Its programs got SIGTERM with it (parent-death signal); nothing more will be heard of them.
      for (const remote of this.#processes.values()) remote.exited(null, 'SIGTERM');
      this.#processes.clear();
    });
  }

  get pid(): number | undefined {
    return this.#channel.pid;
  }

  readonly launch: Launcher = (file, args, pipes) => {
    const id = this.#nextId++;
    const remote = new RemoteProcess(pipes);
    this.#processes.set(id, remote);
    this.#channel.request('spawn', { id, file, args: [...args], pipes }).then(
      ({ pid }) => remote.started(pid),
      (error: Error) => {
        if (error instanceof RequestTimeoutError) this.#channel.notify('abandon', { id });
        this.#processes.delete(id);
        remote.failed(error);
      },
    );
    return remote;
  };

  /** Ends the spawner; programs still running get SIGTERM. */
  async close(): Promise<void> {
    if (this.#channel.hasExited) return;
    this.#channel.disconnect();
    await this.#channel.exited;
  }
}
