import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LoadTestSummary } from '../../src/loadtest/LoadTestTypes.ts';
import { e2eContext } from '../helpers/e2eContext.ts';
import { descendants } from '../helpers/processes.ts';
import { until } from '../helpers/wait.ts';

const MCU = fileURLToPath(new URL('../../bin/mcu.js', import.meta.url));
const ROOM = 'e2e-loadtest';

describe('mcu loadtest', () => {
  const e2e = e2eContext('loadtest');

  it('joins 3 publishers and a viewer, receives 30 fps with latency read from the picture, and leaves cleanly on Ctrl-C', async () => {
    const { server, dir } = e2e;
    // Small pictures: this checks the load generator, not how much the machine holds.
    const args = [
      MCU, 'loadtest', '--url', server.socketUrl, '--room', ROOM, '--publishers', '3', '--viewers', '1',
      '--duration', '0', '--warmup', '1', '--size', '320x180', '--fps', '15', '--bitrate', '200', '--clip-seconds', '2',
      '--cache', join(dir, 'clips'), '--status-interval', '1',
      // It inherits this thread's priority, which the server in this process raised already: no further.
      '--priority-boost', '0',
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MCU_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(() => (/^measuring .*pub 3\/3 view 1\/1/m.test(stderr) ? true : undefined), 90_000, 'the measuring window with everyone in');
      const room = await server.rooms.get(ROOM);
      expect(room?.participantCount).toBe(4);
      await until(() => ((stderr.match(/^measuring /gm)?.length ?? 0) >= 4 ? true : undefined), 30_000, 'four seconds of measuring');
      // While it runs: the reader's decoder is its only child process.
      expect([...descendants(child.pid!).values()].filter((comm) => comm === 'ffmpeg')).toHaveLength(1);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      console.log(stderr.split('\n').slice(-6).join('\n'));
    }
    const summary = JSON.parse(stdout) as LoadTestSummary;
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.participants).toMatchObject({
      publishers: { requested: 3, connected: 3, alive: 3 },
      viewers: { requested: 1, connected: 1, alive: 1 },
      failed: [],
      lost: [],
    });
    const w = summary.window!;
    expect(w.seconds).toBeGreaterThan(3);
    expect(w.receivers).toBe(4);
    // The composite is 30 fps whatever the publishers send; a wide bound for two busy cores.
    expect(w.fps.min).toBeGreaterThanOrEqual(24);
    expect(w.uplinkKbpsPerPublisher).toBeGreaterThan(100);
    expect(w.downlinkKbps.video).toBeGreaterThan(100);
    expect(w.downlinkKbps.audio).toBeGreaterThan(10);
    expect(w.ssrcChanges).toBe(0);
    // Latency read from the viewer's composite: all three tiles read, glass to glass.
    const latency = summary.latency!;
    expect(latency.readers).toBe(1);
    expect(latency.count).toBeGreaterThan(3 * 30);
    expect(latency.tilesRead).toBeGreaterThan(10 * latency.tilesUnread);
    expect(latency.min).toBeGreaterThan(0);
    expect(latency.p50).toBeLessThan(2000);
    expect(summary.cpu.cores).toBeGreaterThan(0);
    // Everyone left: the room closes with its session.
    await until(async () => ((await server.rooms.get(ROOM)) === undefined ? true : undefined), 15_000, 'the room to close');
  }, 180_000);
});
