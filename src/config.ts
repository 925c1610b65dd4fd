import { SESSION_DEFAULTS } from '../mixer/SessionTypes.ts';
import type { ApiKeys } from './auth/keys.ts';
import type { RateLimit } from './auth/rateLimit.ts';
import type { TurnSettings } from './auth/turnCredentials.ts';
import type { IceServer } from './peers/peerConfig.ts';
import type { RoomSettings } from './rooms/RoomTypes.ts';

export interface ServerConfig {
  host: string;
  port: number;
  /** ICE servers for the server's peers and, through `joined`, for clients. Default: none. */
  iceServers: IceServer[];
  /** Addresses ICE offers; empty means derived from `host` (loopback stays loopback). */
  announcedAddresses: string[];
  /** Rooms are created on the first join; off means only operator-created rooms exist. */
  autoCreateRooms: boolean;
  room: RoomSettings;
  /** The only folder recordings are written to (relative: to the working directory). */
  recordingsDir: string;
  pingIntervalMs: number;
  disconnectTimeoutMs: number;
  connectTimeoutMs: number;
  /** Nice levels the media path runs above decoders and encoders (base/process/priority.ts); 0: off. */
  priorityBoost: number;
  /** Keep a session process booted ahead of need, for a room's first join (mixer/process/SpareSessions.ts). */
  spareSession: boolean;
  /** Decode every publisher's audio, also what it stamps as silence (off: src/rtp/SilenceGate.ts). */
  decodeSilence: boolean;
  /** API keys; none is development mode (no tokens asked for, loopback only). */
  keys: ApiKeys;
  /**
   * `auto`: plain HTTP on loopback, a self-signed certificate beyond it; `self-signed`; `off`
   * (e.g. behind a proxy that terminates TLS); or certificate and key files.
   */
  tls: 'auto' | 'off' | 'self-signed' | { certFile: string; keyFile: string };
  /** Where the self-signed certificate is kept (default: the recordings folder's parent). */
  dataDir?: string;
  /** A listener of its own for GET /metrics, without a token (e.g. 127.0.0.1:9464). */
  metricsListen?: { host: string; port: number };
  /** Browser origins allowed on the socket besides the page's own (exact match). */
  allowedOrigins: string[];
  limits: ServerLimits;
  /** TURN servers whose short-lived credentials clients get in `joined` (never the server's own peers). */
  turn?: TurnSettings;
}

/** Limits that hold under abuse; each refusal has its error code and is counted in /metrics. */
export interface ServerLimits {
  /** Messages one socket may send. */
  messages: RateLimit;
  /** Joins from one address. */
  joins: RateLimit;
  rooms: number;
  participants: number;
  sessions: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 8080,
  iceServers: [],
  announcedAddresses: [],
  autoCreateRooms: true,
  room: { session: SESSION_DEFAULTS, maxParticipants: 16, persistent: false },
  recordingsDir: 'recordings',
  // A dead socket is dropped after two unanswered pings, 6-9 s: inside the 10 s promise.
  pingIntervalMs: 3000,
  disconnectTimeoutMs: 5000,
  connectTimeoutMs: 20000,
  priorityBoost: 10,
  spareSession: true,
  decodeSilence: false,
  keys: new Map(),
  tls: 'auto',
  allowedOrigins: [],
  limits: {
    // A browser sends a join, an offer and a few dozen candidates; 50/s leaves it room.
    messages: { burst: 100, perSecond: 50 },
    // An office behind one NAT address joins a meeting at once: 60 at a time, then 2 a second.
    joins: { burst: 60, perSecond: 2 },
    rooms: 100,
    participants: 200,
    sessions: 16,
  },
};

/** Parses `MCU_ICE_SERVERS` or `--ice-servers`: a JSON array of RTCIceServer, or comma-separated URLs. */
export function parseIceServers(text: string): IceServer[] {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (trimmed.startsWith('[')) {
    const parsed: unknown = JSON.parse(trimmed);
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'object' && s !== null && 'urls' in s)) {
      throw new Error('ICE servers must be a JSON array of {urls, username?, credential?}');
    }
    return parsed as IceServer[];
  }
  return trimmed.split(',').map((url) => ({ urls: url.trim() }));
}
