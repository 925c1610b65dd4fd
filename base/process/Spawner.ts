import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withParentDeathSignal } from './parentDeath.ts';
import type { HostToSpawner, SpawnerToHost } from './spawnerProtocol.ts';

const ENTRY = fileURLToPath(new URL('./spawnerMain.ts', import.meta.url));
/** tsx's loader, by path: helper processes run the TypeScript sources like the server does. */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const START_TIMEOUT_MS = 15_000;

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

/** A program the spawner process started: its pipes arrive as handles, then it emits `spawn`. */
class RemoteProcess extends EventEmitter implements LaunchedProcess {
  pid: number | undefined;
  stdio: (Socket | undefined)[] = [];
  #pendingSignal: NodeJS.Signals | undefined;
  #exited = false;

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

  onMessage(message: SpawnerToHost, handle: Socket | undefined): void {
    switch (message.op) {
      case 'spawned':
        this.pid = message.pid;
        return;
      case 'pipe':
        if (handle) this.stdio[message.fd] = handle;
        if (message.fd < this.pipes - 1) return;
        // A program that died at once may have lost a pipe on the way: unusable, it is ended and
        // reported by its exit, never as started.
        if (this.stdio.filter(Boolean).length < this.pipes) {
          this.kill('SIGKILL');
          return;
        }
        this.emit('spawn');
        if (this.#pendingSignal) this.kill(this.#pendingSignal);
        return;
      case 'error':
        this.#exited = true;
        this.emit('error', Object.assign(new Error(message.message), message.code ? { code: message.code } : {}));
        this.emit('close', null, null);
        return;
      case 'exit':
        this.#exited = true;
        this.emit('close', message.code, message.signal);
        return;
    }
  }
}

/**
 * A small process of the session's own that starts its FFmpeg processes and hands their pipes
 * back over the IPC channel. Starting a program forks the process that starts it: in the session
 * process that held its clock for 25-100 ms per FFmpeg on a loaded machine (the composite's
 * longest gaps around joins and leaves); in the spawner it holds up nothing that is timed.
 */
export class Spawner {
  readonly #child: ChildProcess;
  readonly #processes = new Map<number, RemoteProcess>();
  #nextId = 1;

  static async start(): Promise<Spawner> {
    const spawner = new Spawner();
    await spawner.#booted();
    return spawner;
  }

  private constructor() {
    const [file, args] = withParentDeathSignal(process.execPath, ['--import', TSX_LOADER, ENTRY]);
    this.#child = spawn(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (message: SpawnerToHost, handle: Socket | undefined) => {
      if (message.op === 'booted') return;
      const remote = this.#processes.get(message.id);
      remote?.onMessage(message, handle);
      if (message.op === 'exit' || message.op === 'error') this.#processes.delete(message.id);
    });
    this.#child.once('exit', () => {
      // Its programs got SIGTERM with it (parent-death signal); nothing more will be heard of them.
      for (const remote of this.#processes.values()) remote.onMessage({ op: 'exit', id: 0, code: null, signal: 'SIGTERM' }, undefined);
      this.#processes.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  readonly launch: Launcher = (file, args, pipes) => {
    const id = this.#nextId++;
    const remote = new RemoteProcess(pipes);
    this.#processes.set(id, remote);
    const message: HostToSpawner = { op: 'spawn', id, file, args: [...args], pipes };
    if (this.#child.connected) this.#child.send(message);
    else queueMicrotask(() => remote.onMessage({ op: 'error', id, message: 'the spawner process is gone' }, undefined));
    return remote;
  };

  /** Ends the spawner; programs still running get SIGTERM. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    if (this.#child.connected) this.#child.disconnect();
    await exited;
  }

  #booted(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#child.kill('SIGKILL');
        reject(new Error(`spawner process did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      this.#child.on('message', (message: SpawnerToHost) => {
        if (message.op !== 'booted') return;
        clearTimeout(timer);
        resolve();
      });
      this.#child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`spawner process exited during start (code ${code}, signal ${signal})`));
      });
    });
  }
}
