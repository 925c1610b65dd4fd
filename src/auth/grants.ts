import { z } from 'zod';
import type { ParticipantAccess } from '../rooms/ParticipantTypes.ts';
import { roomNameSchema } from '../signaling/messages.ts';

/**
 * What a token allows: LiveKit's `video` grant, with the same names, so that its tooling and
 * habits carry over. Booleans left out are false, except canPublish and canSubscribe (true, as
 * in LiveKit). Grants this server does not know are kept and ignored.
 */
export const grantsSchema = z.looseObject({
  room: roomNameSchema.optional(),
  roomJoin: z.boolean().optional(),
  canPublish: z.boolean().optional(),
  canSubscribe: z.boolean().optional(),
  hidden: z.boolean().optional(),
  recorder: z.boolean().optional(),
  roomAdmin: z.boolean().optional(),
  roomCreate: z.boolean().optional(),
  roomList: z.boolean().optional(),
  roomRecord: z.boolean().optional(),
});

export type Grants = z.infer<typeof grantsSchema>;

export const GRANT_NAMES = [
  'roomJoin',
  'canPublish',
  'canSubscribe',
  'hidden',
  'recorder',
  'roomAdmin',
  'roomCreate',
  'roomList',
  'roomRecord',
] as const;
export type GrantName = (typeof GRANT_NAMES)[number];

export function parseGrantName(raw: string): GrantName | undefined {
  return (GRANT_NAMES as readonly string[]).includes(raw) ? (raw as GrantName) : undefined;
}

/** What a verified token says: who (`sub`), under which name, with which grants. */
export interface TokenClaims {
  identity: string;
  name?: string;
  grants: Grants;
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
  /** The API key that signed it. */
  key: string;
}

/** The grants of the REST API: server-wide ones, and ones for one room (or every room, unscoped). */
export type ServerGrant = 'roomCreate' | 'roomList';
export type RoomGrant = 'roomAdmin' | 'roomRecord';

/**
 * Whether `grants` allow `need`. roomCreate and roomList are server-wide. roomAdmin and roomRecord
 * apply to the token's room, or to every room when the token names none; `room` undefined asks
 * for every room at once (e.g. the list of all recordings). Pure.
 */
export function allows(grants: Grants, need: ServerGrant | RoomGrant, room?: string): boolean {
  if (grants[need] !== true) return false;
  if (need === 'roomCreate' || need === 'roomList') return true;
  return grants.room === undefined || grants.room === room;
}

/** Why a join with these grants into `room` is refused, or undefined when it is allowed. Pure. */
export function joinRefusal(grants: Grants, room: string): string | undefined {
  if (grants.roomJoin !== true) return 'the token does not grant roomJoin';
  if (grants.room === undefined) return 'the token names no room';
  if (grants.room !== room) return `the token is for room ${grants.room}, not ${room}`;
  return undefined;
}

/** What a participant joined with these grants may do. Hidden and recorder participants are listed to nobody and do not publish. */
export function participantAccess(grants: Grants): ParticipantAccess {
  const hidden = grants.hidden === true || grants.recorder === true;
  return { publish: grants.canPublish !== false && !hidden, subscribe: grants.canSubscribe !== false, hidden };
}
