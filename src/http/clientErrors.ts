import { STATUS_CODES, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';

const LINGER_MS = 2000;

/**
 * Requests Node's parser refuses (headers over 16 KiB: 431; anything malformed: 400) are
 * answered, then what the client still sends is read and dropped for up to 2 s before the
 * connection closes. Node's own handler closes at once, and a connection closed with unread
 * bytes is reset, which can destroy the answer before the client reads it (seen in the fuzz test).
 */
export function answerClientErrors(server: HttpServer | HttpsServer): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.on('data', () => {});
    socket.on('error', () => socket.destroy());
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
