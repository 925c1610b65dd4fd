import { Command, InvalidArgumentError, Option } from 'commander';
import { duration, integer, listenAddress } from './argParsers.ts';
import { KeysError, loadKeys } from '../auth/keys.ts';
import { isTurnUrl, type TurnSettings } from '../auth/turnCredentials.ts';
import { DEFAULT_CONFIG, type ServerConfig } from '../config.ts';

/** The server options of `mcu serve` and `mcu start` about who gets in: keys, TLS, origins, limits, TURN. */
export interface SecurityFlags {
  keys?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  /** commander's `--no-tls`: false when given. */
  tls: boolean;
  metricsListen?: { host: string; port: number };
  allowedOrigin: string[];
  messageRate: number;
  joinRate: number;
  maxRooms: number;
  maxServerParticipants: number;
  maxSessions: number;
  turnUrl: string[];
  turnSecret?: string;
  turnTtl: number;
  pingInterval: number;
}

function origin(value: string, previous: string[] = []): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('must be an origin such as https://app.example.com');
  }
  if (url.origin !== value) throw new InvalidArgumentError(`must be an origin, without a path: ${url.origin}`);
  return [...previous, value];
}

function turnUrl(value: string, previous: string[] = []): string[] {
  if (!isTurnUrl(value)) throw new InvalidArgumentError('must be a TURN URL such as turn:turn.example.com:3478?transport=udp');
  return [...previous, value];
}

const limits = DEFAULT_CONFIG.limits;

export function addSecurityOptions(command: Command): Command {
  return command
    .addOption(new Option('--keys <file>', 'API keys file, one "key: secret" per line (besides MCU_API_KEY/MCU_API_SECRET); without keys: development mode, loopback only').env('MCU_KEYS_FILE'))
    .addOption(new Option('--tls-cert <file>', 'serve HTTPS/WSS with this PEM certificate (with --tls-key)'))
    .addOption(new Option('--tls-key <file>', 'the PEM private key of --tls-cert'))
    .addOption(new Option('--tls-self-signed', 'serve HTTPS with a self-signed certificate kept in <recordings parent>/tls/ (the default beyond loopback)'))
    .addOption(new Option('--no-tls', 'plain HTTP even beyond loopback (behind a proxy that terminates TLS)'))
    .addOption(new Option('--metrics-listen <[host:]port>', 'serve GET /metrics without a token on an address of its own (host default 127.0.0.1)').argParser(listenAddress))
    .addOption(new Option('--allowed-origin <origin>', 'a web origin allowed to open the socket besides the page\'s own (repeatable, exact match)').argParser(origin).default([]))
    .addOption(new Option('--message-rate <n>', 'messages a second one socket may send (bursts of twice that)').default(limits.messages.perSecond).argParser(integer(1, 10000)))
    .addOption(new Option('--join-rate <n>', 'joins a minute from one address (bursts of half that)').default(limits.joins.perSecond * 60).argParser(integer(1, 100000)))
    .addOption(new Option('--max-rooms <n>', 'rooms on the server').default(limits.rooms).argParser(integer(1, 100000)))
    .addOption(new Option('--max-server-participants <n>', 'participants on the server, all rooms together').default(limits.participants).argParser(integer(1, 100000)))
    .addOption(new Option('--max-sessions <n>', 'session processes (rooms mixing at once)').default(limits.sessions).argParser(integer(1, 1000)))
    .addOption(new Option('--turn-url <url>', 'a TURN server whose short-lived credentials clients get in `joined` (repeatable; with --turn-secret)').argParser(turnUrl).default([]))
    .addOption(new Option('--turn-secret <secret>', "the TURN server's static-auth-secret (coturn's REST scheme)").env('MCU_TURN_SECRET'))
    .addOption(new Option('--turn-ttl <duration>', 'how long TURN credentials are valid').default(6 * 3600, '6h').argParser(duration))
    .addOption(
      new Option('--ping-interval <seconds>', 'seconds between WebSocket pings; a socket that answers none for two is dropped with its participant')
        .default(DEFAULT_CONFIG.pingIntervalMs / 1000)
        .argParser(integer(1, 3600)),
    );
}

/** The config these flags make. Throws an Error with one line for a wrong combination or a bad keys file. */
export function securityConfig(flags: SecurityFlags, env: NodeJS.ProcessEnv): Pick<ServerConfig, 'keys' | 'tls' | 'allowedOrigins' | 'limits' | 'turn' | 'metricsListen' | 'pingIntervalMs'> {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
  if (flags.tlsCert !== undefined && (flags.tlsSelfSigned || !flags.tls)) throw new InvalidArgumentError('--tls-cert is one choice; --tls-self-signed and --no-tls are others');
  if (flags.tlsSelfSigned && !flags.tls) throw new InvalidArgumentError('--tls-self-signed and --no-tls contradict each other');
  if ((flags.turnUrl.length > 0) !== (flags.turnSecret !== undefined)) throw new InvalidArgumentError('--turn-url and --turn-secret (or MCU_TURN_SECRET) go together');
  let keys: Map<string, string>;
  try {
    keys = loadKeys(env, flags.keys);
  } catch (error) {
    if (error instanceof KeysError) throw new InvalidArgumentError(error.message);
    throw error;
  }
  const turn: TurnSettings | undefined = flags.turnSecret !== undefined ? { urls: flags.turnUrl, secret: flags.turnSecret, ttlSeconds: flags.turnTtl } : undefined;
  return {
    keys,
    tls: flags.tlsCert !== undefined ? { certFile: flags.tlsCert, keyFile: flags.tlsKey! } : flags.tlsSelfSigned ? 'self-signed' : flags.tls ? 'auto' : 'off',
    allowedOrigins: flags.allowedOrigin,
    pingIntervalMs: flags.pingInterval * 1000,
    limits: {
      messages: { burst: flags.messageRate * 2, perSecond: flags.messageRate },
      joins: { burst: Math.max(1, Math.round(flags.joinRate / 2)), perSecond: flags.joinRate / 60 },
      rooms: flags.maxRooms,
      participants: flags.maxServerParticipants,
      sessions: flags.maxSessions,
    },
    ...(turn ? { turn } : {}),
    ...(flags.metricsListen ? { metricsListen: flags.metricsListen } : {}),
  };
}
