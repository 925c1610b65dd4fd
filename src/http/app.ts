import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../base/log/logger.ts';
import type { Rung } from '../../mixer/logic/ladder.ts';
import { ProtocolError } from '../errors.ts';
import type { MetricsEndpoint } from '../metrics/metrics.ts';
import { isRefusalCode, type Refusals } from '../metrics/refusals.ts';
import { RecordingError, type RecordingErrorCode } from '../recording/errors.ts';
import { defaultRecordingName, planRecordingTarget, prepareRecordingTarget } from '../recording/recordingPath.ts';
import type { RecoveredRecording } from '../recording/recovery.ts';
import type { Room } from '../rooms/Room.ts';
import type { Rooms } from '../rooms/Rooms.ts';
import { checkLowerRungs, rungsThatFit } from '../rooms/roomRungs.ts';
import { roomNameSchema } from '../signaling/messages.ts';
import type { ApiAuth } from './apiAuth.ts';
import { createRoomSchema, describeIssue, startRecordingSchema, updateParticipantSchema, updateRoomSchema } from './apiSchemas.ts';

const log = createLogger('http');
const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
const MAX_BODY = '16kb';

/** An API error: its HTTP status and the protocol-style code and message of the JSON body. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_BY_CODE: Record<string, number> = {
  room_not_found: 404,
  room_full: 409,
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  room_limit: 503,
  participant_limit: 503,
  session_limit: 503,
};
const RECORDING_STATUS: Record<RecordingErrorCode, number> = {
  bad_path: 400,
  file_exists: 409,
  recording_active: 409,
  recording_not_found: 404,
  recorder_failed: 500,
};

export interface AppOptions {
  /** Absolute path of the recordings folder: the only place files are written. */
  recordingsDir: string;
  metrics: MetricsEndpoint;
  /** Unfinished recordings found at start; undefined while still looking and repairing. */
  recovered: () => RecoveredRecording[] | undefined;
  /** The grants each route needs (README, "Security"); none: every request passes. */
  auth?: ApiAuth;
  refusals?: Refusals;
}

const PASS: ApiAuth = { server: () => (_req, _res, next) => next(), room: () => (_req, _res, next) => next() };

/** How much of an unread request body is read and dropped before an early answer, and for how long at most. */
const LINGER_BYTES = 1024 * 1024;
const LINGER_MS = 2000;

/**
 * Calls `then` once the request's body has been read (and dropped), or after 1 MiB or 2 s. An
 * answer may come before the body is read (a token is checked first; an unknown path), and a
 * connection closed with unread bytes is reset, which can destroy the answer on its way: the
 * client sees ECONNRESET instead of 401 (seen in the fuzz test). nginx's "lingering close" does the same.
 */
function afterBody(req: Request, then: () => void): void {
  if (req.complete) return then();
  let bytes = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    req.off('data', onData);
    then();
  };
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (bytes > LINGER_BYTES) finish();
  };
  const timer = setTimeout(finish, LINGER_MS);
  req.on('data', onData).once('end', finish).once('error', finish).once('close', finish);
  req.resume();
}

function sendError(res: Response, status: number, code: string, message: string): void {
  afterBody(res.req, () => res.status(status).json({ error: { code, message } }));
}

async function roomOf(rooms: Rooms, req: Request): Promise<Room> {
  const name = String(req.params.room);
  if (!roomNameSchema.safeParse(name).success) throw new ApiError(400, 'bad_request', 'room must be 1-64 of A-Z a-z 0-9 _ -');
  const room = await rooms.get(name);
  if (!room || room.closed) throw new ApiError(404, 'room_not_found', `room ${name} does not exist`);
  return room;
}

/** The HTTP side: the web page at `/`, the REST API under `/api` (see README), metrics at `/metrics`. */
export function createApp(rooms: Rooms, options: AppOptions): Express {
  const app = express();
  const auth = options.auth ?? PASS;
  app.disable('x-powered-by');
  app.use(express.static(WEB_ROOT));
  // Bodies are parsed after the token check: nobody without a token gets the server to parse one.
  const json = express.json({ limit: MAX_BODY });

  /** Checks a requested recording name (or makes one) before anything is created. */
  const recordingTarget = async (room: string, file: string | undefined) =>
    prepareRecordingTarget(options.recordingsDir, planRecordingTarget(options.recordingsDir, file ?? defaultRecordingName(room, new Date())));

  app.get('/metrics', auth.server('roomList'), async (_req, res) => {
    res.type(options.metrics.contentType).send(await options.metrics.render());
  });

  app.get('/api', (_req, res) => {
    res.json({
      name: 'mcu',
      socket: '/socket',
      endpoints: [
        '/api/rooms',
        '/api/rooms/:room',
        '/api/rooms/:room/recording',
        '/api/rooms/:room/participants/:id',
        '/api/recordings',
        '/metrics',
      ],
    });
  });

  app.get('/api/rooms', auth.server('roomList'), async (_req, res) => {
    const list = await rooms.list();
    res.json({ rooms: await Promise.all(list.map((room) => room.stats())) });
  });

  app.post('/api/rooms', auth.server('roomCreate'), json, async (req, res) => {
    const parsed = createRoomSchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'bad_request', describeIssue(parsed.error));
    const body = parsed.data;
    const existing = await rooms.get(body.name);
    if (existing && !existing.closed) throw new ApiError(409, 'room_exists', `room ${body.name} already exists`);
    const defaults = rooms.defaults.session;
    const composite = { ...(body.size ?? defaults.canvas), kbps: body.bitrateKbps ?? defaults.videoBitrateKbps };
    let rungs: Rung[];
    try {
      // Without a ladder of its own, the room takes the server's rungs that fit its composite.
      rungs = body.ladder ? checkLowerRungs(composite, body.ladder) : rungsThatFit(composite, defaults.rungs);
    } catch (error) {
      throw new ApiError(400, 'bad_request', `ladder: ${(error as Error).message}`);
    }
    const target = body.record !== undefined ? await recordingTarget(body.name, body.record) : undefined;
    const room = await rooms.create(body.name, {
      ...(body.maxParticipants !== undefined ? { maxParticipants: body.maxParticipants } : {}),
      session: {
        ...defaults,
        ...(body.size ? { canvas: body.size } : {}),
        ...(body.fps !== undefined ? { fps: body.fps } : {}),
        ...(body.bitrateKbps !== undefined ? { videoBitrateKbps: body.bitrateKbps } : {}),
        rungs,
        ...(body.placeholderAfterSeconds !== undefined ? { placeholderAfterMs: Math.round(body.placeholderAfterSeconds * 1000) } : {}),
        ...(body.layout ? { layout: { kind: body.layout } } : {}),
      },
    });
    if (target) {
      try {
        await room.startRecording(target);
      } catch (error) {
        // All or nothing: a room whose recording could not start is not left behind.
        await room.close();
        throw error;
      }
    }
    res.status(201).json(await room.stats());
  });

  app.get('/api/rooms/:room', auth.room('roomAdmin'), async (req, res) => {
    res.json(await (await roomOf(rooms, req)).stats());
  });

  app.patch('/api/rooms/:room', auth.room('roomAdmin'), json, async (req, res) => {
    const room = await roomOf(rooms, req);
    const parsed = updateRoomSchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'bad_request', describeIssue(parsed.error));
    const { layout, presenter } = parsed.data;
    room.setLayout(layout === 'presenter' ? { kind: layout, ...(presenter ? { presenter } : {}) } : { kind: layout });
    res.json(await room.stats());
  });

  app.delete('/api/rooms/:room', auth.server('roomCreate'), async (req, res) => {
    const room = await roomOf(rooms, req);
    await room.close('the room was deleted');
    res.status(204).end();
  });

  app.post('/api/rooms/:room/recording', auth.room('roomRecord'), json, async (req, res) => {
    const room = await roomOf(rooms, req);
    const parsed = startRecordingSchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new ApiError(400, 'bad_request', describeIssue(parsed.error));
    const target = await recordingTarget(room.name, parsed.data.file);
    res.status(201).json(await room.startRecording(target));
  });

  app.get('/api/rooms/:room/recording', auth.room('roomRecord'), async (req, res) => {
    const room = await roomOf(rooms, req);
    const recording = room.recording;
    if (!recording) throw new RecordingError('recording_not_found', `room ${room.name} has not been recorded`);
    res.json(recording);
  });

  app.delete('/api/rooms/:room/recording', auth.room('roomRecord'), async (req, res) => {
    const room = await roomOf(rooms, req);
    res.json(await room.stopRecording());
  });

  app.get('/api/recordings', auth.room('roomRecord'), async (_req, res) => {
    const active = (await rooms.list()).map((room) => room.recording).filter((r) => r !== undefined);
    res.json({ folder: options.recordingsDir, recordings: active, recovered: options.recovered() ?? null });
  });

  app.delete('/api/rooms/:room/participants/:id', auth.room('roomAdmin'), async (req, res) => {
    const room = await roomOf(rooms, req);
    const id = String(req.params.id);
    if (!room.kick(id)) throw new ApiError(404, 'participant_not_found', `no participant ${id} in room ${room.name}`);
    res.status(204).end();
  });

  app.patch('/api/rooms/:room/participants/:id', auth.room('roomAdmin'), json, async (req, res) => {
    const room = await roomOf(rooms, req);
    const id = String(req.params.id);
    const parsed = updateParticipantSchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'bad_request', describeIssue(parsed.error));
    if (!room.getParticipant(id)) throw new ApiError(404, 'participant_not_found', `no participant ${id} in room ${room.name}`);
    const audioOnly = room.settings.session.rungs.length + 1;
    const cap = parsed.data.rungCap ?? 0;
    if (cap > audioOnly) throw new ApiError(400, 'bad_request', `rungCap must be from 0 to ${audioOnly} (0 or null: no cap; ${audioOnly}: audio only)`);
    if (!room.setRungCap(id, cap)) {
      throw new ApiError(400, 'bad_request', `participant ${id} receives no VP8 composite (it receives no video, or H.264, or has not sent its offer yet)`);
    }
    res.json((await room.stats()).viewers[id]);
  });

  app.use('/api', (_req, res) => sendError(res, 404, 'not_found', 'no such API endpoint'));

  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    if (error instanceof ApiError) return sendError(res, error.status, error.code, error.message);
    if (error instanceof ProtocolError) {
      if (isRefusalCode(error.code)) options.refusals?.count(error.code, 'api');
      if (error.code === 'unauthorized') res.set('WWW-Authenticate', 'Bearer realm="mcu"');
      return sendError(res, STATUS_BY_CODE[error.code] ?? 400, error.code, error.message);
    }
    if (error instanceof RecordingError) {
      if (error.code === 'recorder_failed') log.error({ err: error }, 'recording failed to start');
      return sendError(res, RECORDING_STATUS[error.code], error.code, error.message);
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // express.json(): malformed JSON (400) or a body over the limit (413).
      return sendError(res, status, status === 413 ? 'too_large' : 'bad_request', (error as Error).message);
    }
    log.error({ err: error }, 'API request failed');
    sendError(res, 500, 'internal', 'the server could not handle that request');
  };
  app.use(onError);
  // Express's own 404 for the rest, once a body sent along has been read.
  app.use((req: Request, _res: Response, next: () => void) => afterBody(req, next));
  return app;
}
