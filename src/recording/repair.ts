import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runFfmpegJob } from '../../base/process/ffmpegJob.ts';
import { durationProbeArgs, repairArgs, type RecordingContainer } from './recorderArgs.ts';

/** The duration a file's container states, in seconds (0 when it states none). */
export async function probeDuration(path: string): Promise<number> {
  const out = await runFfmpegJob(`probe ${basename(path)}`, durationProbeArgs(path), { binary: process.env.MCU_FFPROBE ?? 'ffprobe' });
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
    await runFfmpegJob(`repair ${basename(path)}`, repairArgs(path, temporary, container));
    const duration = await probeDuration(temporary);
    await rename(temporary, path);
    return duration;
  } finally {
    await rm(temporary, { force: true });
  }
}
