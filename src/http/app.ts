import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../mixer/logger.ts';
import { ProtocolError } from '../errors.ts';
import type { Room } from '../rooms/Room.ts';
import type { Rooms } from '../rooms/Rooms.ts';
import { roomNameSchema } from '../signaling/messages.ts';
import { createRoomSchema, describeIssue, updateRoomSchema } from './apiSchemas.ts';

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

const STATUS_BY_CODE: Record<string, number> = { room_not_found: 404, room_full: 409, bad_request: 400 };

function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

async function roomOf(rooms: Rooms, req: Request): Promise<Room> {
  const name = String(req.params.room);
  if (!roomNameSchema.safeParse(name).success) throw new ApiError(400, 'bad_request', 'room must be 1-64 of A-Z a-z 0-9 _ -');
  const room = await rooms.get(name);
  if (!room || room.closed) throw new ApiError(404, 'room_not_found', `room ${name} does not exist`);
  return room;
}

/** The HTTP side: the web page at `/` and the REST API under `/api` (see README). */
export function createApp(rooms: Rooms): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.static(WEB_ROOT));
  app.use('/api', express.json({ limit: MAX_BODY }));

  app.get('/api', (_req, res) => {
    res.json({ name: 'mcu', socket: '/socket', endpoints: ['/api/rooms', '/api/rooms/:room', '/api/rooms/:room/participants/:id'] });
  });

  app.get('/api/rooms', async (_req, res) => {
    const list = await rooms.list();
    res.json({ rooms: await Promise.all(list.map((room) => room.stats())) });
  });

  app.post('/api/rooms', async (req, res) => {
    const parsed = createRoomSchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'bad_request', describeIssue(parsed.error));
    const body = parsed.data;
    const existing = await rooms.get(body.name);
    if (existing && !existing.closed) throw new ApiError(409, 'room_exists', `room ${body.name} already exists`);
    const room = await rooms.create(body.name, {
      ...(body.maxParticipants !== undefined ? { maxParticipants: body.maxParticipants } : {}),
      session: {
        ...rooms.defaults.session,
        ...(body.size ? { canvas: body.size } : {}),
        ...(body.fps !== undefined ? { fps: body.fps } : {}),
        ...(body.bitrateKbps !== undefined ? { videoBitrateKbps: body.bitrateKbps } : {}),
        ...(body.layout ? { layout: { kind: body.layout } } : {}),
      },
    });
    res.status(201).json(await room.stats());
  });

  app.get('/api/rooms/:room', async (req, res) => {
    res.json(await (await roomOf(rooms, req)).stats());
  });

  app.patch('/api/rooms/:room', async (req, res) => {
    const room = await roomOf(rooms, req);
    const parsed = updateRoomSchema.safeParse(req.body);
    if (!parsed.success) throw new ApiError(400, 'bad_request', describeIssue(parsed.error));
    const { layout, presenter } = parsed.data;
    room.setLayout(layout === 'presenter' ? { kind: layout, ...(presenter ? { presenter } : {}) } : { kind: layout });
    res.json(await room.stats());
  });

  app.delete('/api/rooms/:room', async (req, res) => {
    const room = await roomOf(rooms, req);
    await room.close('the room was deleted');
    res.status(204).end();
  });

  app.delete('/api/rooms/:room/participants/:id', async (req, res) => {
    const room = await roomOf(rooms, req);
    const id = String(req.params.id);
    if (!room.kick(id)) throw new ApiError(404, 'participant_not_found', `no participant ${id} in room ${room.name}`);
    res.status(204).end();
  });

  app.use('/api', (_req, res) => sendError(res, 404, 'not_found', 'no such API endpoint'));

  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    if (error instanceof ApiError) return sendError(res, error.status, error.code, error.message);
    if (error instanceof ProtocolError) return sendError(res, STATUS_BY_CODE[error.code] ?? 400, error.code, error.message);
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // express.json(): malformed JSON (400) or a body over the limit (413).
      return sendError(res, status, status === 413 ? 'too_large' : 'bad_request', (error as Error).message);
    }
    log.error({ err: error }, 'API request failed');
    sendError(res, 500, 'internal', 'the server could not handle that request');
  };
  app.use(onError);
  return app;
}
