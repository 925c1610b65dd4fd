/**
 * Errors a client can be told about. Each carries the protocol's `code`, so signaling turns any
 * throw into an `error` message with one `instanceof` check.
 */
export type ErrorCode =
  | 'bad_request'
  | 'room_full'
  | 'unauthorized'
  | 'room_not_found'
  | 'not_joined'
  | 'already_joined'
  | 'unsupported_offer'
  | 'internal'
  | 'forbidden'
  | LimitCode;

/** A limit that holds under abuse (README, "Security"): each refusal has its own code and metric. */
export type LimitCode =
  | 'origin_not_allowed'
  | 'rate_limited'
  | 'join_rate_limited'
  | 'room_limit'
  | 'participant_limit'
  | 'session_limit';

export class ProtocolError extends Error {
  override name = 'ProtocolError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Fatal errors close the connection after the `error` message. */
    readonly fatal = false,
  ) {
    super(message);
  }
}

/** The base of an error whose code is fixed and whose message is all a thrower gives. */
function withCode(code: ErrorCode, name: string): new (message: string) => ProtocolError {
  return class extends ProtocolError {
    override name = name;
    constructor(message: string) {
      super(code, message);
    }
  };
}

export class BadRequestError extends withCode('bad_request', 'BadRequestError') {}

export class RoomFullError extends ProtocolError {
  override name = 'RoomFullError';
  constructor(room: string, max: number) {
    super('room_full', `room ${room} is full (${max} participants)`);
  }
}

export class RoomNotFoundError extends ProtocolError {
  override name = 'RoomNotFoundError';
  constructor(room: string) {
    super('room_not_found', `room ${room} does not exist`);
  }
}

export class UnauthorizedError extends ProtocolError {
  override name = 'UnauthorizedError';
  constructor(message = 'a valid token is required') {
    super('unauthorized', message, true);
  }
}

export class UnsupportedOfferError extends withCode('unsupported_offer', 'UnsupportedOfferError') {}

/** A valid token that lacks the grant a request needs (REST: 403). */
export class ForbiddenError extends withCode('forbidden', 'ForbiddenError') {}

export class LimitError extends ProtocolError {
  override name = 'LimitError';
  constructor(
    override readonly code: LimitCode,
    message: string,
    fatal = false,
  ) {
    super(code, message, fatal);
  }
}
