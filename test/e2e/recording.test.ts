import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecordingInfo } from '../../src/recording/RecorderTypes.ts';
import type { BotProcess } from '../helpers/bots.ts';
import { apiCall } from '../helpers/api.ts';
import { e2eContext } from '../helpers/e2eContext.ts';
import { colorAt, frameAt, nearestColor } from '../helpers/media.ts';
import { ffmpegChildren } from '../helpers/processes.ts';
import { expectCleanDecode, probeRecording } from '../helpers/recordings.ts';
import { sleep, until } from '../helpers/wait.ts';

const FPS = 30;

describe('recording a room', () => {
  const e2e = e2eContext('rec-e2e', (dir) => ({ recordingsDir: dir }));
  const api = <T>(method: string, path: string, body?: unknown) => apiCall<T>(e2e.server.url, method, path, body);

  /** Waits until the room's recording has its first keyframe; resolves with its start (ms since epoch). */
  const recordingStarted = (room: string): Promise<number> =>
    until(
      async () => {
        const { body } = await api<RecordingInfo>('GET', `/api/rooms/${room}/recording`);
        return body.startedAt ? Date.parse(body.startedAt) : undefined;
      },
      20_000,
      `the recording of ${room} to start`,
    );

  const bot = (room: string, name: string, color: string, tone: number): BotProcess =>
    e2e.bot({ room, name, color, tone, size: '320x180', bitrate: 300 });

  it('two bots joining at different times into 10 s or more of WebM: one video and one audio stream, as long as it ran ± 0.5 s, a clean decode, every frame', async () => {
    expect((await api('POST', '/api/rooms', { name: 'rec-two', size: '640x360', fps: FPS })).status).toBe(201);
    const red = bot('rec-two', 'red', 'red', 440);
    await red.waitForStart();
    const started = await api<RecordingInfo>('POST', '/api/rooms/rec-two/recording', { file: 'two bots.webm' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ file: 'two bots.webm', container: 'webm' });
    const t0 = await recordingStarted('rec-two');

    await sleep(3000);
    const blue = bot('rec-two', 'blue', 'blue', 880);
    await blue.waitForStart();
    const blueAt = (Date.now() - t0) / 1000;
    // 10 s, or longer when blue was slow to connect (8.8 s in a loaded fresh-clone run): its tile
    // must have had 5 s to appear before the end.
    await sleep(Math.max(0, t0 + Math.max(10_000, blueAt * 1000 + 5000) - Date.now()));
    const wall = (Date.now() - t0) / 1000;
    const stopped = await api<RecordingInfo>('DELETE', '/api/rooms/rec-two/recording');
    await Promise.all([red.stop(), blue.stop()]);
    expect(stopped.status).toBe(200);
    console.log('recording of two bots:', JSON.stringify(stopped.body), `blue connected at ${blueAt.toFixed(1)} s`);
    expect(stopped.body.state).toBe('finished');

    const file = join(e2e.dir, 'two bots.webm');
    const probe = await probeRecording(file);
    console.log('ffprobe:', JSON.stringify(probe));
    expect(probe.streams).toEqual([
      { codec_type: 'video', codec_name: 'vp8' },
      { codec_type: 'audio', codec_name: 'opus' },
    ]);
    expect(Math.abs(probe.duration - wall)).toBeLessThanOrEqual(0.5);
    expect(stopped.body.durationSeconds).toBeCloseTo(probe.duration, 1);
    await expectCleanDecode(file);
    // Every frame the room sent while recording is in the file, and they come at the frame rate.
    expect(Math.abs(probe.videoFrames - stopped.body.frames)).toBeLessThanOrEqual(2);
    const fps = probe.videoFrames / probe.duration;
    console.log(`frames: ${probe.videoFrames} in ${probe.duration} s = ${fps.toFixed(1)} fps`);
    expect(fps).toBeGreaterThan(FPS * 0.85);
    expect(fps).toBeLessThan(FPS * 1.1);

    // Red alone first (one tile), then red and blue side by side.
    expect(nearestColor(colorAt(await frameAt(file, 1.5), 0.5, 0.5))).toBe('red');
    const late = await frameAt(file, probe.duration - 0.5);
    expect([nearestColor(colorAt(late, 0.25, 0.5)), nearestColor(colorAt(late, 0.75, 0.5))]).toEqual(['red', 'blue']);
  }, 120_000);

  it('records an empty room too (black and silence), across a join, a compositor crash and a leave, into Matroska', async () => {
    expect((await api('POST', '/api/rooms', { name: 'rec-empty', size: '320x180', fps: FPS })).status).toBe(201);
    expect((await api('POST', '/api/rooms/rec-empty/recording', { file: 'empty/room.mkv' })).status).toBe(201);
    const t0 = await recordingStarted('rec-empty');
    await sleep(1500);
    const lime = bot('rec-empty', 'lime', 'lime', 600);
    await lime.waitForStart();
    await sleep(1000);
    // The compositor dies: the session starts another, and the file goes on as one stream.
    const room = (await e2e.server.rooms.get('rec-empty'))!;
    const ssrc = room.composite.switcher.currentSsrc;
    const compositor = ffmpegChildren().find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(`-ssrc ${ssrc} `),
    );
    expect(compositor).toBeTypeOf('number');
    process.kill(compositor!, 'SIGKILL');
    await until(async () => ((await room.stats()).session?.compositorRestarts ? true : undefined), 10_000, 'the compositor to restart');
    const metrics = await (await fetch(new URL('/metrics', e2e.server.url))).text();
    expect(metrics).toContain('mcu_compositor_restarts_total{room="rec-empty"} 1');
    await sleep(1000);
    await lime.stop();
    await sleep(1500);
    const stopAt = Date.now();
    const stopped = await api<RecordingInfo>('DELETE', '/api/rooms/rec-empty/recording');
    const wall = (stopAt - t0) / 1000;
    const file = join(e2e.dir, 'empty', 'room.mkv');
    const probe = await probeRecording(file);
    console.log('empty room recording:', JSON.stringify(stopped.body), JSON.stringify(probe), `wall ${wall.toFixed(2)} s`);
    expect(probe.streams.map((s) => s.codec_name)).toEqual(['vp8', 'opus']);
    expect(Math.abs(probe.duration - wall)).toBeLessThanOrEqual(0.5);
    await expectCleanDecode(file);
    // The room is empty and not recording: its session has stopped, nothing is left running.
    await until(async () => ((await e2e.server.rooms.get('rec-empty'))?.summary().sessionRunning === false ? true : undefined), 10_000, 'the session to stop');
    await until(() => (ffmpegChildren().length === 0 ? true : undefined), 10_000, 'no FFmpeg left');
  }, 60_000);

  it('records the H.264 composite into fragmented MP4', async () => {
    expect((await api('POST', '/api/rooms', { name: 'rec-mp4', size: '320x180', fps: FPS })).status).toBe(201);
    const yellow = bot('rec-mp4', 'yellow', 'yellow', 500);
    await yellow.waitForStart();
    expect((await api('POST', '/api/rooms/rec-mp4/recording', { file: 'talk.mp4' })).status).toBe(201);
    const t0 = await recordingStarted('rec-mp4');
    await sleep(Math.max(0, t0 + 4000 - Date.now()));
    const stopped = await api<RecordingInfo>('DELETE', '/api/rooms/rec-mp4/recording');
    const file = join(e2e.dir, 'talk.mp4');
    const probe = await probeRecording(file);
    console.log('mp4 recording:', JSON.stringify(stopped.body), JSON.stringify(probe));
    expect(probe.streams).toEqual([
      { codec_type: 'video', codec_name: 'h264' },
      { codec_type: 'audio', codec_name: 'opus' },
    ]);
    expect(Math.abs(probe.duration - 4)).toBeLessThanOrEqual(0.5);
    await expectCleanDecode(file);
    expect(nearestColor(colorAt(await frameAt(file, 2), 0.5, 0.5))).toBe('yellow');
    await yellow.stop();
  }, 60_000);
});
