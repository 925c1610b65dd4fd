import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';

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

/**
 * An even loopback port P with P+1 free too, for an FFmpeg RTP input (FFmpeg takes P+1 for
 * RTCP). FFmpeg binds it itself, so the port is only probed here: a port handed out stays
 * reserved in this process until `releaseRtpPort`.
 */
export async function allocateRtpPort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = RANGE_START + 2 * Math.floor((Math.random() * (RANGE_END - RANGE_START)) / 2);
    if (handedOut.has(port)) continue;
    if ((await canBind(port)) && (await canBind(port + 1))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free UDP port pair on 127.0.0.1 in ${RANGE_START}-${RANGE_END} after ${ATTEMPTS} tries`);
}

export function releaseRtpPort(port: number): void {
  handedOut.delete(port);
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
