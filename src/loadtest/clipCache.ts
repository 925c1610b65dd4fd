import { createHash } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runFfmpegJob } from '../../base/process/ffmpegJob.ts';
import { clipArgs, loadClip, type Clip, type ClipFiles, type ClipSpec } from './clip.ts';

/** Bump when what a clip holds changes in a way its FFmpeg arguments do not show. */
const RECIPE = 1;
/** FFmpeg encodes this many clips at once (the machine this was written for has two cores). */
const PARALLEL = 2;

/** Where clips are kept between runs: $XDG_CACHE_HOME/mcu/loadtest, else ~/.cache/mcu/loadtest. */
export function defaultClipCache(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'mcu', 'loadtest');
}

let ffmpegVersion: Promise<string> | undefined;

/** FFmpeg's first version line: a clip made by another FFmpeg is made again. */
function versionOfFfmpeg(): Promise<string> {
  ffmpegVersion ??= runFfmpegJob('ffmpeg -version', ['-hide_banner', '-version']).then((out) => out.split('\n')[0] ?? '');
  return ffmpegVersion;
}

function fileNames(spec: ClipSpec): ClipFiles {
  return { video: spec.codec === 'h264' ? 'video.h264' : 'video.ivf', audio: 'audio.ogg' };
}

/** The cache folder of one clip: a hash of its recipe, its FFmpeg arguments and FFmpeg's version. */
export function clipKey(spec: ClipSpec, version: string): string {
  const args = clipArgs(spec, fileNames(spec));
  return createHash('sha256').update(JSON.stringify({ recipe: RECIPE, args, version })).digest('hex').slice(0, 24);
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

export interface ClipSource {
  clip: Clip;
  files: ClipFiles;
  /** Made by this call (false: found in the cache). */
  made: boolean;
}

/**
 * The clips for `specs`, made by FFmpeg where the cache does not hold them yet. A clip is written
 * under temporary names and renamed into place, so a run stopped halfway, or two runs at once,
 * never leave a half-written clip where the next run would take it.
 */
export async function prepareClips(specs: readonly ClipSpec[], cacheDir: string): Promise<ClipSource[]> {
  const version = await versionOfFfmpeg();
  const results: ClipSource[] = new Array<ClipSource>(specs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < specs.length) {
      const index = next++;
      results[index] = await prepareClip(specs[index]!, cacheDir, version);
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, specs.length) }, worker));
  return results;
}

async function prepareClip(spec: ClipSpec, cacheDir: string, version: string): Promise<ClipSource> {
  const dir = join(cacheDir, clipKey(spec, version));
  const names = fileNames(spec);
  const files = { video: join(dir, names.video), audio: join(dir, names.audio) };
  let made = false;
  if (!(await exists(files.video)) || !(await exists(files.audio))) {
    await mkdir(dir, { recursive: true });
    const tag = `.partial-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const partial = { video: `${files.video}${tag}`, audio: `${files.audio}${tag}` };
    try {
      await runFfmpegJob(`clip ${spec.color}`, clipArgs(spec, partial), { background: true });
      await rename(partial.audio, files.audio);
      await rename(partial.video, files.video);
    } finally {
      await Promise.all([rm(partial.video, { force: true }), rm(partial.audio, { force: true })]);
    }
    made = true;
  }
  return { clip: await loadClip(spec, files), files, made };
}
