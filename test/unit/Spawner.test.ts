import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegProcess, type FfmpegProcessEvents } from '../../base/process/FfmpegProcess.ts';
import { launchHere, Spawner } from '../../base/process/Spawner.ts';

// Real FFmpeg started by a real spawner process: the pipes travel over IPC as handles, and what
// matters is that data, stops and exits behave exactly as for a process started here.

type Exit = FfmpegProcessEvents['exit'][0];
const QUIET = ['-hide_banner', '-loglevel', 'warning', '-nostats'];
/** Gray 4x4 frames in on stdin, the same frames out on stdout. */
const COPY_FRAMES = [...QUIET, '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', '4x4', '-i', 'pipe:0', '-f', 'rawvideo', 'pipe:1'];
const SINE_FOREVER = [...QUIET, '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '1', '-f', 's16le', 'pipe:1'];

const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

function exitOf(ffmpeg: FfmpegProcess): Promise<Exit> {
  return new Promise((resolve) => ffmpeg.once('exit', resolve));
}

describe('Spawner', () => {
  let spawner: Spawner;

  beforeAll(async () => {
    spawner = await Spawner.start();
    FfmpegProcess.useLauncher(spawner.launch);
  }, 20_000);

  afterAll(async () => {
    FfmpegProcess.useLauncher(launchHere);
    await FfmpegProcess.stopAll();
    await spawner.close();
  });

  it('starts FFmpeg as its own child and hands over working pipes', async () => {
    const ffmpeg = new FfmpegProcess({ name: 'copy frames', args: COPY_FRAMES });
    expect(ffmpeg.started).toBe(false); // the pipes come back over IPC
    await new Promise<void>((resolve) => ffmpeg.whenStarted(resolve));
    expect(parentOf(ffmpeg.pid!)).toBe(spawner.pid);
    const out: Buffer[] = [];
    ffmpeg.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    const exit = exitOf(ffmpeg);
    for (let i = 0; i < 5; i++) ffmpeg.stdin.write(Buffer.alloc(16, i * 40));
    ffmpeg.stdin.end();
    expect((await exit).code).toBe(0);
    const frames = Buffer.concat(out);
    expect(frames.length).toBe(5 * 16);
    expect([...frames.subarray(64)]).toEqual(Array.from({ length: 16 }, () => 160));
  });

  it('stops FFmpeg gracefully with `q`, and reports a crash as unexpected', async () => {
    const graceful = new FfmpegProcess({ name: 'sine q', args: SINE_FOREVER, stdinIsControl: true });
    await new Promise<void>((resolve) => graceful.whenStarted(resolve));
    await new Promise((resolve) => graceful.stdout.once('data', resolve));
    const gracefulExit = exitOf(graceful);
    await graceful.stop();
    expect(await gracefulExit).toMatchObject({ code: 0, expected: true });

    const crashing = new FfmpegProcess({ name: 'sine killed', args: SINE_FOREVER });
    await new Promise<void>((resolve) => crashing.whenStarted(resolve));
    crashing.stdout.resume();
    const crash = exitOf(crashing);
    process.kill(crashing.pid!, 'SIGKILL');
    expect(await crash).toMatchObject({ signal: 'SIGKILL', expected: false });
  });

  it('a stop asked before the pipes arrived still stops the process', async () => {
    const ffmpeg = new FfmpegProcess({ name: 'stopped early', args: SINE_FOREVER });
    expect(ffmpeg.started).toBe(false);
    await ffmpeg.stop();
    expect(ffmpeg.exited).toBe(true);
    expect(FfmpegProcess.liveProcesses().has(ffmpeg)).toBe(false);
  });

  it('FFmpeg that is missing is reported with an install hint', async () => {
    const missing = new FfmpegProcess({ name: 'missing', args: ['-version'], binary: 'ffmpeg-not-installed' });
    const exit = await exitOf(missing);
    expect(exit.expected).toBe(false);
    expect(exit.stderrTail).toMatch(/install FFmpeg/);
  });

  it('when the spawner ends, so do the programs it started', async () => {
    const own = await Spawner.start();
    FfmpegProcess.useLauncher(own.launch);
    const ffmpeg = new FfmpegProcess({ name: 'orphan-to-be', args: SINE_FOREVER });
    FfmpegProcess.useLauncher(spawner.launch);
    await new Promise<void>((resolve) => ffmpeg.whenStarted(resolve));
    ffmpeg.stdout.resume();
    const pid = ffmpeg.pid!;
    const exit = exitOf(ffmpeg);
    await own.close();
    await exit;
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(alive(pid)).toBe(false);
  });
});
