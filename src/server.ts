import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FfmpegProcess } from '../base/process/FfmpegProcess.ts';
import { createLogger } from '../base/log/logger.ts';
import { boostMediaPriority } from '../base/process/priority.ts';
import { HOW_TO_MAKE_KEYS } from './auth/keys.ts';
import type { ServerConfig } from './config.ts';
import { apiAuth } from './http/apiAuth.ts';
import { answerClientErrors } from './http/clientErrors.ts';
import { createApp } from './http/app.ts';
import { startMetricsServer } from './http/metricsServer.ts';
import { certificateNames, loadTlsFiles, selfSignedTls, type TlsMaterial } from './http/tls.ts';
import { createMetrics } from './metrics/metrics.ts';
import { Refusals } from './metrics/refusals.ts';
import { iceHostAddresses, isLoopback } from './peers/peerConfig.ts';
import { prepareDtlsCertificate } from './peers/weriftQuirks.ts';
import { recoverRecordings, type RecoveredRecording } from './recording/recovery.ts';
import { SpareSessions } from '../mixer/process/SpareSessions.ts';
import { Rooms } from './rooms/Rooms.ts';
import { SessionSlots } from './rooms/SessionSlots.ts';
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
  /** The certificate served, when the server speaks HTTPS. */
  readonly tls: TlsMaterial | undefined;
  /** No API keys: no token asked for, loopback only. */
  readonly development: boolean;
  /** The metrics listener of its own (`metricsListen`), if any. */
  readonly metricsUrl: string | undefined;
  readonly refusals: Refusals;
  close(): Promise<void>;
}

/** The host to print in URLs: the listen address, or for a wildcard one an address others can reach. */
export function reachableHost(host: string, announced: readonly string[], interfaces = networkInterfaces()): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  const external = Object.values(interfaces).flatMap((list) => list ?? []).find((a) => a.family === 'IPv4' && !a.internal);
  return announced[0] ?? external?.address ?? '127.0.0.1';
}

/** The folder the self-signed certificate is kept in: `tls/` beside the recordings folder. */
export function tlsFolder(config: ServerConfig): string {
  return join(config.dataDir ?? dirname(resolve(config.recordingsDir)), 'tls');
}

async function tlsFor(config: ServerConfig): Promise<TlsMaterial | undefined> {
  const mode = config.tls === 'auto' ? (isLoopback(config.host) ? 'off' : 'self-signed') : config.tls;
  if (mode === 'off') return undefined;
  if (mode === 'self-signed') return selfSignedTls(tlsFolder(config), certificateNames(config.host, config.announcedAddresses));
  return loadTlsFiles(mode.certFile, mode.keyFile);
}

/** Starts HTTP, signaling and the room registry; resolves once listening. */
export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const development = config.keys.size === 0;
  if (development && !isLoopback(config.host)) {
    throw new Error(`listening on ${config.host} (beyond loopback) needs API keys, so that only token holders get in: ${HOW_TO_MAKE_KEYS}`);
  }
  const tls = await tlsFor(config);
  const priority = boostMediaPriority(config.priorityBoost);
  if (priority.error) {
    log.warn(
      { requested: priority.requested, err: priority.error },
      'media path runs at the same priority as decoders and encoders: on a saturated machine the composite may stutter (run as root or grant CAP_SYS_NICE, or pass --priority-boost 0 to silence this)',
    );
  } else if (priority.boost > 0) log.info({ levels: priority.boost }, 'media path runs above decoders and encoders');
  await prepareDtlsCertificate();
  const spares = new SpareSessions({ enabled: config.spareSession });
  const rooms = new Rooms({
    spares,
    defaults: config.room,
    autoCreate: config.autoCreateRooms,
    network: {
      hostAddresses: iceHostAddresses(config.host, config.announcedAddresses),
      iceServers: config.iceServers,
      disconnectTimeoutMs: config.disconnectTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      decodeSilence: config.decodeSilence,
      sessions: new SessionSlots(config.limits.sessions),
    },
    maxRooms: config.limits.rooms,
  });
  const recordingsDir = resolve(config.recordingsDir);
  const refusals = new Refusals();
  const metrics = createMetrics(async () => Promise.all((await rooms.list()).map((room) => room.stats())), { refusals });
  let recovered: RecoveredRecording[] | undefined;
  const app = createApp(rooms, { recordingsDir, metrics, recovered: () => recovered, auth: apiAuth(config.keys), refusals });
  const http: HttpServer | HttpsServer = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, app) : createServer(app);
  answerClientErrors(http);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  let metricsServer: Awaited<ReturnType<typeof startMetricsServer>> | undefined;
  if (config.metricsListen) {
    try {
      metricsServer = await startMetricsServer(metrics, config.metricsListen.host, config.metricsListen.port);
    } catch (error) {
      http.close();
      throw error;
    }
  }
  const signaling = new SignalingServer(http, {
    rooms,
    iceServers: config.iceServers,
    pingIntervalMs: config.pingIntervalMs,
    keys: config.keys,
    origins: { allowed: config.allowedOrigins, loopbackOnly: isLoopback(config.host) },
    tls: tls !== undefined,
    limits: config.limits,
    refusals,
    ...(config.turn ? { turn: config.turn } : {}),
  });
  // After listening: a port in use fails fast, without touching any file. Repairs run meanwhile.
  const recovery = recoverRecordings(recordingsDir).catch((error: unknown) => {
    log.error({ err: error }, 'looking for unfinished recordings failed');
    return [];
  });
  void recovery.then((found) => (recovered = found));
  const { port } = http.address() as AddressInfo;
  const urlHost = reachableHost(config.host, config.announcedAddresses);
  const hostForUrl = urlHost.includes(':') ? `[${urlHost}]` : urlHost;
  const url = `${tls ? 'https' : 'http'}://${hostForUrl}:${port}/`;
  log.info({ url, development }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    socketUrl: `${tls ? 'wss' : 'ws'}://${hostForUrl}:${port}/socket`,
    port,
    rooms,
    recordingsDir,
    recovery,
    tls,
    development,
    metricsUrl: metricsServer?.url,
    refusals,
    close() {
      closing ??= (async () => {
        await recovery;
        await signaling.close();
        await rooms.close();
        await spares.close();
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
        await closed;
        await metricsServer?.close();
        await FfmpegProcess.stopAll();
        log.info('server stopped');
      })();
      return closing;
    },
  };
}
