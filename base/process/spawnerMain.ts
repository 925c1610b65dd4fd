import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { ParentChannel } from './ParentChannel.ts';
import { spawnerProtocol, type SpawnerProtocol } from './spawnerProtocol.ts';

/**
 * The spawner process: starts programs for its session process and hands their pipes over (see
 * Spawner.ts). Starting a program blocks the process that starts it; here that blocks nobody.
 */

process.title = 'mcu-spawner';
/** Running programs by the host's id. */
const children = new Map<number, ChildProcess>();

const channel: ParentChannel<SpawnerProtocol> = new ParentChannel({
  name: 'mcu-spawner',
  protocol: spawnerProtocol,
  requests: {
    spawn: ({ id, file, args, pipes }) =>
      new Promise((resolve, reject) => {
        const child = spawn(file, args, { stdio: Array.from({ length: pipes }, () => 'pipe' as const) });
        children.set(id, child);
        child.once('error', (error) => {
          children.delete(id);
          reject(error);
        });
        child.once('spawn', () => {
          child.stdio.forEach((pipe, fd) => channel.emit('pipe', { id, fd }, (pipe ?? undefined) as Socket | undefined));
          resolve({ pid: child.pid! });
        });
        child.once('exit', (code, signal) => {
          children.delete(id);
          channel.emit('exit', { id, code, signal });
        });
      }),
  },
  notifications: {
    // Requests are read in order: the program of an abandoned id exists here already.
    abandon: ({ id }) => children.get(id)?.kill('SIGKILL'),
  },
});

// Ctrl-C reaches the whole process group: the session stops its programs itself.
process.on('SIGINT', () => {});
// The session process is gone: its programs get SIGTERM (FFmpeg finishes like after `q`), then this ends.
process.on('disconnect', () => {
  for (const child of children.values()) child.kill('SIGTERM');
  const exit = (): void => process.exit(0);
  if (children.size === 0) exit();
  for (const child of children.values()) {
    child.once('exit', () => {
      if (children.size === 0) exit();
    });
  }
  // FFmpeg acts on SIGTERM only between packets: one blocked on an input that will never speak
  // again would outlive us (and its parent-death SIGTERM) as an orphan.
  setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
    exit();
  }, 5000).unref();
});
channel.ready();
