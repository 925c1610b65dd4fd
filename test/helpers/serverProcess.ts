import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { descendants } from './processes.ts';
import { settleOnWake } from './wait.ts';

const MAX_LOG_LINES = 20_000;
const MCU = fileURLToPath(new URL('../../bin/mcu.js', import.meta.url));

/** A run of the `mcu` CLI in its own process: its output lines, its exit. */
export class McuProcess {
  readonly stdout: string[] = [];
  stderr = '';
  /** Its last stderr lines (its log), at most MAX_LOG_LINES. */
  readonly logLines: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters = new Set<() => void>();

  /** `wrapper`: a command that runs node, e.g. ['ip', 'netns', 'exec', 'ns1'] (it must exec, keeping the PID). */
  constructor(args: string[], env: Record<string, string> = {}, wrapper: string[] = []) {
    const [file, ...before] = [...wrapper, process.execPath];
    this.#child = spawn(file!, [...before, MCU, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MCU_LOG_LEVEL: 'warn', ...env },
    });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      this.stdout.push(line);
      for (const wake of this.#waiters) wake();
    });
    this.#child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-8000)));
    createInterface({ input: this.#child.stderr! }).on('line', (line) => {
      this.logLines.push(line);
      if (this.logLines.length > MAX_LOG_LINES) this.logLines.shift();
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', (code, signal) => resolve({ code, signal })));
    void this.#exited.then(() => {
      for (const wake of this.#waiters) wake();
    });
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Runs a command to its end: exit code, stdout, stderr. */
  static async run(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const run = new McuProcess(args, env);
    const timer = setTimeout(() => run.#child.kill('SIGKILL'), timeoutMs);
    const { code } = await run.#exited;
    clearTimeout(timer);
    return { code, stdout: run.stdout.join('\n'), stderr: run.stderr };
  }

  /** Resolves with the first stdout line matching `pattern` (seen already or to come). */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (const line of this.stdout) {
          const match = pattern.exec(line);
          if (match) {
            resolve(match);
            return true;
          }
        }
        if (!this.running) {
          reject(new Error(`mcu exited before printing ${pattern}; stderr: ${this.stderr}`));
          return true;
        }
        return false;
      };
      settleOnWake(this.#waiters, check, timeoutMs, () =>
        reject(new Error(`mcu printed no ${pattern} within ${timeoutMs} ms; stdout: ${this.stdout.join('\n')}; stderr: ${this.stderr}`)),
      );
    });
  }

  /** For a server: its base URL, from the line `mcu serve` or `mcu start` prints once listening. */
  async url(timeoutMs = 30_000): Promise<string> {
    const match = await this.waitForLine(/(http:\/\/127\.0\.0\.1:\d+\/)/, timeoutMs);
    return match[1]!;
  }

  /** Sends `signal` and resolves with how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGINT', timeoutMs = 20_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.#child.kill(signal);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const result = await this.#exited;
    clearTimeout(timer);
    return result;
  }

  /**
   * The harshest crash: SIGKILL to the server and to every process below it at the same
   * moment, so nothing (not even FFmpeg's own SIGTERM handling) finishes the file afterwards.
   * Resolves with the time of the kill (ms since epoch) and the PIDs killed.
   */
  async killWithChildren(): Promise<{ at: number; pids: number[] }> {
    const pids = [...descendants(this.pid).keys()];
    const at = Date.now();
    for (const pid of [this.pid, ...pids]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.#exited;
    return { at, pids };
  }

  whenExited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.#exited;
  }
}
