import express, { type Express } from 'express';
import { fileURLToPath } from 'node:url';
import type { Rooms } from '../rooms/Rooms.ts';

const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

/** The HTTP side: the web page at `/` and the REST API under `/api`. */
export function createApp(rooms: Rooms): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.static(WEB_ROOT));
  app.get('/api', (_req, res) => {
    res.json({ name: 'mcu', socket: '/socket', endpoints: ['/api/rooms'] });
  });
  app.get('/api/rooms', async (_req, res) => {
    const list = await rooms.list();
    res.json({ rooms: list.map((room) => room.summary()) });
  });
  app.use('/api', (_req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: 'no such API endpoint' } });
  });
  return app;
}
