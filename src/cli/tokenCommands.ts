import { Command, InvalidArgumentError, Option } from 'commander';
import { GRANT_NAMES, parseGrantName, type Grants } from '../auth/grants.ts';
import { KeysError, loadKeys, newKey } from '../auth/keys.ts';
import { createToken } from '../auth/tokens.ts';
import { duration, roomName } from './argParsers.ts';

/** `mcu token` and `mcu keys`, and the short-lived tokens the CLI's client commands send. */

const print = (line: string): void => void process.stdout.write(`${line}\n`);

/** The key the CLI signs with: the environment's, else the first of the keys file. Undefined without keys. */
function signingKey(env: NodeJS.ProcessEnv, file?: string): { key: string; secret: string } | undefined {
  let keys: Map<string, string>;
  try {
    keys = loadKeys(env, file);
  } catch (error) {
    if (error instanceof KeysError) throw new Error(error.message);
    throw error;
  }
  const first = keys.entries().next();
  return first.done ? undefined : { key: first.value[0], secret: first.value[1] };
}

/** Seconds a token of a client command lives: long enough for one request, and for a clock a little off. */
const CLIENT_TOKEN_SECONDS = 60;

/**
 * The bearer token a client command sends: `MCU_TOKEN` as given, else one minted for this request
 * from the keys in the environment (with just `grants`), else none (a server in development mode).
 */
export async function clientToken(grants: Grants, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.MCU_TOKEN) return env.MCU_TOKEN;
  const signer = signingKey(env);
  if (!signer) return undefined;
  return createToken({ ...signer, identity: 'mcu-cli', grants, ttlSeconds: CLIENT_TOKEN_SECONDS });
}

function grantList(value: string, previous: string[] = []): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!parseGrantName(name)) throw new InvalidArgumentError(`unknown grant "${name}" (grants: ${GRANT_NAMES.join(', ')})`);
  }
  return [...previous, ...names];
}

interface TokenFlags {
  room?: string;
  identity: string;
  name?: string;
  ttl: number;
  grant?: string[];
  keys?: string;
  url?: string;
}

export function tokenCommand(): Command {
  return new Command('token')
    .description('print a signed token (HS256 JWT) for the web page (?token=), the bot (--token) or the API (Authorization: Bearer)')
    .addOption(new Option('--room <room>', 'the room it is for (joins need one)').argParser(roomName))
    .requiredOption('--identity <identity>', 'who it is for (the token subject; logged by the server)')
    .option('--name <name>', 'display name (overrides the one typed in the page)')
    .addOption(new Option('--ttl <duration>', 'how long it is valid: 90s, 30m, 6h, 1d').default(6 * 3600, '6h').argParser(duration))
    .addOption(new Option('--grant <grants>', `grants, comma-separated or repeated (default roomJoin,canPublish,canSubscribe): ${GRANT_NAMES.join(', ')}`).argParser(grantList))
    .addOption(new Option('--keys <file>', 'keys file (default: MCU_API_KEY/MCU_API_SECRET, or MCU_KEYS_FILE)'))
    .option('--url <url>', 'also print the page link for this server (e.g. https://host:8080/)')
    .action(async (flags: TokenFlags) => {
      const signer = signingKey(process.env, flags.keys);
      if (!signer) throw new Error('no API key to sign with: set MCU_API_KEY and MCU_API_SECRET (make them with `mcu keys`) or pass --keys <file>');
      if (flags.identity.length > 128) throw new Error('--identity is at most 128 characters');
      const names = flags.grant ?? ['roomJoin', 'canPublish', 'canSubscribe'];
      if (names.includes('roomJoin') && flags.room === undefined) throw new Error('a token with roomJoin needs --room');
      const grants: Grants = { ...(flags.room !== undefined ? { room: flags.room } : {}) };
      for (const name of names) grants[parseGrantName(name)!] = true;
      const token = await createToken({ ...signer, identity: flags.identity, ...(flags.name ? { name: flags.name } : {}), grants, ttlSeconds: flags.ttl });
      if (!flags.url) return print(token);
      const url = new URL(flags.url);
      if (flags.room !== undefined) url.searchParams.set('room', flags.room);
      url.searchParams.set('token', token);
      print(url.toString());
    });
}

export function keysCommand(): Command {
  return new Command('keys')
    .description('make a new API key and secret: eval "$(mcu keys)" sets them for this shell; a keys file takes "key: secret"')
    .action(() => {
      const { key, secret } = newKey();
      print(`export MCU_API_KEY=${key}`);
      print(`export MCU_API_SECRET=${secret}`);
      process.stderr.write(`(for a keys file, the line is  ${key}: ${secret})\n`);
    });
}
