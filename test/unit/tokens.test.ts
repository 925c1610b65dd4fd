import { createHmac } from 'node:crypto';
import { describe, expect, it, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import { allows, joinRefusal, participantAccess, parseGrantName, type Grants } from '../../src/auth/grants.ts';
import { authorizeJoin, JoinRefused } from '../../src/auth/joinAuth.ts';
import { createToken, DEFAULT_LEEWAY_SECONDS, parseDuration, TokenError, verifyToken, type NewToken } from '../../src/auth/tokens.ts';

// HS256 tokens in LiveKit's shape (README, "Security"): issuer = API key, sub = identity, video = grants.

const SECRET = 'a-secret-that-is-long-enough-for-hs256-0123456789';
const OTHER_SECRET = 'another-secret-long-enough-for-hs256-0123456789';
const KEYS = new Map([['APIkey1', SECRET]]);
const NOW = new Date('2026-12-06T12:00:00Z');
const JOIN: Grants = { room: 'lobby', roomJoin: true };

function base64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A JWT signed by hand (to build what createToken never would: other algorithms, missing claims). */
function handMade(header: Record<string, unknown>, payload: Record<string, unknown>, secret = SECRET): string {
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

const token = (overrides: Partial<NewToken> = {}): Promise<string> =>
  createToken({ key: 'APIkey1', secret: SECRET, identity: 'ada', name: 'Ada', grants: JOIN, ttlSeconds: 600, now: NOW, ...overrides });

async function refusal(tokenText: string | Promise<string>, now = NOW): Promise<string> {
  try {
    await verifyToken(await tokenText, KEYS, { now });
  } catch (error) {
    if (error instanceof TokenError) return error.reason;
    throw error;
  }
  throw new Error('the token verified');
}

const nowSeconds = Math.floor(NOW.getTime() / 1000);

describe('verifyToken', () => {
  it('accepts a token of a known key and returns identity, name, grants and expiry', async () => {
    await expect(verifyToken(await token(), KEYS, { now: NOW })).resolves.toEqual({
      identity: 'ada',
      name: 'Ada',
      grants: JOIN,
      expiresAt: nowSeconds + 600,
      key: 'APIkey1',
    });
  });

  it('accepts a token of any key of a rotated set', async () => {
    const keys = new Map([
      ['old', OTHER_SECRET],
      ['APIkey1', SECRET],
    ]);
    await expect(verifyToken(await token(), keys, { now: NOW })).resolves.toMatchObject({ key: 'APIkey1' });
  });

  it(`tolerates ${DEFAULT_LEEWAY_SECONDS} s of clock skew on exp, and no more`, async () => {
    const expired = token({ ttlSeconds: 60 });
    await expect(verifyToken(await expired, KEYS, { now: new Date(NOW.getTime() + (60 + DEFAULT_LEEWAY_SECONDS - 1) * 1000) })).resolves.toBeDefined();
    expect(await refusal(expired, new Date(NOW.getTime() + (60 + DEFAULT_LEEWAY_SECONDS + 1) * 1000))).toBe('expired');
  });

  it('never takes a leeway over 60 s, whatever it is asked for', async () => {
    const text = await token({ ttlSeconds: 60 });
    const later = new Date(NOW.getTime() + 125_000);
    await expect(verifyToken(text, KEYS, { now: later, leewaySeconds: 3600 })).rejects.toMatchObject({ reason: 'expired' });
  });

  test.each([
    ['expired an hour ago', () => token({ now: new Date(NOW.getTime() - 3_600_000) }), 'expired'],
    ['signed with another secret under the same key', () => token({ secret: OTHER_SECRET }), 'bad_signature'],
    ['issued by an unknown key', () => token({ key: 'APIstranger' }), 'unknown_key'],
    ['with a payload changed after signing (room lobby → vault)', async () => {
      const [h, p, sig] = (await token()).split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { video: Grants };
      payload.video.room = 'vault';
      return `${h}.${base64url(payload)}.${sig}`;
    }, 'bad_signature'],
    ['with its signature cut off', async () => `${(await token()).split('.').slice(0, 2).join('.')}.`, 'bad_signature'],
    ['with alg none', async () => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ iss: 'APIkey1', sub: 'x', exp: nowSeconds + 60, video: JOIN })}.`, 'bad_signature'],
    ['signed HS512', async () => {
      const signingInput = `${base64url({ alg: 'HS512' })}.${base64url({ iss: 'APIkey1', sub: 'x', exp: nowSeconds + 60 })}`;
      return `${signingInput}.${createHmac('sha512', SECRET).update(signingInput).digest('base64url')}`;
    }, 'bad_signature'],
    ['without exp', async () => handMade({ alg: 'HS256' }, { iss: 'APIkey1', sub: 'x', video: JOIN }), 'bad_claims'],
    ['without sub', async () => handMade({ alg: 'HS256' }, { iss: 'APIkey1', exp: nowSeconds + 60, video: JOIN }), 'bad_claims'],
    ['without iss', async () => handMade({ alg: 'HS256' }, { sub: 'x', exp: nowSeconds + 60 }), 'unknown_key'],
    ['with a grant of the wrong type', async () => handMade({ alg: 'HS256' }, { iss: 'APIkey1', sub: 'x', exp: nowSeconds + 60, video: { roomJoin: 'yes' } }), 'bad_claims'],
    ['with a room name the protocol refuses', async () => handMade({ alg: 'HS256' }, { iss: 'APIkey1', sub: 'x', exp: nowSeconds + 60, video: { room: '../x' } }), 'bad_claims'],
    ['not valid before an hour from now', async () => handMade({ alg: 'HS256' }, { iss: 'APIkey1', sub: 'x', nbf: nowSeconds + 3600, exp: nowSeconds + 7200 }), 'not_yet_valid'],
    ['that is not a JWT', async () => 'not-a-token', 'malformed'],
    ['that is empty', async () => '', 'malformed'],
    ['of three parts of garbage', async () => '%%%.%%%.%%%', 'malformed'],
  ])('refuses a token %s', async (_what, make, reason) => {
    expect(await refusal(make())).toBe(reason);
  });
});

describe('grants', () => {
  test.each([
    [{ roomCreate: true }, 'roomCreate', undefined, true],
    [{ roomList: true, room: 'a' }, 'roomList', undefined, true],
    [{ roomList: false }, 'roomList', undefined, false],
    [{}, 'roomCreate', undefined, false],
    [{ roomAdmin: true, room: 'a' }, 'roomAdmin', 'a', true],
    [{ roomAdmin: true, room: 'a' }, 'roomAdmin', 'b', false],
    [{ roomAdmin: true }, 'roomAdmin', 'b', true],
    [{ roomAdmin: true, room: 'a' }, 'roomAdmin', undefined, false],
    [{ roomRecord: true }, 'roomRecord', undefined, true],
    [{ roomRecord: true, room: 'a' }, 'roomRecord', undefined, false],
    [{ roomJoin: true, room: 'a' }, 'roomAdmin', 'a', false],
  ] as const)('%j allows %s on room %s: %s', (grants, need, room, expected) => {
    expect(allows(grants, need, room)).toBe(expected);
  });

  test.each([
    [{ room: 'a', roomJoin: true }, 'a', undefined],
    [{ room: 'a', roomJoin: true }, 'b', 'the token is for room a, not b'],
    [{ roomJoin: true }, 'a', 'the token names no room'],
    [{ room: 'a' }, 'a', 'the token does not grant roomJoin'],
    [{ room: 'a', roomAdmin: true }, 'a', 'the token does not grant roomJoin'],
  ] as const)('a join with %j into room %s: %s', (grants, room, expected) => {
    expect(joinRefusal(grants, room)).toBe(expected);
  });

  test.each([
    [{}, { publish: true, subscribe: true, hidden: false }],
    [{ canPublish: false }, { publish: false, subscribe: true, hidden: false }],
    [{ canSubscribe: false }, { publish: true, subscribe: false, hidden: false }],
    [{ hidden: true }, { publish: false, subscribe: true, hidden: true }],
    [{ recorder: true }, { publish: false, subscribe: true, hidden: true }],
  ] as const)('a participant with %j may %j', (grants, access) => {
    expect(participantAccess(grants)).toEqual(access);
  });

  eachReturns('parseGrantName(%j) is %j', parseGrantName, [
    ['roomJoin', 'roomJoin'],
    ['roomRecord', 'roomRecord'],
    ['roomjoin', undefined],
    ['admin', undefined],
    ['', undefined],
  ]);
});

describe('authorizeJoin', () => {
  const join = { room: 'lobby', name: 'typed name' };

  it('lets everyone in with the name they typed when the server has no keys (development mode)', async () => {
    await expect(authorizeJoin(new Map(), { ...join, token: 'anything' })).resolves.toEqual({
      name: 'typed name',
      access: { publish: true, subscribe: true, hidden: false },
    });
  });

  it("takes the name and the access from a valid token", async () => {
    const text = await createToken({ key: 'APIkey1', secret: SECRET, identity: 'ada', name: 'Ada', grants: { ...JOIN, canPublish: false }, ttlSeconds: 60 });
    await expect(authorizeJoin(KEYS, { ...join, token: text })).resolves.toEqual({
      name: 'Ada',
      identity: 'ada',
      access: { publish: false, subscribe: true, hidden: false },
    });
  });

  test.each([
    ['no token', undefined, 'no_token'],
    ['a token for another room', { ...JOIN, room: 'vault' }, 'no_grant'],
    ['a token without roomJoin', { room: 'lobby', roomAdmin: true }, 'no_grant'],
    ['a garbage token', 'garbage', 'malformed'],
  ] as const)('refuses a join with %s, as unauthorized (fatal)', async (_what, grants, reason) => {
    const text = grants === undefined ? undefined : typeof grants === 'string' ? grants : await createToken({ key: 'APIkey1', secret: SECRET, identity: 'x', grants, ttlSeconds: 60 });
    const error = await authorizeJoin(KEYS, { ...join, ...(text !== undefined ? { token: text } : {}) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JoinRefused);
    expect(error).toMatchObject({ code: 'unauthorized', fatal: true, reason });
  });
});

eachReturns('parseDuration(%j) is %j seconds', parseDuration, [
  ['90s', 90],
  ['90', 90],
  ['30m', 1800],
  ['6h', 21600],
  ['1d', 86400],
  ['1.5h', 5400],
  ['0', undefined],
  ['-5m', undefined],
  ['6 hours', undefined],
  ['', undefined],
]);
