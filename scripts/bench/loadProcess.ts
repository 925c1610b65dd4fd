/**
 * `mcu loadtest` in its own process, as the bench's participants: its window markers on stderr
 * ("window open", "window closed") tell the bench when to sample the server, and its JSON
 * summary comes on stdout when it has left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { niceCommand } from '../../base/process/priority.ts';
import type { LoadTestSummary } from '../../src/loadtest/LoadTestTypes.ts';
import { stopTree } from '../lib/processes.ts';
import { MCU } from './server.ts';

export interface LoadProcessOptions {
  url: string;
  room: string;
  publishers: number;
  /** Publisher i draws palette colour colourOffset + i. */
  colourOffset: number;
  windowSeconds: number;
  warmupSeconds: number;
  /** Nice levels below the bench (it stands in for clients on other machines). */
  nice: number;
  cacheDir: string;
  video: { width: number; height: number; fps: number; bitrateKbps: number };
  clipSeconds: number;
  logPath: string;
  /** Publishers that send a tone (the first ones; the others send silence); default all. */
  speakers?: number;
}

export class LoadProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #stdout = '';
  readonly #markers = new Map<'open' | 'closed', number>();
  readonly #waiters = new Set<() => void>();
  readonly #lastLines: string[] = [];

  constructor(o: LoadProcessOptions) {
    const args = [
      MCU, 'loadtest', '--url', o.url, '--room', o.room, '--publishers', String(o.publishers), '--colour-offset', String(o.colourOffset),
      '--duration', String(o.windowSeconds), '--warmup', String(o.warmupSeconds), '--cache', o.cacheDir,
      '--size', `${o.video.width}x${o.video.height}`, '--fps', String(o.video.fps), '--bitrate', String(o.video.bitrateKbps),
      '--clip-seconds', String(o.clipSeconds), '--timeout', '30', '--status-interval', '1',
      // The bench sets its priority (--load-nice): it must not raise itself above the server it measures.
      '--priority-boost', '0',
      ...(o.speakers !== undefined ? ['--speakers', String(o.speakers)] : []),
    ];
    const [file, argv] = niceCommand(process.execPath, args, o.nice);
    this.#child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCU_LOG_LEVEL: 'warn' } });
    const log = createWriteStream(o.logPath);
    this.#child.stdout!.on('data', (d: Buffer) => (this.#stdout += d.toString()));
    createInterface({ input: this.#child.stderr! }).on('line', (line) => {
      log.write(`${line}\n`);
      this.#lastLines.push(line);
      if (this.#lastLines.length > 8) this.#lastLines.shift();
      if (line.includes('mcu loadtest: window open')) this.#markers.set('open', Date.now());
      if (line.includes('mcu loadtest: window closed')) this.#markers.set('closed', Date.now());
      for (const wake of this.#waiters) wake();
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
    void this.#exited.then(() => {
      log.end();
      for (const wake of this.#waiters) wake();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** The last lines it printed on stderr (progress, status, errors). */
  get tail(): string {
    return this.#lastLines.join(' / ');
  }

  /** Resolves with the wall-clock time (this process's) of the marker, or rejects if the process ends or the time runs out first. */
  waitFor(marker: 'open' | 'closed', timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`the load generator did not report its window ${marker} within ${Math.round(timeoutMs / 1000)} s: ${this.tail}`)), timeoutMs);
      const check = (): void => {
        const at = this.#markers.get(marker);
        if (at !== undefined) done(undefined, at);
        else if (!this.running) done(new Error(`the load generator exited before its window was ${marker}: ${this.tail}`));
      };
      const done = (error?: Error, at?: number): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error) reject(error);
        else resolve(at!);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Waits for it to leave and returns its summary; stops it (SIGINT, then harder) if it takes longer than `timeoutMs`. */
  async summary(timeoutMs: number): Promise<{ summary: LoadTestSummary | null; killed: number[] }> {
    const inTime = await Promise.race([this.#exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
    const killed = inTime ? [] : await stopTree(this.#child, 25_000);
    await this.#exited;
    try {
      return { summary: JSON.parse(this.#stdout) as LoadTestSummary, killed };
    } catch {
      return { summary: null, killed };
    }
  }

  stop(): Promise<number[]> {
    return stopTree(this.#child, 25_000);
  }
}
