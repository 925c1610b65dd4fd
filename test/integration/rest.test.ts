import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { RawClient } from '../helpers/socketClient.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { until } from '../helpers/wait.ts';

describe('REST API against a running server', () => {
  let server: RunningServer;
  const api = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);
  const post = (path: string, body: unknown) =>
    api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  it('creates a room with its settings, lists it, gets it, and deletes it', async () => {
    const created = await post('/api/rooms', {
      name: 'api-room',
      maxParticipants: 3,
      size: '640x360',
      fps: 25,
      bitrateKbps: 800,
      placeholderAfterSeconds: 1.5,
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name: 'api-room',
      participants: [],
      sessionRunning: false,
      // Without a ladder of its own, the server's rungs that fit below its composite.
      settings: { maxParticipants: 3, size: '640x360', fps: 25, bitrateKbps: 800, placeholderAfterSeconds: 1.5, ladder: ['640x360@800', '640x360@500', '320x180@150'] },
    });
    const room = await server.rooms.get('api-room');
    expect(room?.settings.maxParticipants).toBe(3);
    expect(room?.settings.session).toMatchObject({ canvas: { width: 640, height: 360 }, fps: 25, videoBitrateKbps: 800, placeholderAfterMs: 1500 });

    const list = (await (await api('/api/rooms')).json()) as { rooms: { name: string }[] };
    expect(list.rooms.map((r) => r.name)).toContain('api-room');
    const one = await api('/api/rooms/api-room');
    expect(one.status).toBe(200);
    expect(((await one.json()) as { name: string }).name).toBe('api-room');

    expect((await api('/api/rooms/api-room', { method: 'DELETE' })).status).toBe(204);
    expect((await api('/api/rooms/api-room')).status).toBe(404);
  });

  it.each([
    ['no name', {}, 'name'],
    ['a bad name', { name: 'a b' }, 'name'],
    ['an odd size', { name: 'x', size: '641x360' }, 'even'],
    ['a bad size', { name: 'x', size: 'big' }, 'size'],
    ['too many participants', { name: 'x', maxParticipants: 26 }, 'maxParticipants'],
    ['an unknown field', { name: 'x', colour: 'red' }, 'colour'],
    ['a string fps', { name: 'x', fps: '30' }, 'fps'],
    ['a placeholder time of 0', { name: 'x', placeholderAfterSeconds: 0 }, 'placeholderAfterSeconds'],
    ['a ladder that is not rungs', { name: 'x', ladder: '640x360' }, 'ladder: must be WIDTHxHEIGHT@KBPS rungs'],
    ['a rung larger than the composite', { name: 'x', size: '640x360', ladder: '1280x720@500' }, 'ladder: must fit below the composite 640x360@1500 (rung 1): rung 2 (1280x720@500): larger'],
    ['a rung dearer than the one above it', { name: 'x', ladder: '640x360@500,320x180@600' }, 'rung 3 (320x180@600): each rung is smaller and has a lower bitrate'],
  ])('refuses a room with %s: 400 and a message naming the problem', async (_what, body, word) => {
    const res = await post('/api/rooms', body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('bad_request');
    expect(error.message).toContain(word);
  });

  it('creates a room with a ladder of its own, or none, and reports it', async () => {
    const created = await post('/api/rooms', { name: 'ladder-room', bitrateKbps: 2000, ladder: '960x540@900, 480x270@300' });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { settings: { ladder: string[] } }).settings.ladder).toEqual(['1280x720@2000', '960x540@900', '480x270@300']);
    expect((await server.rooms.get('ladder-room'))?.settings.session.rungs).toEqual([
      { width: 960, height: 540, kbps: 900 },
      { width: 480, height: 270, kbps: 300 },
    ]);
    const fetched = (await (await api('/api/rooms/ladder-room')).json()) as { settings: { ladder: string[] } };
    expect(fetched.settings.ladder).toEqual(['1280x720@2000', '960x540@900', '480x270@300']);

    const bare = await post('/api/rooms', { name: 'no-ladder-room', ladder: 'none' });
    expect(((await bare.json()) as { settings: { ladder: string[] } }).settings.ladder).toEqual(['1280x720@1500']);
    // A refused ladder makes no room.
    expect((await post('/api/rooms', { name: 'refused-ladder', ladder: '320x180@150,640x360@500' })).status).toBe(400);
    expect((await api('/api/rooms/refused-ladder')).status).toBe(404);
  });

  it('answers malformed JSON, a duplicate room, unknown rooms and endpoints with JSON errors', async () => {
    const bad = await api('/api/rooms', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('bad_request');

    expect((await post('/api/rooms', { name: 'twice' })).status).toBe(201);
    const again = await post('/api/rooms', { name: 'twice' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('room_exists');

    const missing = await api('/api/rooms/nowhere');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('room_not_found');
    expect((await api('/api/rooms/nowhere', { method: 'DELETE' })).status).toBe(404);
    expect((await api('/api/nothing-here')).status).toBe(404);
  });

  it('switches the layout at runtime, and refuses a presenter who is not in the room', async () => {
    expect((await post('/api/rooms', { name: 'layout-room', layout: 'speaker' })).status).toBe(201);
    const patch = (body: unknown) =>
      api('/api/rooms/layout-room', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const grid = await patch({ layout: 'grid' });
    expect(grid.status).toBe(200);
    expect(((await grid.json()) as { layout: unknown }).layout).toEqual({ kind: 'grid' });

    expect((await patch({ layout: 'mosaic' })).status).toBe(400);
    const noPresenter = await patch({ layout: 'presenter' });
    expect(noPresenter.status).toBe(400);
    expect(((await noPresenter.json()) as { error: { message: string } }).error.message).toContain('presenter');
    expect((await patch({ layout: 'presenter', presenter: 'nobody' })).status).toBe(400);

    const carol = await RawClient.connect(server.socketUrl);
    carol.send(JSON.stringify({ type: 'join', room: 'layout-room', name: 'carol' }));
    await until(() => (carol.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'carol joined');
    const carolId = String(carol.replies.find((r) => r.type === 'joined')?.id);
    const presenter = await patch({ layout: 'presenter', presenter: carolId });
    expect(presenter.status).toBe(200);
    expect(((await presenter.json()) as { layout: unknown }).layout).toEqual({ kind: 'presenter', presenter: carolId });
    carol.close();
  });

  it('kicks a participant, who is told, and tells everyone when its room is deleted', async () => {
    expect((await post('/api/rooms', { name: 'kick-room' })).status).toBe(201);
    const alice = await RawClient.connect(server.socketUrl);
    const bob = await RawClient.connect(server.socketUrl);
    alice.send(JSON.stringify({ type: 'join', room: 'kick-room', name: 'alice' }));
    bob.send(JSON.stringify({ type: 'join', room: 'kick-room', name: 'bob' }));
    await until(() => (alice.replies.some((r) => r.type === 'joined') && bob.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'both joined');
    const aliceId = String(alice.replies.find((r) => r.type === 'joined')?.id);

    expect((await api('/api/rooms/kick-room/participants/nobody', { method: 'DELETE' })).status).toBe(404);
    expect((await api(`/api/rooms/kick-room/participants/${aliceId}`, { method: 'DELETE' })).status).toBe(204);
    await until(() => (alice.errors().some((e) => e.code === 'kicked') ? true : undefined), 5000, 'alice told she was kicked');
    const room = await server.rooms.get('kick-room');
    expect(room?.participants().map((p) => p.name)).toEqual(['bob']);

    expect((await api('/api/rooms/kick-room', { method: 'DELETE' })).status).toBe(204);
    await until(() => (bob.errors().some((e) => e.code === 'room_closed') ? true : undefined), 5000, 'bob told the room closed');
    alice.close();
    bob.close();
  });
});
