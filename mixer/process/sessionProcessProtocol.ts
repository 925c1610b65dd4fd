import { z } from 'zod';
import { defineProtocol } from '../../base/process/channelProtocol.ts';
import { LAYOUT_KINDS } from '../logic/layout.ts';
import type {
  CompositeSources,
  SessionLayout,
  SessionParticipant,
  SessionParticipantPorts,
  SessionSettings,
  SessionStats,
} from '../SessionTypes.ts';

/**
 * The channel between a SessionProcess (the server) and its session's own process
 * (sessionProcessMain). The objects the session's types describe are loose: the fields named
 * here are checked, and a field the types gain reaches the other side before a schema names it.
 */

const port = z.number().int().min(1).max(65535);
const payloadType = z.number().int().min(0).max(127);
const size = z.object({ width: z.number().int().positive(), height: z.number().int().positive() });
const ssrc = z.number().int().min(0).max(0xffffffff);

const layoutSchema: z.ZodType<SessionLayout> = z.object({ kind: z.enum(LAYOUT_KINDS), presenter: z.string().optional() });

const settingsSchema: z.ZodType<SessionSettings> = z.looseObject({
  canvas: size,
  fps: z.number().positive(),
  videoBitrateKbps: z.number().positive(),
  audioBitrateKbps: z.number().positive(),
  mixFecLossPercent: z.number().min(0).max(100),
  tileSource: size,
  keyframeIntervalSeconds: z.number().positive(),
  placeholderAfterMs: z.number().nonnegative(),
  layout: layoutSchema,
  compositePort: port,
  compositeH264Port: port,
  everyoneMixPort: port,
  rungs: z.array(z.object({ width: z.number().int().positive(), height: z.number().int().positive(), kbps: z.number().positive() })),
  rungPorts: z.array(port).optional(),
});

const participantSchema: z.ZodType<SessionParticipant> = z.looseObject({
  id: z.string().min(1),
  name: z.string(),
  video: z.object({ codec: z.enum(['VP8', 'H264']), payloadType }).optional(),
  audio: z.object({ payloadType }).optional(),
  mixPort: port.optional(),
  receivesH264: z.boolean().optional(),
});

const portsSchema: z.ZodType<SessionParticipantPorts> = z.object({ videoPort: port.optional(), audioPort: port.optional() });

const rungIndex = z.number().int().min(0).max(16);
const compositeSourcesSchema: z.ZodType<CompositeSources> = z.object({
  vp8: ssrc,
  h264: ssrc.optional(),
  rungs: z.array(z.object({ index: rungIndex, ssrc })).optional(),
});

const count = z.number().nonnegative();
/** Every field of SessionStats, and no other: a field the type loses must leave the schema too. */
const statsShape = {
  participants: count,
  tiles: z.array(z.string()),
  layout: layoutSchema,
  tileSource: size,
  compositorFramesWritten: count,
  compositorTicksSkipped: count,
  videoClockSkipped: count,
  decoderRestarts: count,
  compositorRestarts: count,
  compositeKeyframes: count,
  audio: z.record(z.string(), z.unknown()),
} satisfies { [K in keyof SessionStats]-?: z.ZodType<SessionStats[K]> };
const statsSchema: z.ZodType<SessionStats> = z.looseObject(statsShape);

export const sessionProtocol = defineProtocol({
  requests: {
    /** Starts the session (once); `backgroundNiceness` is the server's (base/process/priority.ts). */
    init: { params: z.object({ settings: settingsSchema, backgroundNiceness: z.number().int().min(0).max(39) }), result: z.void() },
    add: { params: participantSchema, result: portsSchema },
    remove: { params: z.object({ id: z.string() }), result: z.void() },
    /** Closes the session (a spare: its spawner), answers, and the process ends. */
    close: { params: z.undefined(), result: z.void() },
  },
  notifications: {
    switched: z.object({ ssrc }),
    keyframe: z.undefined(),
    layout: layoutSchema,
    h264: z.object({ wanted: z.boolean() }),
    rungs: z.object({ wanted: z.array(rungIndex) }),
  },
  events: {
    keyframeneeded: z.object({ id: z.string(), need: z.enum(['firstframe', 'stalled', 'restarted']) }),
    compositestart: compositeSourcesSchema,
    speaker: z.string().nullable(),
    decoded: z.record(z.string(), count),
    layoutchange: z.array(z.string()),
    firstframe: z.string(),
    /** Sent every STATS_INTERVAL_MS and once after close: what SessionProcess.stats() returns. */
    stats: statsSchema,
  },
});

export type SessionProtocol = typeof sessionProtocol;
