import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { FfmpegProcess } from '../mixer/FfmpegProcess.ts';
import { createLogger } from '../mixer/logger.ts';
import { boostMediaPriority } from '../mixer/priority.ts';
import type { ServerConfig } from './config.ts';
import { createApp } from './http/app.ts';
import { createMetrics } from './metrics/metrics.ts';
import { iceHostAddresses } from './peers/peerConfig.ts';
import { prepareDtlsCertificate } from './peers/weriftQuirks.ts';
import { recoverRecordings, type RecoveredRecording } from './recording/recovery.ts';
import { SpareSessions } from '../mixer/SpareSessions.ts';
import { Rooms } from './rooms/Rooms.ts';
import { SignalingServer } from './signaling/SignalingServer.ts';

const log = createLogger('Server');

export interface RunningServer {
  readonly url: string;
  readonly socketUrl: string;
  readonly port: number;
  readonly rooms: Rooms;
  /** Absolute path of the recordings folder. */
  readonly recordingsDir: string;
  /** Resolves with what was found of recordings an earlier run left unfinished, once repaired. */
  readonly recovery: Promise<RecoveredRecording[]>;
  close(): Promise<void>;
}

/** Starts HTTP, signaling and the room registry; resolves once listening. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const priority = boostMediaPriority(config.priorityBoost);
  if (priority.error) {
    log.warn(
      { requested: priority.requested, err: priority.error },
      'media path runs at the same priority as decoders and encoders: on a saturated machine the composite may stutter (run as root or grant CAP_SYS_NICE, or pass --priority-boost 0 to silence this)',
    );
  } else if (priority.boost > 0) log.info({ levels: priority.boost }, 'media path runs above decoders and encoders');
  await prepareDtlsCertificate();
  const sessions = new SpareSessions({ enabled: config.spareSession });
  const rooms = new Rooms({
    sessions,
    defaults: config.room,
    autoCreate: config.autoCreateRooms,
    network: {
      hostAddresses: iceHostAddresses(config.host, config.announcedAddresses),
      iceServers: config.iceServers,
      disconnectTimeoutMs: config.disconnectTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
    },
  });
  const recordingsDir = resolve(config.recordingsDir);
  const metrics = createMetrics(async () => Promise.all((await rooms.list()).map((room) => room.stats())));
  let recovered: RecoveredRecording[] | undefined;
  const app = createApp(rooms, { recordingsDir, metrics, recovered: () => recovered });
  const http: HttpServer = createServer(app);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const signaling = new SignalingServer(http, {
    rooms,
    iceServers: config.iceServers,
    pingIntervalMs: config.pingIntervalMs,
  });
  // After listening: a port in use fails fast, without touching any file. Repairs run meanwhile.
  const recovery = recoverRecordings(recordingsDir).catch((error: unknown) => {
    log.error({ err: error }, 'looking for unfinished recordings failed');
    return [];
  });
  void recovery.then((found) => (recovered = found));
  const { port } = http.address() as AddressInfo;
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${hostForUrl}:${port}/`;
  log.info({ url }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    socketUrl: `ws://${hostForUrl}:${port}/socket`,
    port,
    rooms,
    recordingsDir,
    recovery,
    close() {
      closing ??= (async () => {
        await recovery;
        await signaling.close();
        await rooms.closeAll();
        await sessions.close();
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await closed;
        await FfmpegProcess.stopAll();
        log.info('server stopped');
      })();
      return closing;
    },
  };
}
