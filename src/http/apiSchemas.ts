import { z } from 'zod';
import { parseLowerRungs } from '../rooms/roomRungs.ts';
import { roomNameSchema } from '../signaling/messages.ts';

/** Bodies of the REST API, validated at the boundary. */

const size = z
  .string()
  .regex(/^\d{2,4}x\d{2,4}$/, 'size must be WIDTHxHEIGHT, e.g. 1280x720')
  .transform((s) => {
    const [width, height] = s.split('x').map(Number) as [number, number];
    return { width, height };
  })
  .refine((s) => s.width >= 64 && s.height >= 64 && s.width <= 3840 && s.height <= 2160, 'size must be from 64x64 to 3840x2160')
  .refine((s) => s.width % 2 === 0 && s.height % 2 === 0, 'width and height must be even');

/** The composite's rungs below it, as `--ladder` takes them; their fit below the composite is checked with the room's size and bitrate. */
const lowerRungs = z
  .string()
  .max(200)
  .transform((text, ctx) => {
    try {
      return parseLowerRungs(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

export const createRoomSchema = z
  .object({
    name: roomNameSchema,
    maxParticipants: z.number().int().min(1).max(25).optional(),
    size: size.optional(),
    fps: z.number().int().min(1).max(60).optional(),
    bitrateKbps: z.number().int().min(100).max(20000).optional(),
    /** How long a stalled publisher's tile holds its last picture before its placeholder shows. */
    placeholderAfterSeconds: z.number().min(0.1).max(600).optional(),
    layout: z.enum(['grid', 'speaker']).optional(),
    ladder: lowerRungs.optional(),
    /** Start recording at once, into this file of the recordings folder. */
    record: z.string().min(1).max(255).optional(),
  })
  .strict();


export const updateRoomSchema = z
  .object({
    layout: z.enum(['grid', 'speaker', 'presenter']),
    presenter: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((b) => b.layout !== 'presenter' || b.presenter !== undefined, {
    message: 'the presenter layout needs a presenter (a participant id)',
    path: ['presenter'],
  });

/** A viewer's data-saver choice: the best rung it receives (0 or null: any; the ladder's length: audio only). */
export const updateParticipantSchema = z
  .object({
    rungCap: z.number().int().min(0).nullable(),
  })
  .strict();

export const startRecordingSchema = z
  .object({
    /** Name inside the recordings folder; its extension picks the container (default: `<room>-<time>.webm`). */
    file: z.string().min(1).max(255).optional(),
  })
  .strict();

/** The first problem of a failed parse, as one line for the client. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  return issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}
