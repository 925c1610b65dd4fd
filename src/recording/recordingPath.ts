import { lstat, mkdir, realpath } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  DEFAULT_RECORDING_EXTENSION,
  RECORDING_EXTENSIONS,
  recordingContainer,
  type RecordingContainer,
} from './recorderArgs.ts';
import { RecordingError } from './errors.ts';

/** Where a recording goes: its absolute path, its name inside the recordings folder, its container. */
export interface RecordingTarget {
  path: string;
  /** Relative to the recordings folder, with `/` separators: what the API and the CLI show. */
  file: string;
  container: RecordingContainer;
}

const MAX_NAME = 255;
export const MARKER_SUFFIX = '.recording';

/** The sidecar that marks a recording as unfinished: written at start, removed once finalized. */
export const markerPath = (path: string): string => path + MARKER_SUFFIX;

/** True when `path` is `root` or below it (both absolute and normalized). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Turns a requested name into a target inside `root`, by the name alone (no file system): a name
 * with no extension gets `.webm`; `..`, an absolute path elsewhere, or an unknown extension is
 * refused. Symbolic links are checked by `prepareRecordingTarget`.
 */
export function planRecordingTarget(root: string, name: string): RecordingTarget {
  const absoluteRoot = resolve(root);
  if (!name || name.length > MAX_NAME) throw new RecordingError('bad_path', `a recording name must be 1-${MAX_NAME} characters`);
  // Control characters (NUL above all) have no place in a file name someone will type again.
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new RecordingError('bad_path', 'a recording name must not hold control characters');
  let withExtension = name;
  if (!extname(name) || name.endsWith('.')) withExtension = name.replace(/\.$/, '') + DEFAULT_RECORDING_EXTENSION;
  const container = recordingContainer(withExtension);
  if (!container) {
    const allowed = Object.keys(RECORDING_EXTENSIONS).join(', ');
    throw new RecordingError('bad_path', `a recording must end in ${allowed} (or have no extension: ${DEFAULT_RECORDING_EXTENSION}), not ${JSON.stringify(name)}`);
  }
  const path = resolve(absoluteRoot, withExtension);
  if (path === absoluteRoot || !isInside(absoluteRoot, path)) {
    throw new RecordingError('bad_path', `${JSON.stringify(name)} is outside the recordings folder`);
  }
  return { path, file: relative(absoluteRoot, path).split(sep).join('/'), container };
}

/** The nearest ancestor of `path` (or `path` itself) that exists. */
async function nearestExisting(path: string): Promise<string> {
  for (let at = path; ; at = dirname(at)) {
    try {
      await lstat(at);
      return at;
    } catch {
      if (dirname(at) === at) return at;
    }
  }
}

/**
 * Checks a planned target against the file system and makes its folder: the recordings folder
 * is created if missing; the folder the file goes into, once symbolic links are resolved, must
 * still be inside the recordings folder; an existing file (or link, or marker) is never reused.
 */
export async function prepareRecordingTarget(root: string, target: RecordingTarget): Promise<RecordingTarget> {
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const existing = await nearestExisting(dirname(target.path));
  const realExisting = await realpath(existing).catch(() => existing);
  if (!isInside(realRoot, realExisting)) {
    throw new RecordingError('bad_path', `${JSON.stringify(target.file)} leads outside the recordings folder (through a symbolic link)`);
  }
  for (const path of [target.path, markerPath(target.path)]) {
    const found = await lstat(path).then(
      () => true,
      () => false,
    );
    if (found) throw new RecordingError('file_exists', `${target.file} already exists in the recordings folder`);
  }
  await mkdir(dirname(target.path), { recursive: true });
  // The folders just made are plain folders below a checked one: the file stays inside.
  const realParent = await realpath(dirname(target.path));
  if (!isInside(realRoot, realParent)) throw new RecordingError('bad_path', `${JSON.stringify(target.file)} leads outside the recordings folder`);
  return { ...target, path: join(realParent, basename(target.path)) };
}

/** A default name for a room's recording: `<room>-<UTC time>.webm`. */
export function defaultRecordingName(room: string, now: Date): string {
  return `${room}-${now.toISOString().replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z')}${DEFAULT_RECORDING_EXTENSION}`;
}
