import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * API keys, LiveKit's way: a key names a secret; a token is signed with the secret and names the
 * key as its issuer. Several keys may be valid at once (rotation: add the new key, move clients,
 * remove the old one).
 */
export type ApiKeys = ReadonlyMap<string, string>;

/** HS256 wants a secret at least as long as its hash (RFC 7518 §3.2): 32 bytes. */
export const MIN_SECRET_LENGTH = 32;
const KEY_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export class KeysError extends Error {
  override name = 'KeysError';
}

/** What a user with no keys is told: how to make some. */
export const HOW_TO_MAKE_KEYS =
  'make a key with `eval "$(mcu keys)"` (it sets MCU_API_KEY and MCU_API_SECRET), or pass --keys <file>';

function checked(key: string, secret: string, where: string): [string, string] {
  if (!KEY_NAME.test(key)) throw new KeysError(`${where}: key "${key.slice(0, 64)}" must be 1-64 of A-Z a-z 0-9 _ . -`);
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new KeysError(`${where}: the secret of key ${key} is ${secret.length} characters; it needs at least ${MIN_SECRET_LENGTH}`);
  }
  return [key, secret];
}

/**
 * A keys file: one `key: secret` per line (the form LiveKit's keys file takes), `#` comments and
 * blank lines ignored. Pure.
 */
export function parseKeysFile(text: string, where = 'keys file'): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon < 0) throw new KeysError(`${where}, line ${index + 1}: expected "key: secret"`);
    const [key, secret] = checked(line.slice(0, colon).trim(), line.slice(colon + 1).trim(), `${where}, line ${index + 1}`);
    if (keys.has(key)) throw new KeysError(`${where}, line ${index + 1}: key ${key} is listed twice`);
    keys.set(key, secret);
  }
  return keys;
}

/**
 * The keys of `MCU_API_KEY` + `MCU_API_SECRET` and of a keys file (`--keys` or `MCU_KEYS_FILE`).
 * The environment's key comes first: the CLI signs its tokens with the first key.
 */
export function loadKeys(env: NodeJS.ProcessEnv, file?: string): Map<string, string> {
  const keys = new Map<string, string>();
  const key = env.MCU_API_KEY || undefined;
  const secret = env.MCU_API_SECRET || undefined;
  if (key !== undefined || secret !== undefined) {
    if (!key || !secret) throw new KeysError('MCU_API_KEY and MCU_API_SECRET go together: set both or neither');
    keys.set(...checked(key, secret, 'MCU_API_SECRET'));
  }
  const path = file ?? env.MCU_KEYS_FILE;
  if (path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new KeysError(`cannot read the keys file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    for (const [name, value] of parseKeysFile(text, path)) {
      if (keys.has(name) && keys.get(name) !== value) throw new KeysError(`key ${name} has another secret in ${path} than in MCU_API_SECRET`);
      keys.set(name, value);
    }
  }
  return keys;
}

/** A new key and secret (`mcu keys`): the key is a name, the secret 256 random bits. */
export function newKey(): { key: string; secret: string } {
  return { key: `API${randomBytes(6).toString('hex')}`, secret: randomBytes(32).toString('base64url') };
}
