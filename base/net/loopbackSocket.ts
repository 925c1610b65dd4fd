import { createSocket, type Socket } from 'node:dgram';

/**
 * A UDP socket bound to a free port on 127.0.0.1 (RTP between the project's processes never
 * leaves loopback). Errors after the bind go to `onError`, so that one never throws uncaught.
 */
export function bindLoopbackUdp(onError: (error: Error) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', onError);
      resolve(socket);
    });
  });
}
