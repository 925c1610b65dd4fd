import { decodeJwt, errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { ApiKeys } from './keys.ts';
import { grantsSchema, type Grants, type TokenClaims } from './grants.ts';

/**
 * Join and API tokens: HS256 JWTs in LiveKit's shape (issuer = API key, `sub` = identity, `name`,
 * `video` = grants), made and checked with jose. Only HS256 is accepted, whatever the header says.
 */

/** Clock skew tolerated on `exp` and `nbf`. */
export const DEFAULT_LEEWAY_SECONDS = 30;
export const MAX_LEEWAY_SECONDS = 60;
const ALGORITHM = 'HS256';
const encoder = new TextEncoder();

const claimsSchema = z.looseObject({
  iss: z.string(),
  sub: z.string().min(1).max(128),
  exp: z.number(),
  name: z.string().min(1).max(64).optional(),
  video: grantsSchema.optional(),
});

export type TokenRefusal = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'bad_claims';

/** A token that does not verify, with why (for the log: never the token itself). */
export class TokenError extends Error {
  override name = 'TokenError';
  constructor(
    readonly reason: TokenRefusal,
    message: string,
  ) {
    super(message);
  }
}

export interface NewToken {
  key: string;
  secret: string;
  identity: string;
  name?: string;
  grants: Grants;
  ttlSeconds: number;
  now?: Date;
}

export async function createToken(options: NewToken): Promise<string> {
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ ...(options.name ? { name: options.name } : {}), video: options.grants })
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(options.key)
    .setSubject(options.identity)
    .setNotBefore(now)
    .setExpirationTime(now + options.ttlSeconds)
    .sign(encoder.encode(options.secret));
}

function refusal(error: unknown): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof errors.JWTExpired) return new TokenError('expired', 'the token has expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenError('bad_signature', 'the token signature does not verify');
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError('bad_signature', 'the token is not signed with HS256');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return error.claim === 'nbf'
      ? new TokenError('not_yet_valid', 'the token is not valid yet')
      : new TokenError('bad_claims', `the token's ${error.claim} claim is missing or wrong`);
  }
  return new TokenError('malformed', 'the token is not a well-formed JWT');
}

/** Verifies `token` against `keys`; throws a TokenError that says why not. */
export async function verifyToken(
  token: string,
  keys: ApiKeys,
  options: { leewaySeconds?: number; now?: Date } = {},
): Promise<TokenClaims> {
  const leeway = Math.min(options.leewaySeconds ?? DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS);
  try {
    // The issuer picks the secret; the signature, checked next, then vouches for the issuer.
    const issuer = decodeJwt(token).iss;
    const secret = typeof issuer === 'string' ? keys.get(issuer) : undefined;
    if (issuer === undefined || secret === undefined) throw new TokenError('unknown_key', 'the token is not signed by a key of this server');
    const { payload } = await jwtVerify(token, encoder.encode(secret), {
      algorithms: [ALGORITHM],
      issuer,
      requiredClaims: ['exp', 'sub'],
      clockTolerance: leeway,
      ...(options.now ? { currentDate: options.now } : {}),
    });
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new TokenError('bad_claims', `the token's claims are not valid: ${claims.error.issues[0]?.path.join('.') ?? ''}`);
    const { sub, name, video, exp } = claims.data;
    return { identity: sub, ...(name ? { name } : {}), grants: video ?? {}, expiresAt: exp, key: issuer };
  } catch (error) {
    throw refusal(error);
  }
}

/** `30s`, `15m`, `6h`, `7d` or a number of seconds, as seconds. Pure; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds) : undefined;
}
