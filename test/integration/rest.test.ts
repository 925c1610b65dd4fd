import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server.ts';
import { BotProcess } from '../helpers/bots.ts';
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

  it('caps a viewer’s rung (its data-saver choice): the figures follow, and every refusal says why', async () => {
    expect((await post('/api/rooms', { name: 'cap-room' })).status).toBe(201);
    const patch = (id: string, body: unknown) =>
      api(`/api/rooms/cap-room/participants/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as { error: { code: string; message: string } }).error });
    const viewer = new BotProcess({ url: server.socketUrl, room: 'cap-room', name: 'saver', viewer: true });
    const idle = await RawClient.connect(server.socketUrl);
    try {
      const id = String((await viewer.waitForStart('joined')).id);
      await viewer.waitForFrames(10, 30_000);
      idle.send(JSON.stringify({ type: 'join', room: 'cap-room', name: 'idle' }));
      await until(() => (idle.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'idle joined');
      const idleId = String(idle.replies.find((r) => r.type === 'joined')?.id);

      expect(await errorOf(await patch('nobody', { rungCap: 1 }))).toMatchObject({ status: 404, code: 'participant_not_found' });
      expect(await errorOf(await patch(id, { rungCap: 4 }))).toEqual({ status: 400, code: 'bad_request', message: 'rungCap must be from 0 to 3 (0 or null: no cap; 3: audio only)' });
      expect(await errorOf(await patch(id, { rungCap: -1 }))).toMatchObject({ status: 400, code: 'bad_request' });
      expect(await errorOf(await patch(id, { rung: 1 }))).toMatchObject({ status: 400, code: 'bad_request' });
      // Joined, but no offer: it receives no composite to cap.
      expect(await errorOf(await patch(idleId, { rungCap: 1 }))).toMatchObject({ status: 400, message: expect.stringContaining('receives no VP8 composite') });

      const capped = await patch(id, { rungCap: 2 });
      expect(capped.status).toBe(200);
      expect(await capped.json()).toMatchObject({ cap: 2, rung: 2, width: 320, height: 180 });
      const viewers = async () => ((await (await api('/api/rooms/cap-room')).json()) as { viewers: Record<string, { rung: number; cap: number; height: number }> }).viewers;
      await until(async () => ((await viewers())[id]?.rung === 2 ? true : undefined), 5000, 'the viewer on rung 2 in GET /api/rooms/cap-room');
      expect((await viewers())[id]).toMatchObject({ cap: 2, height: 180 });
      // It still receives video: the lowest rung, in the same stream.
      const frames = Number(viewer.latestStats()?.videoFrames ?? 0);
      const after = await viewer.waitForFrames(frames + 10, 15_000);
      expect(after).toMatchObject({ videoSsrcChanges: 0, videoSeqJumps: 0 });

      const uncapped = await patch(id, { rungCap: null });
      expect(uncapped.status).toBe(200);
      expect(await uncapped.json()).toMatchObject({ cap: 0 });
    } finally {
      idle.close();
      await viewer.stop();
    }
  }, 60_000);

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
