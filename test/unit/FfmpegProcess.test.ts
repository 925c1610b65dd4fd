import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FfmpegError } from '../../base/process/errors.ts';
import { FfmpegProcess, type FfmpegProcessEvents } from '../../base/process/FfmpegProcess.ts';
import { isAlive } from '../../base/process/procStats.ts';

// These tests run the real FFmpeg: a process is I/O at the edge, and what matters is how the
// real binary reacts to `q`, SIGINT and bad arguments.

type Exit = FfmpegProcessEvents['exit'][0];

const QUIET = ['-hide_banner', '-loglevel', 'warning', '-nostats'];
/** A sine at real time (`-re`), mono s16le on stdout: runs until it is stopped. */
const SINE_FOREVER = [
  ...QUIET, '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-ac', '1', '-f', 's16le', 'pipe:1',
];

const startedPids = new Set<number>();

function start(options: ConstructorParameters<typeof FfmpegProcess>[0]): { process: FfmpegProcess; exits: Exit[] } {
  const ffmpeg = new FfmpegProcess(options);
  if (ffmpeg.pid !== undefined) startedPids.add(ffmpeg.pid);
  const exits: Exit[] = [];
  ffmpeg.on('exit', (exit) => exits.push(exit));
  return { process: ffmpeg, exits };
}

/** Resolves at the first bytes on stdout, and keeps stdout flowing afterwards. */
function firstOutput(ffmpeg: FfmpegProcess): Promise<Buffer> {
  return new Promise((resolve) => {
    ffmpeg.stdout.once('data', (chunk: Buffer) => resolve(chunk));
    ffmpeg.stdout.resume();
  });
}

const never = (): Promise<never> => new Promise<never>(() => {});

afterEach(async () => {
  const leftovers = [...FfmpegProcess.liveProcesses()].map((p) => p.name);
  await FfmpegProcess.stopAll(); // clean up even when a test failed, then say so
  expect(leftovers).toEqual([]);
  expect(FfmpegProcess.liveProcesses().size).toBe(0);
});

afterAll(() => {
  // Every FFmpeg these tests started is gone, not just forgotten.
  for (const pid of startedPids) {
    expect(() => process.kill(pid, 0), `ffmpeg pid ${pid} still running`).toThrow(/ESRCH/);
  }
});

describe('FfmpegProcess', () => {
  it('a running FFmpeg with stdin as its control channel stops gracefully on `q` and reports an expected exit', async () => {
    const { process: ffmpeg, exits } = start({ name: 'sine q', args: SINE_FOREVER, stdinIsControl: true });
    expect(ffmpeg.pid).toBeTypeOf('number');
    expect(FfmpegProcess.liveProcesses().has(ffmpeg)).toBe(true);
    const pcm = await ffmpeg.untilReady(firstOutput(ffmpeg), 'first PCM');
    expect(pcm.length).toBeGreaterThan(0);
    expect(ffmpeg.exited).toBe(false);

    const began = performance.now();
    await ffmpeg.stop();
    const took = performance.now() - began;

    expect(exits).toEqual([{ code: 0, signal: null, expected: true, stderrTail: expect.any(String) as string }]);
    // `q` was enough: no SIGTERM (sent after 3 s) was needed
    expect(took).toBeLessThan(2500);
    expect(ffmpeg.exited).toBe(true);
    expect(ffmpeg.stopping).toBe(true);
    expect(FfmpegProcess.liveProcesses().has(ffmpeg)).toBe(false);
  });

  it('a running FFmpeg whose stdin is not a control channel stops on SIGINT and reports an expected exit', async () => {
    const { process: ffmpeg, exits } = start({ name: 'sine sigint', args: SINE_FOREVER });
    await ffmpeg.untilReady(firstOutput(ffmpeg), 'first PCM');
    const began = performance.now();
    await ffmpeg.stop();
    expect(performance.now() - began).toBeLessThan(2500);
    expect(exits).toHaveLength(1);
    expect(exits[0]).toMatchObject({ expected: true, signal: null });
    // FFmpeg 5.1 exits with 255 after a signal it handled
    expect(exits[0]?.code).toBe(255);
  });

  it('stop() twice, at once or one after the other, stops once and resolves both', async () => {
    const { process: ffmpeg, exits } = start({ name: 'sine twice', args: SINE_FOREVER, stdinIsControl: true });
    await ffmpeg.untilReady(firstOutput(ffmpeg), 'first PCM');
    await Promise.all([ffmpeg.stop(), ffmpeg.stop()]);
    await expect(ffmpeg.stop()).resolves.toBeUndefined();
    expect(exits).toHaveLength(1);
    expect(exits[0]?.expected).toBe(true);
  });

  it('FFmpeg given bad arguments emits exit with expected false and its complaint in stderrTail', async () => {
    const { process: ffmpeg, exits } = start({ name: 'bad option', args: [...QUIET, '-nosuchoption'] });
    await ffmpeg.whenExited();
    expect(exits).toHaveLength(1);
    const [exit] = exits as [Exit];
    expect(exit.expected).toBe(false);
    expect(exit.signal).toBeNull();
    expect(exit.code).not.toBe(0);
    expect(exit.stderrTail).toContain("Unrecognized option 'nosuchoption'");
    expect(ffmpeg.stderrTail).toBe(exit.stderrTail);
    expect(ffmpeg.stopping).toBe(false);
    // stopping a process that is already gone is harmless
    await expect(ffmpeg.stop()).resolves.toBeUndefined();
    expect(exits).toHaveLength(1);
  });

  it('untilReady() rejects with an FfmpegError carrying the stderr tail when FFmpeg dies first', async () => {
    const { process: ffmpeg } = start({
      name: 'bad source',
      args: [...QUIET, '-f', 'lavfi', '-i', 'nosuchsource', '-f', 'null', '-'],
    });
    const error: unknown = await ffmpeg.untilReady(never(), 'first frame').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    const ffmpegError = error as FfmpegError;
    expect(ffmpegError.name).toBe('FfmpegError');
    expect(ffmpegError.stderrTail).toContain('nosuchsource');
    expect(ffmpegError.message).toContain('bad source exited before first frame');
    expect(ffmpegError.message).toContain(ffmpegError.stderrTail);
  });

  it('untilReady() resolves with the value of `ready` when it comes first, and a later exit does not reject it', async () => {
    const { process: ffmpeg, exits } = start({ name: 'sine ready', args: SINE_FOREVER, stdinIsControl: true });
    const ready = firstOutput(ffmpeg).then((chunk) => chunk.length);
    await expect(ffmpeg.untilReady(ready, 'first PCM')).resolves.toBeGreaterThan(0);
    await ffmpeg.stop();
    expect(exits).toHaveLength(1);
  });

  it('untilReady() passes on the rejection of `ready` itself', async () => {
    const { process: ffmpeg } = start({ name: 'sine reject', args: SINE_FOREVER, stdinIsControl: true });
    await expect(ffmpeg.untilReady(Promise.reject(new Error('gave up')), 'first PCM')).rejects.toThrow('gave up');
    await ffmpeg.stop();
  });

  // Regression: untilReady() once waited forever for an exit that had already happened.
  it('untilReady() rejects at once when the process has already exited', async () => {
    const { process: ffmpeg } = start({ name: 'gone', args: [...QUIET, '-nosuchoption'] });
    await ffmpeg.whenExited();
    const outcome = await Promise.race([
      ffmpeg.untilReady(never(), 'first frame').then(
        () => 'resolved',
        (e: unknown) => (e instanceof FfmpegError ? 'rejected with FfmpegError' : 'rejected otherwise'),
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still pending after 1 s'), 1000)),
    ]);
    expect(outcome).toBe('rejected with FfmpegError');
  });

  it('a missing FFmpeg binary exits unexpectedly with a stderr tail that says to install FFmpeg', async () => {
    const { process: ffmpeg, exits } = start({ name: 'missing', args: ['-version'], binary: '/nonexistent/ffmpeg' });
    await ffmpeg.whenExited();
    expect(exits).toHaveLength(1);
    const [exit] = exits as [Exit];
    expect(exit.expected).toBe(false);
    expect(exit.code).not.toBe(0);
    // ENOENT from spawn, or setpriv's "failed to execute" when FFmpeg runs under it.
    expect(exit.stderrTail).toMatch(/ENOENT|No such file/);
    expect(exit.stderrTail).toContain('/nonexistent/ffmpeg not found: install FFmpeg');
    expect(FfmpegProcess.liveProcesses().has(ffmpeg)).toBe(false);
  });

  it('untilReady() on a missing binary rejects with the install hint', async () => {
    const { process: ffmpeg } = start({ name: 'missing ready', args: ['-version'], binary: '/nonexistent/ffmpeg' });
    await expect(ffmpeg.untilReady(never(), 'first frame')).rejects.toThrow(/install FFmpeg/);
  });

  it('an extra input pipe is fd 3: FFmpeg reads what is written there and ends at its EOF', async () => {
    const { process: ffmpeg, exits } = start({
      name: 'fd 3 input',
      args: [...QUIET, '-f', 's16le', '-ar', '48000', '-ac', '1', '-i', 'pipe:3', '-f', 's16le', 'pipe:1'],
      extraInputPipes: 1,
    });
    let outputBytes = 0;
    ffmpeg.stdout.on('data', (chunk: Buffer) => {
      outputBytes += chunk.length;
    });
    const pcm = Buffer.alloc(48000 * 2); // one second of silence
    ffmpeg.inputPipe(3).end(pcm);
    await ffmpeg.whenExited();
    expect(exits).toEqual([{ code: 0, signal: null, expected: false, stderrTail: expect.any(String) as string }]);
    expect(outputBytes).toBe(pcm.length);
  });

  it('stopAll() stops every live process', async () => {
    const a = start({ name: 'all a', args: SINE_FOREVER, stdinIsControl: true });
    const b = start({ name: 'all b', args: SINE_FOREVER });
    await Promise.all([a.process, b.process].map((p) => p.untilReady(firstOutput(p), 'first PCM')));
    expect(FfmpegProcess.liveProcesses().size).toBe(2);
    await FfmpegProcess.stopAll();
    expect(FfmpegProcess.liveProcesses().size).toBe(0);
    expect(a.exits.map((e) => e.expected)).toEqual([true]);
    expect(b.exits.map((e) => e.expected)).toEqual([true]);
  });
});

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

describe('FfmpegProcess and its parent', () => {
  it('an FFmpeg whose parent is killed outright exits too (SIGTERM on parent death)', async () => {
    // A throwaway parent that starts one FfmpegProcess, prints its pid, and waits.
    const script = `
      import { FfmpegProcess } from ${JSON.stringify(new URL('../../base/process/FfmpegProcess.ts', import.meta.url).pathname)};
      const p = new FfmpegProcess({ name: 'orphan', args: ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'sine', '-f', 'null', '-'], stdinIsControl: true });
      console.log(p.pid);
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
    expect(isAlive(pid)).toBe(true);
    // setpriv sets the signal and then becomes FFmpeg: a parent killed before that leaves an
    // orphan nothing can signal (the kernel's race, as with any prctl after fork). Wait for FFmpeg.
    const execDeadline = Date.now() + 10_000;
    while (commOf(pid) !== 'ffmpeg' && Date.now() < execDeadline) await new Promise((r) => setTimeout(r, 20));
    expect(commOf(pid)).toBe('ffmpeg');
    parent.kill('SIGKILL');
    // Bounded wide: on a loaded machine the signal and FFmpeg's exit may take seconds.
    const deadline = Date.now() + 15_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const survived = isAlive(pid);
    if (survived) process.kill(pid, 'SIGKILL'); // no orphan left behind by the test itself
    expect(survived).toBe(false);
  }, 30_000);
});
