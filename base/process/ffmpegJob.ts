import { FfmpegError } from './errors.ts';
import { FfmpegProcess } from './FfmpegProcess.ts';

/**
 * Runs one FFmpeg (or ffprobe) job to its end; resolves with its stdout, rejects with its stderr.
 * `background`: below the media path's priority (see priority.ts).
 */
export async function runFfmpegJob(name: string, args: string[], options: { binary?: string; background?: boolean } = {}): Promise<string> {
  const job = new FfmpegProcess({ name, args, job: true, ...options });
  let out = '';
  job.stdout.setEncoding('utf8');
  job.stdout.on('data', (chunk: string) => (out += chunk));
  let exitCode: number | null = null;
  job.once('exit', ({ code }) => (exitCode = code));
  await job.whenExited();
  if (exitCode !== 0) throw new FfmpegError(`${name} exited with code ${String(exitCode)}`, job.stderrTail);
  return out;
}
