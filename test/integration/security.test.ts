import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import type { Grants } from '../../src/auth/grants.ts';
import { verifyToken } from '../../src/auth/tokens.ts';
import type { RunningServer } from '../../src/server.ts';
import { sessionProcesses } from '../helpers/processes.ts';
import { McuProcess } from '../helpers/serverProcess.ts';
import { RawClient } from '../helpers/socketClient.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { joinToken, mint, TEST_KEY_ENV, TEST_KEYS } from '../helpers/tokens.ts';
import { until } from '../helpers/wait.ts';

// Tokens (README, "Security"): a server with API keys refuses every join and API request without
// a valid token that grants it, and a refused client leaves nothing behind.

const CHROME_OFFER = readFileSync(new URL('../fixtures/chrome-offer.sdp', import.meta.url), 'utf8');
const TURN = { urls: ['turn:127.0.0.1:3478?transport=udp'], secret: 'turn-shared-secret', ttlSeconds: 900 };

/** Connects, sends a join, and waits for `joined`, or for `error` (and the close, when `fatal`). */
async function tryJoin(url: string, message: Record<string, unknown>, fatal = false): Promise<RawClient> {
  const client = await RawClient.connect(url);
  client.send(JSON.stringify({ type: 'join', name: 'typed', ...message }));
  await until(() => (client.replies.some((r) => r.type === 'joined' || r.type === 'error') ? true : undefined), 5000, 'an answer to the join');
  if (fatal) await until(() => (client.closed ? true : undefined), 5000, 'the socket to close');
  return client;
}

describe('a server with API keys: joins over the socket', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ keys: TEST_KEYS, turn: TURN });
  });
  afterAll(async () => {
    await server?.close();
  });

  test.each([
    ['no token', async () => undefined],
    ['a token for another room', () => joinToken('vault')],
    ['an expired token', () => joinToken('lobby', {}, { now: new Date(Date.now() - 3_600_000), ttlSeconds: 600 })],
    ['a token of another key', () => joinToken('lobby', {}, { key: 'APIother', secret: 'x'.repeat(40) })],
    ['a token of this key signed with another secret', () => joinToken('lobby', {}, { secret: 'y'.repeat(40) })],
    ['a tampered token (its room changed after signing)', async () => {
      const [h, p, s] = (await joinToken('vault')).split('.') as [string, string, string];
      const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as { video: Grants };
      payload.video.room = 'lobby';
      return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    }],
    ['a token without the roomJoin grant', () => mint({ room: 'lobby', roomAdmin: true, roomCreate: true })],
    ['a token that is not a JWT', async () => 'garbage'],
  ])('refuses a join with %s: unauthorized, the socket closes, no room, participant or process is left', async (_what, make) => {
    const token = await make();
    const client = await tryJoin(server.socketUrl, { room: 'lobby', ...(token !== undefined ? { token } : {}) }, true);
    expect(client.replies).toEqual([{ type: 'error', code: 'unauthorized', message: expect.any(String) }]);
    expect(client.closeCode).toBe(4001);
    expect(await server.rooms.list()).toEqual([]);
    expect(sessionProcesses()).toEqual([]);
  });

  it('admits a valid token: its name, TURN credentials of its own, and no session before its offer', async () => {
    const before = Date.now();
    const client = await tryJoin(server.socketUrl, { room: 'lobby', token: await joinToken('lobby', {}, { name: 'Ada' }) });
    const joined = client.replies.find((r) => r.type === 'joined') as { id: string; participants: { name: string }[]; iceServers: { urls: string[]; username: string; credential: string }[] };
    expect(joined.participants.map((p) => p.name)).toEqual(['Ada']);
    expect(joined.iceServers).toHaveLength(1);
    const [expiry, identity] = joined.iceServers[0]!.username.split(':');
    expect(identity).toBe(joined.id);
    expect(Number(expiry)).toBeGreaterThanOrEqual(Math.floor(before / 1000) + TURN.ttlSeconds);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + TURN.ttlSeconds);
    expect(joined.iceServers[0]!.urls).toEqual(TURN.urls);

    const room = await server.rooms.get('lobby');
    expect(room?.summary().sessionRunning).toBe(false);
    expect(sessionProcesses()).toEqual([]);
    client.send(JSON.stringify({ type: 'offer', sdp: CHROME_OFFER }));
    // A session starting on a loaded 2-core machine took over 20 s to answer once.
    const answer = await until(() => client.replies.find((r) => r.type === 'answer' || r.type === 'error'), 60_000, 'the answer');
    expect(answer.type, String(answer.message)).toBe('answer');
    expect(room?.summary().sessionRunning).toBe(true);
    // The TURN credentials are the client's: the server's own peer gathers no relay candidate.
    const candidates = String(answer.sdp).match(/^a=candidate:.*$/gm) ?? [];
    expect(candidates.length).toBeGreaterThan(0);
    expect(candidates.every((c) => / typ host/.test(c))).toBe(true);
    // The answer does not wait for the session: it starts beside it.
    await until(() => (sessionProcesses().length > 0 ? true : undefined), 60_000, 'the session process');
    client.close();
    await until(async () => ((await server.rooms.get('lobby')) === undefined && sessionProcesses().length === 0 ? true : undefined), 60_000, 'the room and its session to go');
  }, 150_000);

  it('refuses a publishing offer from a token without canPublish (forbidden), and keeps the connection', async () => {
    const client = await tryJoin(server.socketUrl, { room: 'quiet', token: await joinToken('quiet', { canPublish: false }) });
    client.send(JSON.stringify({ type: 'offer', sdp: CHROME_OFFER }));
    await until(() => (client.errors().length > 0 ? true : undefined), 5000, 'the refusal');
    expect(client.errors()).toEqual([{ type: 'error', code: 'forbidden', message: expect.stringContaining('canPublish') }]);
    expect(client.closed).toBe(false);
    expect((await server.rooms.get('quiet'))?.summary().sessionRunning).toBe(false);
    client.close();
  });

  it('lists a hidden participant to nobody', async () => {
    const seen = await tryJoin(server.socketUrl, { room: 'hide', token: await joinToken('hide', {}, { name: 'Seen' }) });
    const hidden = await tryJoin(server.socketUrl, { room: 'hide', token: await joinToken('hide', { hidden: true }, { name: 'Ghost' }) });
    const hiddenJoined = hidden.replies.find((r) => r.type === 'joined') as { participants: { name: string }[] };
    expect(hiddenJoined.participants.map((p) => p.name)).toEqual(['Seen']);
    const third = await tryJoin(server.socketUrl, { room: 'hide', token: await joinToken('hide', {}, { name: 'Third' }) });
    await until(() => (seen.replies.filter((r) => r.type === 'participants').length >= 2 ? true : undefined), 5000, 'two rosters');
    for (const roster of seen.replies.filter((r) => r.type === 'participants')) {
      expect((roster.participants as { name: string }[]).map((p) => p.name)).not.toContain('Ghost');
    }
    expect((await server.rooms.get('hide'))?.participantCount).toBe(3);
    for (const c of [seen, hidden, third]) c.close();
  });

  it('counts the refusals in /metrics', async () => {
    const res = await fetch(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${await mint({ roomList: true })}` } });
    const text = await res.text();
    expect(Number(/mcu_refusals_total\{code="unauthorized",via="socket"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(8);
    expect(text).toMatch(/mcu_refusals_total\{code="forbidden",via="socket"\} 1\b/);
  });
});

/** Every route of the REST API with the grant it needs; `room` routes use a room that does not exist (auth comes first). */
const ROUTES: { method: string; path: string; body?: unknown; grant: Grants; ok: number }[] = [
  { method: 'GET', path: '/api/rooms', grant: { roomList: true }, ok: 200 },
  { method: 'POST', path: '/api/rooms', body: { name: 'made' }, grant: { roomCreate: true }, ok: 201 },
  { method: 'DELETE', path: '/api/rooms/made', grant: { roomCreate: true }, ok: 204 },
  { method: 'GET', path: '/api/rooms/nowhere', grant: { room: 'nowhere', roomAdmin: true }, ok: 404 },
  { method: 'PATCH', path: '/api/rooms/nowhere', body: { layout: 'grid' }, grant: { room: 'nowhere', roomAdmin: true }, ok: 404 },
  { method: 'DELETE', path: '/api/rooms/nowhere/participants/p1', grant: { room: 'nowhere', roomAdmin: true }, ok: 404 },
  { method: 'PATCH', path: '/api/rooms/nowhere/participants/p1', body: { rungCap: 1 }, grant: { room: 'nowhere', roomAdmin: true }, ok: 404 },
  { method: 'POST', path: '/api/rooms/nowhere/recording', body: {}, grant: { room: 'nowhere', roomRecord: true }, ok: 404 },
  { method: 'GET', path: '/api/rooms/nowhere/recording', grant: { room: 'nowhere', roomRecord: true }, ok: 404 },
  { method: 'DELETE', path: '/api/rooms/nowhere/recording', grant: { room: 'nowhere', roomRecord: true }, ok: 404 },
  { method: 'GET', path: '/api/recordings', grant: { roomRecord: true }, ok: 200 },
  { method: 'GET', path: '/metrics', grant: { roomList: true }, ok: 200 },
];
const EVERY_GRANT: Grants = { roomJoin: true, canPublish: true, canSubscribe: true, roomAdmin: true, roomCreate: true, roomList: true, roomRecord: true };

describe('a server with API keys: the REST API', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ keys: TEST_KEYS, metricsListen: { host: '127.0.0.1', port: 0 } });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function call(route: (typeof ROUTES)[number], authorization?: string): Promise<{ status: number; code?: string; auth: string | null }> {
    const res = await fetch(new URL(route.path, server.url), {
      method: route.method,
      headers: { ...(authorization ? { authorization } : {}), ...(route.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(route.body !== undefined ? { body: JSON.stringify(route.body) } : {}),
    });
    const text = await res.text();
    const code = res.headers.get('content-type')?.includes('json') && text ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined;
    return { status: res.status, ...(code ? { code } : {}), auth: res.headers.get('www-authenticate') };
  }

  test.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: 401 without a valid token, 403 without its grant, through with it', async (_name, route) => {
    const refusedAs401 = [undefined, 'Bearer', 'Bearer garbage', `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${await mint(route.grant, { now: new Date(Date.now() - 3_600_000) })}`,
      `Bearer ${await mint(route.grant, { secret: 'z'.repeat(40) })}`];
    for (const authorization of refusedAs401) {
      expect(await call(route, authorization), `${authorization}`).toEqual({ status: 401, code: 'unauthorized', auth: 'Bearer realm="mcu"' });
    }
    const { [Object.keys(route.grant).find((k) => k !== 'room')!]: _needed, ...others } = EVERY_GRANT;
    expect(await call(route, `Bearer ${await mint({ ...others, room: route.grant.room })}`)).toMatchObject({ status: 403, code: 'forbidden' });
    if (route.grant.room !== undefined || route.path === '/api/recordings') {
      // The grant, but for another room.
      expect(await call(route, `Bearer ${await mint({ ...route.grant, room: 'elsewhere' })}`)).toMatchObject({ status: 403, code: 'forbidden' });
    }
    expect((await call(route, `Bearer ${await mint(route.grant)}`)).status).toBe(route.ok);
  });

  it('serves /metrics without a token on its own listen address, with the API refusals counted', async () => {
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(server.metricsUrl!);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(Number(/mcu_refusals_total\{code="unauthorized",via="api"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(ROUTES.length * 6);
    expect(Number(/mcu_refusals_total\{code="forbidden",via="api"\} (\d+)/.exec(text)?.[1])).toBeGreaterThanOrEqual(ROUTES.length);
    expect((await fetch(server.metricsUrl!.replace('/metrics', '/api/rooms'))).status).toBe(404);
  });
});

describe('the CLI against a server with API keys', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({ keys: TEST_KEYS });
    await server.rooms.create('cli-keyed');
  });
  afterAll(async () => {
    await server?.close();
  });

  it('client commands mint their own token from the keys in the environment, and say what is missing without', async () => {
    const url = server.url.replace(/\/$/, '');
    const [withKeys, without, recording] = await Promise.all([
      McuProcess.run(['rooms', '--url', url], TEST_KEY_ENV),
      McuProcess.run(['rooms', '--url', url]),
      McuProcess.run(['record', 'stop', 'cli-keyed', '--url', url], TEST_KEY_ENV),
    ]);
    expect(withKeys.code).toBe(0);
    expect(withKeys.stdout).toMatch(/cli-keyed/);
    expect(without.code).toBe(1);
    expect(without.stderr.trim()).toBe('mcu: the server wants a token: set MCU_API_KEY and MCU_API_SECRET (its keys), or MCU_TOKEN');
    // Through the token check (roomRecord for that room), to the API's own answer.
    expect(recording.stderr.trim()).toBe('mcu: room cli-keyed is not recording (recording_not_found)');
  }, 60_000);

  it('mcu token prints a token the server accepts, with the grants asked for', async () => {
    const made = await McuProcess.run(['token', '--room', 'r1', '--identity', 'ada', '--name', 'Ada', '--ttl', '2h', '--grant', 'roomJoin,canSubscribe'], TEST_KEY_ENV);
    expect(made.code).toBe(0);
    const claims = await verifyToken(made.stdout.trim(), TEST_KEYS);
    expect(claims).toMatchObject({ identity: 'ada', name: 'Ada', grants: { room: 'r1', roomJoin: true, canSubscribe: true } });
    expect(claims.grants.canPublish).toBeUndefined();
    expect(claims.expiresAt - Date.now() / 1000).toBeGreaterThan(7190);
    expect(claims.expiresAt - Date.now() / 1000).toBeLessThanOrEqual(7200);
    const noKeys = await McuProcess.run(['token', '--room', 'r1', '--identity', 'ada']);
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toMatch(/^mcu: no API key to sign with: .*mcu keys/);
  }, 60_000);

  it('mcu start with keys prints a page link whose token joins its room', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcu-linked-'));
    const mcu = new McuProcess(['start', 'linked', '--port', '0', '--priority-boost', '0', '--recordings', dir], TEST_KEY_ENV);
    try {
      const [, token] = await mcu.waitForLine(/^Mixer running\. Open http:\/\/127\.0\.0\.1:\d+\/\?room=linked&token=([\w.-]+) to join room "linked"\.$/, 30_000);
      expect((await verifyToken(token!, TEST_KEYS)).grants).toEqual({ room: 'linked', roomJoin: true, canPublish: true, canSubscribe: true });
      await mcu.waitForLine(/^Tokens required \(1 API key\)/, 5000);
    } finally {
      await mcu.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it('refuses to listen beyond loopback without keys, saying how to make them', async () => {
    const refused = await McuProcess.run(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/^mcu: listening on 0\.0\.0\.0 \(beyond loopback\) needs API keys.*mcu keys/);
    expect(refused.stdout).toBe('');
  }, 30_000);
});

/** GET over HTTPS trusting `ca` only. */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('HTTPS and WSS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcu-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves the page, the API and the socket over TLS with a self-signed certificate kept in the data folder and reused', async () => {
    const first = await startTestServer({ tls: 'self-signed', recordingsDir: join(dir, 'recordings') });
    let fingerprint: string;
    try {
      expect(first.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);
      expect(first.socketUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/socket$/);
      expect(first.tls?.certPath).toBe(join(dir, 'tls', 'self-signed.crt'));
      const ca = readFileSync(first.tls!.certPath, 'utf8');
      fingerprint = new X509Certificate(ca).fingerprint256;
      expect(first.tls?.fingerprint).toBe(fingerprint);
      const page = await httpsGet(first.url, ca);
      expect(page.status).toBe(200);
      expect(page.body).toContain('<html');
      expect(await httpsGet(new URL('/api/rooms', first.url).toString(), ca)).toMatchObject({ status: 200 });
      // Nobody who does not trust it gets through.
      await expect(fetch(first.url)).rejects.toThrow();
      const client = await RawClient.connect(first.socketUrl, { ca });
      client.send(JSON.stringify({ type: 'join', room: 'secure', name: 'tls' }));
      await until(() => (client.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'joined over WSS');
      client.close();
    } finally {
      await first.close();
    }
    const second = await startTestServer({ tls: 'self-signed', recordingsDir: join(dir, 'recordings') });
    try {
      expect(second.tls?.fingerprint).toBe(fingerprint);
    } finally {
      await second.close();
    }
    const files = await startTestServer({ tls: { certFile: join(dir, 'tls', 'self-signed.crt'), keyFile: join(dir, 'tls', 'self-signed.key') } });
    try {
      expect(files.tls).toMatchObject({ selfSigned: false, fingerprint });
      expect((await httpsGet(files.url, readFileSync(join(dir, 'tls', 'self-signed.crt'), 'utf8'))).status).toBe(200);
    } finally {
      await files.close();
    }
  });

  it('mcu serve prints the https URL and the fingerprint to check', async () => {
    const mcu = new McuProcess(['serve', '--port', '0', '--tls-self-signed', '--recordings', join(dir, 'recordings'), '--priority-boost', '0']);
    try {
      await mcu.waitForLine(/^Mixer running at https:\/\/127\.0\.0\.1:\d+\/$/, 30_000);
      const [, printed] = await mcu.waitForLine(/^ {2}((?:[0-9A-F]{2}:){31}[0-9A-F]{2})$/, 5000);
      expect(printed).toBe(new X509Certificate(readFileSync(join(dir, 'tls', 'self-signed.crt'))).fingerprint256);
      expect(mcu.stdout.join('\n')).toContain('Development mode (no API keys): loopback only');
    } finally {
      await mcu.stop();
    }
  }, 40_000);
});
