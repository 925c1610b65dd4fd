import { createSocket } from 'node:dgram';

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
