import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import type { RecordingInfo } from '../../src/recording/RecorderTypes.ts';
import { apiCall } from '../helpers/api.ts';
import { expectCleanDecode } from '../helpers/recordings.ts';
import type { RunningServer } from '../../src/server.ts';
import { RawClient } from '../helpers/socketClient.ts';
import { startTestServer } from '../helpers/testServer.ts';
import { until } from '../helpers/wait.ts';

type ApiError = { error: { code: string; message: string } };

describe('recording and metrics API against a running server', () => {
  let server: RunningServer;
  let base: string;
  let dir: string;
  const call = <T>(method: string, path: string, body?: unknown) => apiCall<T>(server.url, method, path, body);

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'mcu-rec-api-'));
    dir = join(base, 'recordings');
    mkdirSync(join(base, 'elsewhere'));
    mkdirSync(dir);
    symlinkSync(join(base, 'elsewhere'), join(dir, 'out'));
    writeFileSync(join(dir, 'taken.webm'), 'x');
    server = await startTestServer({ recordingsDir: dir });
    expect((await call('POST', '/api/rooms', { name: 'studio', size: '320x180' })).status).toBe(201);
  });

  afterAll(async () => {
    await server?.close();
    rmSync(base, { recursive: true, force: true });
  });

  it.each([
    ['an unknown room', 'nowhere', { file: 'a.webm' }, 404, 'room_not_found'],
    ['a body that is not an object', 'studio', '"a.webm"', 400, 'bad_request'],
    ['a file that is not a string', 'studio', { file: 5 }, 400, 'bad_request'],
    ['an unknown field', 'studio', { file: 'a.webm', format: 'webm' }, 400, 'bad_request'],
    ['a name with ..', 'studio', { file: '../a.webm' }, 400, 'bad_path'],
    ['an absolute path elsewhere', 'studio', { file: '/tmp/a.webm' }, 400, 'bad_path'],
    ['a symbolic link out of the folder', 'studio', { file: 'out/a.webm' }, 400, 'bad_path'],
    ['an extension no container fits', 'studio', { file: 'a.avi' }, 400, 'bad_path'],
    ['a file that exists', 'studio', { file: 'taken.webm' }, 409, 'file_exists'],
  ])('refuses to record with %s', async (_what, room, body, status, code) => {
    const res = await call<ApiError>('POST', `/api/rooms/${room}/recording`, body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(res.body.error.message.length).toBeGreaterThan(5);
    expect(existsSync(join(base, 'elsewhere', 'a.webm'))).toBe(false);
  });

  it('starts, shows, refuses a second, stops and finalizes a recording of an empty room', async () => {
    const started = await call<RecordingInfo>('POST', '/api/rooms/studio/recording', { file: 'takes/first.mkv' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ room: 'studio', file: 'takes/first.mkv', container: 'matroska', state: 'starting' });
    expect(existsSync(join(dir, 'takes', 'first.mkv.recording'))).toBe(true);

    const twice = await call<ApiError>('POST', '/api/rooms/studio/recording', {});
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('recording_active');

    await until(async () => ((await call<RecordingInfo>('GET', '/api/rooms/studio/recording')).body.state === 'recording' ? true : undefined), 20_000, 'recording');
    const room = await call<{ recording: RecordingInfo; sessionRunning: boolean }>('GET', '/api/rooms/studio');
    expect(room.body.sessionRunning).toBe(true);
    const list = await call<{ folder: string; recordings: RecordingInfo[] }>('GET', '/api/recordings');
    expect(list.body.folder).toBe(dir);
    expect(list.body.recordings.map((r) => r.file)).toEqual(['takes/first.mkv']);

    const metrics = await call<string>('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.body).toContain('mcu_recording_active{room="studio"} 1');
    expect(metrics.body).toMatch(/mcu_session_running\{room="studio"\} 1/);
    expect(metrics.body).toMatch(/mcu_rooms 1\n/);

    const stopped = await call<RecordingInfo>('DELETE', '/api/rooms/studio/recording');
    expect(stopped.status).toBe(200);
    expect(stopped.body.state).toBe('finished');
    expect(stopped.body.durationSeconds).toBeGreaterThan(0);
    expect(existsSync(join(dir, 'takes', 'first.mkv'))).toBe(true);
    expect(existsSync(join(dir, 'takes', 'first.mkv.recording'))).toBe(false);

    const again = await call<ApiError>('DELETE', '/api/rooms/studio/recording');
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('recording_not_found');
    // The last recording stays visible, and the empty room's session is gone with it.
    expect((await call<RecordingInfo>('GET', '/api/rooms/studio/recording')).body.state).toBe('finished');
    await until(async () => ((await call<{ sessionRunning: boolean }>('GET', '/api/rooms/studio')).body.sessionRunning ? undefined : true), 10_000, 'the session to stop');
  }, 60_000);

  it('reports a recorder that died as failed, and repairs what it wrote', async () => {
    expect((await call('POST', '/api/rooms/studio/recording', { file: 'dies.webm' })).status).toBe(201);
    // Clusters are flushed each second: with 2.5 s recorded, more than a second is on disk when it dies.
    await until(async () => ((await call<RecordingInfo>('GET', '/api/rooms/studio/recording')).body.durationSeconds > 2.5 ? true : undefined), 20_000, '2.5 s recorded');
    const recorder = [...FfmpegProcess.liveProcesses()].find((p) => p.name === 'recorder studio dies.webm');
    expect(recorder?.pid).toBeTypeOf('number');
    process.kill(recorder!.pid!, 'SIGKILL');
    const failed = await until(
      async () => {
        const { body } = await call<RecordingInfo>('GET', '/api/rooms/studio/recording');
        return body.state === 'failed' ? body : undefined;
      },
      20_000,
      'the recording to fail',
    );
    expect(failed.error).toMatch(/FFmpeg exited \(code null, signal SIGKILL\)/);
    expect(failed.durationSeconds).toBeGreaterThan(1);
    expect(existsSync(join(dir, 'dies.webm.recording'))).toBe(false);
    await expectCleanDecode(join(dir, 'dies.webm'));
  }, 60_000);

  it('creates a room that records from the start, and deleting it finalizes the file and disconnects everyone', async () => {
    const refused = await call<ApiError>('POST', '/api/rooms', { name: 'lobby', record: '../../lobby.webm' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('bad_path');
    expect((await call('GET', '/api/rooms/lobby')).status).toBe(404);

    const created = await call<{ recording: RecordingInfo }>('POST', '/api/rooms', { name: 'lobby', size: '320x180', record: 'lobby' });
    expect(created.status).toBe(201);
    expect(created.body.recording).toMatchObject({ file: 'lobby.webm', container: 'webm' });
    const carol = await RawClient.connect(server.socketUrl);
    carol.send(JSON.stringify({ type: 'join', room: 'lobby', name: 'carol' }));
    await until(() => (carol.replies.some((r) => r.type === 'joined') ? true : undefined), 5000, 'carol joined');

    expect((await call('DELETE', '/api/rooms/lobby')).status).toBe(204);
    await until(() => (carol.errors().some((e) => e.code === 'room_closed') ? true : undefined), 5000, 'carol told');
    expect(existsSync(join(dir, 'lobby.webm.recording'))).toBe(false);
    carol.close();
  }, 60_000);
});
