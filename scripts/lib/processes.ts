/**
 * Small helpers for scripts that start processes: free ports, bounded waits, commands run with an
 * argument array (never a shell) and a time limit, and a stop that always ends with nothing left.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { descendants, isAlive, processDetails } from './procStats.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs a program to completion and returns its stdout; rejects with the end of its stderr. */
export function runCommand(binary: string, args: string[], timeoutMs: number, maxBuffer = 16 * 2 ** 20): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${binary} ${args.slice(0, 6).join(' ')}…: ${String(stderr).trim().slice(-800) || error.message}`));
      else resolve(String(stdout));
    });
  });
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGKILL for each PID that is still alive and still the program we expect (no PID reuse accidents). */
export function killLeftovers(pids: number[], expected: RegExp = /ffmpeg|node/): number[] {
  const killed: number[] = [];
  for (const pid of pids) {
    if (!isAlive(pid)) continue;
    const details = processDetails(pid);
    if (!details || !expected.test(`${details.comm} ${details.args[0] ?? ''}`)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/**
 * Stops a child gracefully with `signal`; if it is not gone after `graceMs`, SIGKILLs it and
 * every descendant it had. Descendants that outlive a clean exit are killed too. Returns the
 * PIDs that had to be killed.
 */
export async function stopTree(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGINT'): Promise<number[]> {
  const pid = child.pid;
  if (pid === undefined) return [];
  const family = descendants(pid);
  const done = exited(child);
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const inTime = await Promise.race([done.then(() => true), sleep(graceMs).then(() => false)]);
  const killed: number[] = [];
  if (!inTime) {
    family.push(...descendants(pid).filter((p) => !family.includes(p)));
    try {
      child.kill('SIGKILL');
      killed.push(pid);
    } catch {
      // gone meanwhile
    }
    await withTimeout(done, 5000, `exit of ${pid} after SIGKILL`).catch(() => {});
  }
  // Children of a process that exited are re-parented; give them a moment, then make sure.
  if (family.some(isAlive)) await sleep(1500);
  killed.push(...killLeftovers(family));
  return killed;
}
