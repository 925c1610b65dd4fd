/**
 * The pipe crossings alone (decoder → session, session → compositor): raw 640x360 frames at N x
 * 30 a second written by this process into a pipe, as the session writes a compositor's input,
 * and read by a Node process as the session reads a decoder's output (crossingsReader.ts), in
 * place or copied. Gives each end's CPU and the hop's latency.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TSX_LOADER } from '../../base/process/ChildChannel.ts';
import { sleep } from '../lib/processes.ts';
import { distribution, round, type Distribution } from './numbers.ts';

const READER = fileURLToPath(new URL('./crossingsReader.ts', import.meta.url));
/** Buffers in turn: a frame is not changed while a write of it is pending (the FramePool's rule). */
const RING = 8;

export interface PipeResult {
  read: 'direct' | 'copy';
  participants: number;
  framesPerSecond: number;
  /** Cores: the writing end (this process) and the reading end. */
  writerCores: number;
  readerCores: number;
  /** Buffers the reader's pool had to allocate (the rest were reused). */
  readerBuffers: number;
  latency: Distribution;
}

export async function runPipe(read: 'direct' | 'copy', participants: number, frameBytes: number, windowMs: number): Promise<PipeResult> {
  const rate = participants * 30;
  const child = spawn(process.execPath, ['--import', TSX_LOADER, READER, read, String(frameBytes)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.on('error', () => {});
  await sleep(1500); // Node and the TypeScript loader boot
  const ring = Array.from({ length: RING }, () => Buffer.alloc(frameBytes, 100));
  let written = 0;
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  // Frames due by now are written at each turn (a timer fires every 1-4 ms), like the session's clock.
  while (performance.now() - start < windowMs) {
    const due = Math.floor(((performance.now() - start) * rate) / 1000);
    for (; written < due; written++) {
      const frame = ring[written % RING]!;
      frame.writeDoubleLE(performance.timeOrigin + performance.now(), 0);
      child.stdin.write(frame);
    }
    await sleep(1);
  }
  const cpu = process.cpuUsage(cpuStart);
  const seconds = (performance.now() - start) / 1000;
  child.stdin.end();
  await done;
  const report = JSON.parse(out.trim()) as { cores: number; allocated: number; latencies: number[] };
  return {
    read,
    participants,
    framesPerSecond: round(written / seconds, 1),
    writerCores: round((cpu.user + cpu.system) / 1e6 / seconds, 3),
    readerCores: round(report.cores, 3),
    readerBuffers: report.allocated,
    latency: distribution(report.latencies, 2),
  };
}
