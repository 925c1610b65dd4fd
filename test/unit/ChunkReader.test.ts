import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { launchHere, Spawner, type Launcher } from '../../base/process/Spawner.ts';
import { ChunkReader } from '../../mixer/ffmpeg/ChunkReader.ts';

// Real FFmpeg copying raw frames from its stdin to its stdout, read back through the reader: from
// a process started here (child_process's pipe) and from one a real spawner started (the pipe
// arrives over IPC, as in the session process).

const FRAMES = 20;
const SIZE = { width: 64, height: 36 };
const FRAME_BYTES = SIZE.width * SIZE.height;
const COPY_FRAMES = [
  '-hide_banner', '-loglevel', 'warning', '-nostats',
  '-f', 'rawvideo', '-pix_fmt', 'gray', '-video_size', `${SIZE.width}x${SIZE.height}`, '-i', 'pipe:0',
  '-f', 'rawvideo', 'pipe:1',
];

interface Read {
  chunks: Buffer[];
  allocated: Set<Buffer>;
  direct: boolean;
  exitCode: number | null;
}

async function copyThroughFfmpeg(direct?: boolean): Promise<Read> {
  const ffmpeg = new FfmpegProcess({ name: 'copy frames', args: COPY_FRAMES, job: true });
  const exit = new Promise<number | null>((resolve) => ffmpeg.once('exit', ({ code }) => resolve(code)));
  await new Promise<void>((resolve) => ffmpeg.whenStarted(resolve));
  const chunks: Buffer[] = [];
  const allocated = new Set<Buffer>();
  const reader = new ChunkReader(ffmpeg.stdout, {
    size: FRAME_BYTES,
    allocate: () => {
      const buffer = Buffer.alloc(FRAME_BYTES);
      allocated.add(buffer);
      return buffer;
    },
    onChunk: (chunk) => chunks.push(chunk),
    ...(direct === undefined ? {} : { direct }),
  });
  for (let i = 0; i < FRAMES; i++) ffmpeg.stdin.write(Buffer.alloc(FRAME_BYTES, i * 10));
  ffmpeg.stdin.end();
  // The process's exit waits for its stdout to close: a reader that took the pipe over must close it.
  const exitCode = await exit;
  return { chunks, allocated, direct: reader.direct, exitCode };
}

function expectFrames(read: Read): void {
  expect(read.exitCode).toBe(0);
  expect(read.chunks.length).toBe(FRAMES);
  read.chunks.forEach((chunk, i) => {
    expect(chunk.length).toBe(FRAME_BYTES);
    expect(chunk.every((byte) => byte === i * 10)).toBe(true);
    // Each frame is one of the buffers handed out, not a copy made elsewhere.
    expect(read.allocated.has(chunk)).toBe(true);
  });
}

describe.each<[string, () => Promise<Launcher>]>([
  ['a process started here', () => Promise.resolve(launchHere)],
  ['a process the spawner started', async () => (spawner = await Spawner.start()).launch],
])('ChunkReader, %s', (_, launcher) => {
  beforeAll(async () => FfmpegProcess.useLauncher(await launcher()), 20_000);
  afterAll(async () => {
    FfmpegProcess.useLauncher(launchHere);
    await FfmpegProcess.stopAll();
    await spawner?.close();
    spawner = undefined;
  });

  it('reads every frame straight into the buffers it is given, and the process still ends', async () => {
    const read = await copyThroughFfmpeg();
    expect(read.direct).toBe(true);
    expectFrames(read);
  });

  it('copies from the stream when asked to (the way frames were read before)', async () => {
    const read = await copyThroughFfmpeg(false);
    expect(read.direct).toBe(false);
    expectFrames(read);
  });
});

let spawner: Spawner | undefined;

describe('ChunkReader on a stream that is not a pipe', () => {
  it('splits it into chunks across reads of any size', () => {
    const chunks: Buffer[] = [];
    const source = Readable.from([Buffer.from([1, 2, 3]), Buffer.from([4]), Buffer.from([5, 6, 7, 8, 9])]);
    const reader = new ChunkReader(source, { size: 4, allocate: () => Buffer.alloc(4), onChunk: (c) => chunks.push(c) });
    expect(reader.direct).toBe(false);
    return new Promise<void>((resolve) =>
      source.on('end', () => {
        expect(chunks.map((c) => [...c])).toEqual([
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ]);
        expect([...reader.pending.subarray(0, 1)]).toEqual([9]);
        resolve();
      }),
    );
  });
});
