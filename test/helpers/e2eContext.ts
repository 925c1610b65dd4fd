import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { ServerConfig } from '../../src/config.ts';
import type { RunningServer } from '../../src/server.ts';
import { BotProcess, type BotSpec } from './bots.ts';
import { ffmpegChildren, sessionProcesses } from './processes.ts';
import { startTestServer } from './testServer.ts';

/** What an end-to-end suite shares: a server, a folder for recordings and logs, its bots. */
export interface E2eContext {
  readonly server: RunningServer;
  readonly dir: string;
  readonly bots: BotProcess[];
  /** Starts a bot in its own process on this server; it is stopped after the suite. */
  bot(spec: Omit<BotSpec, 'url'>): BotProcess;
}

/**
 * Registers the suite's set-up and tear-down: a real server on loopback (configured by
 * `serverConfig` from the suite's folder, e.g. to record into it) before, every bot
 * stopped, the server closed and the folder removed after (kept with KEEP_E2E=1).
 */
export function e2eContext(prefix: string, serverConfig: (dir: string) => Partial<ServerConfig> = () => ({})): E2eContext {
  let server: RunningServer | undefined;
  let dir: string | undefined;
  const bots: BotProcess[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `mcu-${prefix}-`));
    server = await startTestServer(serverConfig(dir));
  });
  afterAll(async () => {
    await Promise.all(bots.map((b) => b.stop()));
    await server?.close();
    // A closed server has ended every session process, spawner and FFmpeg it started.
    const left = [...sessionProcesses(), ...ffmpegChildren()];
    if (dir && process.env.KEEP_E2E) console.log(`kept ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
    expect(left, 'processes left by the closed server').toEqual([]);
  });
  const context: E2eContext = {
    get server() {
      if (!server) throw new Error('the server starts in beforeAll');
      return server;
    },
    get dir() {
      if (!dir) throw new Error('the folder is made in beforeAll');
      return dir;
    },
    bots,
    bot(spec) {
      const bot = new BotProcess({ url: context.server.socketUrl, ...spec });
      bots.push(bot);
      return bot;
    },
  };
  return context;
}
