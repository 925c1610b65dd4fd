import type { Request, RequestHandler } from 'express';
import { createLogger } from '../../base/log/logger.ts';
import { allows, type RoomGrant, type ServerGrant } from '../auth/grants.ts';
import type { ApiKeys } from '../auth/keys.ts';
import { TokenError, verifyToken } from '../auth/tokens.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';

const log = createLogger('apiAuth');

/**
 * The REST API's tokens: `Authorization: Bearer <JWT>`, with the grant each route needs (see
 * README, "Security"). No valid token: 401 `unauthorized`; a token without the grant: 403
 * `forbidden`. With no keys (development mode) every request passes.
 */
export interface ApiAuth {
  /** A server-wide grant (roomCreate, roomList). */
  server(grant: ServerGrant): RequestHandler;
  /** A grant for the room of the route (`:room`), or, for a route without one, for every room. */
  room(grant: RoomGrant): RequestHandler;
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer +([A-Za-z0-9_.~+/=-]{1,4096})$/i.exec(header) : null;
  return match?.[1];
}

export function apiAuth(keys: ApiKeys): ApiAuth {
  const check = (grant: ServerGrant | RoomGrant, roomOf: (req: Request) => string | undefined): RequestHandler => {
    if (keys.size === 0) return (_req, _res, next) => next();
    return async (req, _res, next) => {
      const token = bearer(req);
      if (token === undefined) throw new UnauthorizedError('this API needs a token: Authorization: Bearer <token> (mcu token)');
      let grants;
      try {
        grants = (await verifyToken(token, keys)).grants;
      } catch (error) {
        if (!(error instanceof TokenError)) throw error;
        log.info({ remote: req.socket.remoteAddress, path: req.path, reason: error.reason }, 'API token refused');
        throw new UnauthorizedError(error.message);
      }
      const room = roomOf(req);
      if (!allows(grants, grant, room)) {
        const scope = grant === 'roomCreate' || grant === 'roomList' ? '' : room !== undefined ? ` for room ${room}` : ' for every room';
        throw new ForbiddenError(`the token does not grant ${grant}${scope}`);
      }
      next();
    };
  };
  return {
    server: (grant) => check(grant, () => undefined),
    room: (grant) => check(grant, (req) => (typeof req.params.room === 'string' ? req.params.room : undefined)),
  };
}
