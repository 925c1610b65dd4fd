import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { HostToSpawner, SpawnerToHost } from './spawnerProtocol.ts';

/**
 * The spawner process: starts programs for its session process and hands their pipes over (see
 * Spawner.ts). Starting a program blocks the process that starts it; here that blocks nobody.
 */

process.title = 'mcu-spawner';
if (!process.send) throw new Error('spawnerMain runs only as a child process with an IPC channel');
const send = process.send.bind(process);
const children = new Set<ChildProcess>();

function post(message: SpawnerToHost, pipe?: Readable | Writable | null): void {
  if (!process.connected) return;
  try {
    // A pipe is closed here once sent: the session process owns it from then on. One already
    // gone (the program died at once) goes without its handle; the session then ends it.
    if (pipe && !pipe.destroyed) send(message, pipe as Socket);
    else send(message);
  } catch (error) {
    process.stderr.write(`mcu-spawner: could not hand over a pipe: ${(error as Error).message}\n`);
    send(message);
  }
}

function start({ id, file, args, pipes }: HostToSpawner): void {
  const child = spawn(file, args, { stdio: Array.from({ length: pipes }, () => 'pipe' as const) });
  children.add(child);
  child.once('error', (error: NodeJS.ErrnoException) => {
    children.delete(child);
    post({ op: 'error', id, message: error.message, ...(error.code ? { code: error.code } : {}) });
  });
  child.once('spawn', () => {
    post({ op: 'spawned', id, pid: child.pid! });
    child.stdio.forEach((pipe, fd) => post({ op: 'pipe', id, fd }, pipe));
  });
  child.once('exit', (code, signal) => {
    children.delete(child);
    post({ op: 'exit', id, code, signal });
  });
}

process.on('message', (message: HostToSpawner) => {
  if (message.op === 'spawn') start(message);
});
// Ctrl-C reaches the whole process group: the session stops its programs itself.
process.on('SIGINT', () => {});
// The session process is gone: its programs get SIGTERM (FFmpeg finishes like after `q`), then this ends.
process.on('disconnect', () => {
  for (const child of children) child.kill('SIGTERM');
  const exit = (): void => process.exit(0);
  if (children.size === 0) exit();
  for (const child of children) {
    child.once('exit', () => {
      if (children.size === 0) exit();
    });
  }
  setTimeout(exit, 5000).unref();
});
post({ op: 'booted' });
