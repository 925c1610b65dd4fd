import { z } from 'zod';

/** Schemas of the protocol's messages; every frame from a client is validated against them. */

export const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const roomNameSchema = z.string().regex(ROOM_NAME, 'room must be 1-64 of A-Z a-z 0-9 _ -');

/** The largest frame a client may send (the signaling protocol's). */
export const MAX_FRAME_BYTES = 64 * 1024;

const iceCandidateSchema = z.object({
  candidate: z.string().max(4096).optional(),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

export const clientMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('join'),
    room: roomNameSchema,
    name: z.string().min(1, 'name must not be empty').max(64, 'name must be at most 64 characters'),
    token: z.string().max(4096).optional(),
  }),
  z.object({ type: z.literal('offer'), sdp: z.string().min(1).max(MAX_FRAME_BYTES) }),
  z.object({ type: z.literal('candidate'), candidate: iceCandidateSchema.nullable() }),
  z.object({ type: z.literal('leave') }),
  /** Ours: the best rung of the ladder this viewer wants (an index into `rung.rungs`; their count: audio only; null: any). */
  z.object({ type: z.literal('cap'), rung: z.number().int().min(0).max(16).nullable() }),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type IceCandidateInit = z.infer<typeof iceCandidateSchema>;

export interface ParticipantSummary {
  id: string;
  name: string;
}

export interface IceServerInit {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export type ServerMessage =
  | { type: 'joined'; room: string; id: string; iceServers: IceServerInit[]; participants: ParticipantSummary[] }
  | { type: 'answer'; sdp: string }
  | { type: 'candidate'; candidate: IceCandidateInit | null }
  | { type: 'participants'; participants: ParticipantSummary[] }
  | { type: 'speaker'; id: string | null }
  | { type: 'error'; code: string; message: string }
  /**
   * Ours: the rung of the composite's ladder this viewer receives (an index into `rungs`, best
   * first; their count: audio only), its cap, and its link as its browser reports it.
   */
  | {
      type: 'rung';
      rung: number;
      cap: number;
      rungs: { width: number; height: number; kbps: number }[];
      estimateKbps: number | null;
      receivingKbps: number;
    };

export type ParseResult = { ok: true; message: ClientMessage } | { ok: false; message: string };

/** Parses one text frame: size, JSON, then the schema of its `type`. Never throws. */
export function parseClientFrame(frame: string | Buffer): ParseResult {
  const size = typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length;
  if (size > MAX_FRAME_BYTES) return { ok: false, message: `frame of ${size} bytes is over the ${MAX_FRAME_BYTES}-byte limit` };
  let data: unknown;
  try {
    data = JSON.parse(frame.toString());
  } catch {
    return { ok: false, message: 'frame is not JSON' };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ok: false, message: 'frame must be a JSON object' };
  }
  const type = (data as { type?: unknown }).type;
  if (typeof type !== 'string') return { ok: false, message: 'frame has no string field "type"' };
  const result = clientMessageSchema.safeParse(data);
  if (!result.success) {
    const known = ['join', 'offer', 'candidate', 'leave', 'cap'].includes(type);
    if (!known) return { ok: false, message: `unknown message type "${type.slice(0, 32)}"` };
    const issue = result.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, message: `bad ${type} message: ${where}${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, message: result.data };
}
