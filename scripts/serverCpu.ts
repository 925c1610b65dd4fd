/**
 * Measures the server's CPU (node and every FFmpeg child, as a share of one core) and memory
 * with N bots publishing, each bot in its own process so its CPU is not the server's.
 *   node --import tsx scripts/serverCpu.ts [bots=4] [seconds=10]
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BotProcess } from '../test/helpers/bots.ts';
import { longestGap, readFrameLog } from '../test/helpers/frameLog.ts';
import { cpuShare, sampleTree } from './lib/procStats.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bots = Number(process.argv[2] ?? 4);
const seconds = Number(process.argv[3] ?? 10);
const port = 20000 + Math.floor(Math.random() * 10000);
const MCU = fileURLToPath(new URL('../bin/mcu.js', import.meta.url));
const colors = ['red', 'lime', 'blue', 'yellow', 'white', 'cyan', 'magenta', 'orange', 'purple'];

const server = spawn(process.execPath, [MCU, 'serve', '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MCU_LOG_LEVEL: 'warn' } });
await new Promise<void>((resolve, reject) => {
  server.stdout.once('data', () => resolve());
  server.once('exit', (code) => reject(new Error(`server exited ${code}`)));
});
const dir = mkdtempSync(join(tmpdir(), 'mcu-cpu-'));
const url = `ws://127.0.0.1:${port}/socket`;
const running: BotProcess[] = [];
try {
  for (let i = 0; i < bots; i++) {
    const bot = new BotProcess({ url, room: 'cpu', name: `bot${i}`, color: colors[i % colors.length], tone: 300 + 150 * i, frameLog: join(dir, `bot${i}.frames`) });
    running.push(bot);
    await bot.waitForStart();
  }
  await new Promise((r) => setTimeout(r, 3000));
  const before = sampleTree(server.pid!);
  const from = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const after = sampleTree(server.pid!);
  const to = Date.now();
  const frames = readFrameLog(join(dir, 'bot0.frames'));
  const fps = frames.filter((t) => t >= from && t <= to).length / ((to - from) / 1000);
  const result = {
    bots,
    seconds,
    serverCpuShareOfOneCore: Number(cpuShare(before, after).toFixed(3)),
    serverRssMiB: Math.round(after.rssBytes / 2 ** 20),
    serverProcesses: after.processes,
    compositeFpsAtBot0: Number(fps.toFixed(1)),
    longestGapAtBot0Ms: longestGap(frames, from, to),
  };
  console.log(JSON.stringify(result));
} finally {
  await Promise.all(running.map((b) => b.stop()));
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
