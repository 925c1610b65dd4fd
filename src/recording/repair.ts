import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FfmpegError } from '../../mixer/errors.ts';
import { FfmpegProcess } from '../../mixer/FfmpegProcess.ts';
import { durationProbeArgs, repairArgs, type RecordingContainer } from '../../mixer/recorderArgs.ts';

/** Runs one FFmpeg (or ffprobe) job to its end; resolves with its stdout, rejects with its stderr. */
async function runJob(name: string, args: string[], binary?: string): Promise<string> {
  const job = new FfmpegProcess({ name, args, job: true, ...(binary ? { binary } : {}) });
  let out = '';
  job.stdout.setEncoding('utf8');
  job.stdout.on('data', (chunk: string) => (out += chunk));
  let exitCode: number | null = null;
  job.once('exit', ({ code }) => (exitCode = code));
  await job.whenExited();
  if (exitCode !== 0) throw new FfmpegError(`${name} exited with code ${String(exitCode)}`, job.stderrTail);
  return out;
}

/** The duration a file's container states, in seconds (0 when it states none). */
export async function probeDuration(path: string): Promise<number> {
  const out = await runJob(`probe ${basename(path)}`, durationProbeArgs(path), process.env.MCU_FFPROBE ?? 'ffprobe');
  const seconds = Number(out.trim());
  return Number.isFinite(seconds) ? seconds : 0;
}

/**
 * Repairs an unfinished recording in place: a stream copy of what it holds into a finished file
 * beside it, which then replaces it. Resolves with the repaired duration; the original stays
 * untouched when FFmpeg fails.
 */
export async function repairRecording(path: string, container: RecordingContainer): Promise<number> {
  const size = (await stat(path)).size;
  if (size === 0) throw new Error('the file is empty: the recorder wrote nothing before it stopped');
  const temporary = join(dirname(path), `.${basename(path)}.repair`);
  try {
    await runJob(`repair ${basename(path)}`, repairArgs(path, temporary, container));
    const duration = await probeDuration(temporary);
    await rename(temporary, path);
    return duration;
  } finally {
    await rm(temporary, { force: true });
  }
}
