/** The server under measurement: `mcu serve` in its own process, and what each of its processes is. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processDetails, processShares, type TreeSample } from '../lib/procStats.ts';
import { exited, stopTree, withTimeout } from '../lib/processes.ts';
import { round } from './numbers.ts';

export const MCU = fileURLToPath(new URL('../../bin/mcu.js', import.meta.url));
const SERVER_START_MS = 20_000;
const SERVER_STOP_MS = 15_000;

export interface RoleCpu {
  role: string;
  processes: number;
  cpu: number;
}

export interface ServerProcess {
  child: ChildProcess;
  log: string[];
}

/** Starts `mcu serve` on loopback with room for `maxParticipants` (and `extraArgs`); resolves once it says it runs. */
export async function startServer(port: number, logPath: string, maxParticipants: number, extraArgs: string[] = []): Promise<ServerProcess> {
  const args = [MCU, 'serve', '--host', '127.0.0.1', '--port', String(port), '--max-participants', String(maxParticipants), ...extraArgs];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCU_LOG_LEVEL: process.env.MCU_BENCH_SERVER_LOG_LEVEL ?? 'warn' },
  });
  const log: string[] = [];
  const file = createWriteStream(logPath);
  child.stderr!.on('data', (d: Buffer) => {
    file.write(d);
    log.push(d.toString());
    if (log.length > 50) log.shift();
  });
  child.once('exit', () => file.end());
  let stdout = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('Mixer running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready: ${log.join('').slice(-600)}`)));
    child.once('error', reject);
  });
  try {
    await withTimeout(ready, SERVER_START_MS, 'server start');
  } catch (error) {
    await stopTree(child, 3000);
    throw error;
  }
  return { child, log };
}

/** Stops the server gracefully (harsher after SERVER_STOP_MS) and waits for its exit; nothing if it did not start. */
export async function stopServer(server: ServerProcess | undefined): Promise<void> {
  if (!server) return;
  await stopTree(server.child, SERVER_STOP_MS);
  await withTimeout(exited(server.child), 5000, 'server exit').catch(() => {});
}

/** What one process of the server's tree is, from its command line. */
export function roleOf(pid: number, serverPid: number): string {
  if (pid === serverPid) return 'server node';
  const details = processDetails(pid);
  if (!details) return 'gone';
  const args = details.args.join(' ');
  if (details.comm !== 'ffmpeg') return details.comm;
  if (args.includes('-filter_complex')) return 'ffmpeg compositor';
  if (args.includes('.sdp') && args.includes('rawvideo')) return 'ffmpeg video decoder';
  if (args.includes('.sdp') && args.includes('s16le')) return 'ffmpeg audio decoder';
  if (args.includes('libopus')) return 'ffmpeg audio encoder';
  return `ffmpeg other (${args.replace(/^\S+\s+/, '').slice(0, 120)})`;
}

/** The server's CPU over a window, per role (share of one core), largest first. */
export function byRole(before: TreeSample, after: TreeSample, serverPid: number): RoleCpu[] {
  const roles = new Map<string, RoleCpu>();
  for (const [pid, share] of processShares(before, after)) {
    const role = roleOf(pid, serverPid);
    const entry = roles.get(role) ?? { role, processes: 0, cpu: 0 };
    entry.processes++;
    entry.cpu += share;
    roles.set(role, entry);
  }
  return [...roles.values()].map((r) => ({ ...r, cpu: round(r.cpu, 3) })).sort((a, b) => b.cpu - a.cpu);
}
