/**
 * The reading end of `crossingsPipe.ts`: raw frames on stdin, read as the session reads a
 * decoder's (mixer/ffmpeg/ChunkReader.ts, in place or copied: argv[2] is `direct` or `copy`).
 * Each frame starts with the time it was written; at the end it prints one JSON line: its own
 * CPU and the hop's latencies.
 */
import { ChunkReader } from '../../mixer/ffmpeg/ChunkReader.ts';
import { FramePool } from '../../mixer/logic/FramePool.ts';

const direct = process.argv[2] === 'direct';
const frameBytes = Number(process.argv[3]);
const pool = new FramePool(frameBytes);
const latencies: number[] = [];
let cpuStart: NodeJS.CpuUsage | undefined;
let startedAt = 0;

const reader = new ChunkReader(process.stdin, {
  size: frameBytes,
  allocate: () => pool.acquire(),
  onChunk: (frame) => {
    // The clock starts at the first frame: the process's own start-up is not the hop's.
    if (!cpuStart) {
      cpuStart = process.cpuUsage();
      startedAt = performance.now();
    } else latencies.push(performance.timeOrigin + performance.now() - frame.readDoubleLE(0));
    pool.release(frame);
  },
  direct,
});

process.stdin.once('close', () => {
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (performance.now() - startedAt) / 1000;
  process.stdout.write(
    `${JSON.stringify({ direct: reader.direct, frames: latencies.length + 1, cores: (cpu.user + cpu.system) / 1e6 / seconds, allocated: pool.allocated, latencies })}\n`,
  );
});
