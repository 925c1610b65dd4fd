import type { Grants } from '../../src/auth/grants.ts';
import { createToken } from '../../src/auth/tokens.ts';

/** The API key of the tests' keyed servers. */
export const TEST_KEY = 'APItest';
export const TEST_SECRET = 'a-test-secret-of-more-than-32-characters-0123';
export const TEST_KEYS: ReadonlyMap<string, string> = new Map([[TEST_KEY, TEST_SECRET]]);
/** The environment a CLI process needs to mint tokens for the tests' servers. */
export const TEST_KEY_ENV = { MCU_API_KEY: TEST_KEY, MCU_API_SECRET: TEST_SECRET };

/** A token of the tests' key (or of another, to be refused). */
export function mint(
  grants: Grants,
  options: { identity?: string; name?: string; ttlSeconds?: number; now?: Date; key?: string; secret?: string } = {},
): Promise<string> {
  return createToken({
    key: options.key ?? TEST_KEY,
    secret: options.secret ?? TEST_SECRET,
    identity: options.identity ?? 'tester',
    ...(options.name ? { name: options.name } : {}),
    grants,
    ttlSeconds: options.ttlSeconds ?? 600,
    ...(options.now ? { now: options.now } : {}),
  });
}

/** A join token for `room`. */
export const joinToken = (room: string, extra: Grants = {}, options: Parameters<typeof mint>[1] = {}): Promise<string> =>
  mint({ room, roomJoin: true, ...extra }, options);
