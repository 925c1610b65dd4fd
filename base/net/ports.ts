import { createSocket } from 'node:dgram';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isProcessAlive } from '../process/processAlive.ts';

// Below Linux's ephemeral range (32768-60999), where the OS picks ports for other sockets.
const RANGE_START = 20000;
const RANGE_END = 32000;
const ATTEMPTS = 50;

async function canBind(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();
/** Set up once per process: the sweep of dead marks and the release at exit. */
let releaseAtExit = false;

/**
 * Where every process of this project (server, session processes, bots) marks the ports it has
 * handed out, one file per port holding its PID. A port is probed free and then bound by an
 * FFmpeg a few hundred milliseconds later; without a mark that all of them see, two processes
 * probing in that window took the same port (a bot's recorder failed with "bind failed").
 */
export const RESERVATIONS_DIR = join(tmpdir(), `mcu-rtp-ports-${process.getuid?.() ?? 'user'}`);

/** An even port in the range, at random: processes that allocate at the same time rarely meet. */
export const randomEvenPort = (): number => RANGE_START + 2 * Math.floor((Math.random() * (RANGE_END - RANGE_START)) / 2);

/** Marks `port` as this process's: false if a live process has marked it (a dead one's mark is taken over). */
function reserve(port: number): boolean {
  const path = join(RESERVATIONS_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx', mode: 0o600 });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!isDeadMark(path)) return false;
      rmSync(path, { force: true });
    }
  }
  return false;
}

/** The PID a mark holds; undefined while its owner has created it and not yet written it. */
function markOwner(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text);
  return text && Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** A mark whose process no longer runs (killed before it could release its ports). */
function isDeadMark(path: string): boolean {
  const owner = markOwner(path);
  return owner !== undefined && owner !== process.pid && !isProcessAlive(owner);
}

/** Removes the marks of processes that were killed before they could release them. */
function sweepDeadMarks(): void {
  for (const name of readdirSync(RESERVATIONS_DIR)) {
    const path = join(RESERVATIONS_DIR, name);
    if (isDeadMark(path)) rmSync(path, { force: true });
  }
}

/**
 * An even loopback port P with P+1 free too, for an FFmpeg RTP input (FFmpeg takes P+1 for
 * RTCP). FFmpeg binds it itself, so the port is only probed here: a port handed out stays
 * reserved (for every process of this project, see RESERVATIONS_DIR) until `releaseRtpPort`.
 */
export async function allocateRtpPort(choose: () => number = randomEvenPort): Promise<number> {
  // Every time: a temporary folder may be cleaned away while the server runs.
  mkdirSync(RESERVATIONS_DIR, { recursive: true, mode: 0o700 });
  if (!releaseAtExit) {
    releaseAtExit = true;
    sweepDeadMarks();
    // A process that exits with ports still handed out (a session closing) leaves no marks.
    process.once('exit', () => {
      for (const port of handedOut) unreserve(port);
    });
  }
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = choose();
    if (handedOut.has(port) || !reserve(port)) continue;
    if ((await canBind(port)) && (await canBind(port + 1))) {
      handedOut.add(port);
      return port;
    }
    unreserve(port);
  }
  throw new Error(`no free UDP port pair on 127.0.0.1 in ${RANGE_START}-${RANGE_END} after ${ATTEMPTS} tries`);
}

function unreserve(port: number): void {
  const path = join(RESERVATIONS_DIR, String(port));
  if (markOwner(path) === process.pid) rmSync(path, { force: true });
}

export function releaseRtpPort(port: number): void {
  if (handedOut.delete(port)) unreserve(port);
}

/**
 * Local UDP ports bound on 127.0.0.1 (or any address), from the text of Linux's /proc/net/udp,
 * whose second column is `ADDR:PORT` in hex, e.g. `0100007F:5DC0` for 127.0.0.1:24000.
 */
export function boundUdpPorts(procNetUdp: string): Set<number> {
  const ports = new Set<number>();
  for (const line of procNetUdp.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    const [address, port] = local?.split(':') ?? [];
    if (port === undefined || (address !== '0100007F' && address !== '00000000')) continue;
    ports.add(Number.parseInt(port, 16));
  }
  return ports;
}

/**
 * Resolves true once something (an FFmpeg RTP input) has bound loopback UDP `port`, false on
 * timeout. Read from /proc/net/udp rather than probed with a bind of our own, which could take
 * the port at the very moment FFmpeg binds it and make FFmpeg fail.
 */
export async function waitUntilBound(port: number, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const text = await readFile('/proc/net/udp', 'utf8').catch(() => '');
    if (boundUdpPorts(text).has(port)) return true;
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
