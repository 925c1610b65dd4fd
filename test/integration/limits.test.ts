import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type ServerLimits } from '../../src/config.ts';
import type { RunningServer } from '../../src/server.ts';
import { sessionProcesses } from '../helpers/processes.ts';
import { RawClient } from '../helpers/socketClient.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { sleep, until } from '../helpers/wait.ts';

// Limits that hold under abuse (README, "Security"): each answers with its own error code, is
// counted in /metrics, and leaves nothing of the refused client behind.

const CHROME_OFFER = readFileSync(new URL('../fixtures/chrome-offer.sdp', import.meta.url), 'utf8');
/** A session starting on a loaded 2-core machine took over 20 s to answer once (load average 15-30). */
const ANSWER_MS = 60_000;

/** Waits for the answer to an offer sent after reply `from`; an error instead fails with its message. */
async function answered(client: RawClient, from: number, what: string): Promise<void> {
  const reply = await until(() => client.replies.slice(from).find((r) => r.type === 'answer' || r.type === 'error'), ANSWER_MS, what);
  expect(reply, what).toMatchObject({ type: 'answer' });
}

let server: RunningServer | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
});

async function serverWith(limits: Partial<ServerLimits>, extra: Parameters<typeof startTestServer>[0] = {}): Promise<RunningServer> {
  server = await startTestServer({ limits: { ...DEFAULT_CONFIG.limits, ...limits }, ...extra });
  return server;
}

async function connect(url: string, options?: Parameters<typeof RawClient.connect>[1]): Promise<RawClient> {
  const client = await RawClient.connect(url, options);
  clients.push(client);
  return client;
}

/** Joins `room` and waits for `joined` or `error`; returns the reply. */
async function join(url: string, room: string): Promise<{ client: RawClient; reply: RawClient['replies'][number] }> {
  const client = await connect(url);
  client.send(JSON.stringify({ type: 'join', room, name: room }));
  const reply = await until(() => client.replies.find((r) => r.type === 'joined' || r.type === 'error'), 5000, `an answer to the join of ${room}`);
  return { client, reply };
}

async function metric(s: RunningServer, code: string, via = 'socket'): Promise<number> {
  const text = await (await fetch(new URL('/metrics', s.url))).text();
  return Number(new RegExp(`mcu_refusals_total\\{code="${code}",via="${via}"\\} (\\d+)`).exec(text)?.[1]);
}

describe('limits', () => {
  it('message rate: frames over it are dropped, the first of a run told (rate_limited), a flood closes the socket', async () => {
    // Slow refill: 40 frames arrive well within the 2 s one token takes, even on a busy machine.
    const s = await serverWith({ messages: { burst: 10, perSecond: 0.5 } });
    const client = await connect(s.socketUrl);
    for (let i = 0; i < 40; i++) client.send('not json');
    await until(() => (client.replies.length >= 11 ? true : undefined), 5000, '11 replies');
    await sleep(300);
    expect(client.replies.slice(0, 10).every((r) => r.code === 'bad_request')).toBe(true);
    expect(client.replies.slice(10)).toEqual([{ type: 'error', code: 'rate_limited', message: expect.stringContaining('at most 0.5 a second') }]);
    expect(client.closed).toBe(false);
    // It refills: a frame two seconds later is answered again.
    await sleep(2100);
    client.send('not json');
    await until(() => (client.replies.length === 12 ? true : undefined), 5000, 'an answer after the pause');
    expect(client.replies[11]?.code).toBe('bad_request');
    expect(await metric(s, 'rate_limited')).toBe(30);

    for (let i = 0; i < 1200; i++) client.send('{}');
    await until(() => (client.closed ? true : undefined), 5000, 'the flooding socket to close');
    expect(client.closeCode).toBe(4008);
  });

  it('join rate per address: over it, joins are refused (join_rate_limited) and the socket stays open', async () => {
    const s = await serverWith({ joins: { burst: 3, perSecond: 0.01 } });
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await join(s.socketUrl, `j${i}`));
    expect(replies.map((r) => r.reply.type)).toEqual(['joined', 'joined', 'joined', 'error', 'error']);
    expect(replies[3]!.reply.code).toBe('join_rate_limited');
    expect(replies[4]!.client.closed).toBe(false);
    expect((await s.rooms.list()).map((r) => r.name).sort()).toEqual(['j0', 'j1', 'j2']);
    expect(await metric(s, 'join_rate_limited')).toBe(2);
  });

  it('rooms: a join or an API request for one more room is refused (room_limit), and no room is made', async () => {
    const s = await serverWith({ rooms: 2 });
    expect((await join(s.socketUrl, 'r1')).reply.type).toBe('joined');
    expect((await join(s.socketUrl, 'r2')).reply.type).toBe('joined');
    const third = await join(s.socketUrl, 'r3');
    expect(third.reply).toMatchObject({ type: 'error', code: 'room_limit' });
    const api = await fetch(new URL('/api/rooms', s.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"r4"}' });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('room_limit');
    expect((await s.rooms.list()).length).toBe(2);
    // A room that is gone frees its place.
    clients[0]!.close();
    await until(async () => ((await s.rooms.get('r1')) === undefined ? true : undefined), 5000, 'r1 to go');
    expect((await join(s.socketUrl, 'r3')).reply.type).toBe('joined');
    expect(await metric(s, 'room_limit')).toBe(1);
    expect(await metric(s, 'room_limit', 'api')).toBe(1);
  });

  it('participants on the server: one more is refused (participant_limit) and not added', async () => {
    const s = await serverWith({ participants: 2 });
    await join(s.socketUrl, 'a');
    await join(s.socketUrl, 'a');
    const third = await join(s.socketUrl, 'b');
    expect(third.reply).toMatchObject({ type: 'error', code: 'participant_limit' });
    expect(s.rooms.participantCount).toBe(2);
    expect(await s.rooms.get('b')).toBeUndefined();
  });

  it('sessions: an offer that would start one more is refused (session_limit); its participant is removed, no process is left', async () => {
    const s = await serverWith({ sessions: 1 });
    const first = await join(s.socketUrl, 's1');
    first.client.send(JSON.stringify({ type: 'offer', sdp: CHROME_OFFER }));
    await answered(first.client, 0, 'the first answer');
    // The answer does not wait for the session: it starts beside it.
    const running = await until(() => (sessionProcesses().length === 2 ? sessionProcesses() : undefined), ANSWER_MS, 'the session and its spawner');

    const second = await join(s.socketUrl, 's2');
    expect(second.reply.type).toBe('joined');
    second.client.send(JSON.stringify({ type: 'offer', sdp: CHROME_OFFER }));
    const refused = await until(() => second.client.errors()[0], 10_000, 'the refusal');
    expect(refused).toMatchObject({ code: 'session_limit' });
    expect(second.client.closed).toBe(false);
    await until(async () => ((await s.rooms.get('s2')) === undefined ? true : undefined), 5000, 'room s2 to go with its participant');
    expect(sessionProcesses()).toEqual(running);

    // Once the first session has ended, the second room gets one.
    first.client.close();
    await until(() => (sessionProcesses().length === 0 ? true : undefined), ANSWER_MS, 'the first session to end');
    second.client.send(JSON.stringify({ type: 'join', room: 's2', name: 'again' }));
    await until(() => (second.client.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'joined again');
    const from = second.client.replies.length;
    second.client.send(JSON.stringify({ type: 'offer', sdp: CHROME_OFFER }));
    await answered(second.client, from, 'the second answer');
    expect(await metric(s, 'session_limit')).toBe(1);
    second.client.close();
    await until(() => (sessionProcesses().length === 0 ? true : undefined), ANSWER_MS, 'every session to end');
  }, 5 * ANSWER_MS);

  it('origins: a page of another origin is refused (origin_not_allowed); the page itself, a listed origin and clients without one are not', async () => {
    const s = await serverWith({}, { allowedOrigins: ['https://app.example.com'] });
    const own = new URL(s.url).origin;
    const port = new URL(s.url).port;
    const verdicts: Record<string, string> = {};
    for (const origin of [undefined, own, `http://localhost:${port}`, 'https://app.example.com', 'https://evil.example', `http://evil.example:${port}`, 'null']) {
      // The Host a browser would send for that page.
      const host = origin?.match(/^http:\/\/((?:localhost|evil\.example):\d+)$/)?.[1];
      const client = await connect(s.socketUrl, origin ? { origin, ...(host ? { headers: { host } } : {}) } : {});
      client.send(JSON.stringify({ type: 'join', room: 'o', name: 'o' }));
      const reply = await until(() => client.replies.find((r) => r.type === 'joined' || r.type === 'error'), 5000, `an answer for ${origin}`);
      verdicts[String(origin)] = String(reply.code ?? reply.type);
      if (reply.code === 'origin_not_allowed') await until(() => (client.closed ? client.closeCode : undefined), 5000, 'the close');
    }
    expect(verdicts).toEqual({
      undefined: 'joined',
      [own]: 'joined',
      [`http://localhost:${port}`]: 'joined',
      'https://app.example.com': 'joined',
      'https://evil.example': 'origin_not_allowed',
      // A name rebound to 127.0.0.1: same "origin" as its Host, but not a loopback name.
      [`http://evil.example:${port}`]: 'origin_not_allowed',
      null: 'origin_not_allowed',
    });
    expect(await metric(s, 'origin_not_allowed')).toBe(3);
  });
});
