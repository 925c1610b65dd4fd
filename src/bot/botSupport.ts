import type { Socket } from 'node:dgram';
import { createWriteStream, type WriteStream } from 'node:fs';
import { createLogger } from '../../base/log/logger.ts';
import { bindLoopbackUdp } from '../../base/net/loopbackSocket.ts';

/** What the bot's parts share: the lifecycle they answer to, and small I/O helpers. */

const log = createLogger('Bot');

export type Kind = 'audio' | 'video';

/** The bot's lifecycle as its parts (sender, receiver, recorder) see it. */
export interface BotLife {
  /** Starting or running: a part may still create things. */
  alive(): boolean;
  running(): boolean;
  /** Throws once `start()` has failed or `stop()` was called: nothing new may be created then. */
  assertStarting(): void;
  /** Something the bot cannot go on without failed: rejects `start()`, or stops a running bot. */
  fail(error: Error): void;
}

export function bindLoopback(): Promise<Socket> {
  return bindLoopbackUdp((error) => log.warn({ err: error }, 'udp socket error'));
}

export function openAppend(path: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(path, { flags: 'a' });
    stream.once('error', reject);
    stream.once('open', () => {
      stream.off('error', reject);
      stream.on('error', (error) => log.error({ err: error, path }, 'frame log write failed'));
      resolve(stream);
    });
  });
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
