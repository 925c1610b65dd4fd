import { UnauthorizedError } from '../errors.ts';
import type { ApiKeys } from './keys.ts';
import type { ParticipantAccess } from '../rooms/ParticipantTypes.ts';
import { joinRefusal, participantAccess } from './grants.ts';
import { TokenError, verifyToken } from './tokens.ts';

/** Who may join, as a join's token says. */
export interface JoinGrant {
  /** The display name: the token's `name`, else the join's. */
  name: string;
  access: ParticipantAccess;
  /** The token's `sub` (undefined in development mode). */
  identity?: string;
}

/** A refused join: the client is told `message`; the log gets `reason` (never the token). */
export class JoinRefused extends UnauthorizedError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const EVERYTHING: ParticipantAccess = { publish: true, subscribe: true, hidden: false };

/**
 * Checks a join against the server's keys. With no keys (development mode) everyone may join
 * and a token is ignored; otherwise the token must verify and grant roomJoin for this room.
 */
export async function authorizeJoin(
  keys: ApiKeys,
  join: { room: string; name: string; token?: string | undefined },
  leewaySeconds?: number,
): Promise<JoinGrant> {
  if (keys.size === 0) return { name: join.name, access: EVERYTHING };
  if (join.token === undefined) throw new JoinRefused('no_token', 'this server needs a join token (join.token)');
  let claims;
  try {
    claims = await verifyToken(join.token, keys, leewaySeconds === undefined ? {} : { leewaySeconds });
  } catch (error) {
    if (error instanceof TokenError) throw new JoinRefused(error.reason, error.message);
    throw error;
  }
  const refusal = joinRefusal(claims.grants, join.room);
  if (refusal) throw new JoinRefused('no_grant', refusal);
  return { name: claims.name ?? join.name, access: participantAccess(claims.grants), identity: claims.identity };
}
