import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { createLogger } from '../../base/log/logger.ts';
import { isProcessAlive } from '../../base/process/processAlive.ts';
import { recordingContainer } from './recorderArgs.ts';
import { MARKER_SUFFIX } from './recordingPath.ts';
import type { RecordingMarker } from './RecorderTypes.ts';
import { repairRecording } from './repair.ts';

const log = createLogger('recovery');

/** Folders below the recordings folder that are searched for markers. */
const MAX_DEPTH = 8;

/**
 * What a server found at start: a recording left unfinished by an earlier run (killed, or
 * crashed), and what became of it.
 * - `repaired`: stream-copied into a finished file (index and duration), in place;
 * - `unrepairable`: left as it was (see `detail`); its marker stays, so it is reported again;
 * - `missing`: the marker was there, the file not (nothing was recorded); the marker is removed;
 * - `in_use`: the marker's process still runs (another server records into this folder).
 */
export interface RecoveredRecording {
  file: string;
  room: string | null;
  state: 'repaired' | 'unrepairable' | 'missing' | 'in_use';
  detail: string;
  durationSeconds: number | null;
}

/** Markers (`<file>.recording`) below `root`: symbolic links are not followed. */
export async function findMarkers(root: string, depth = 0): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory() && depth < MAX_DEPTH) found.push(...(await findMarkers(path, depth + 1)));
    else if (entry.isFile() && entry.name.endsWith(MARKER_SUFFIX)) found.push(path);
  }
  return found.sort();
}

async function readMarker(path: string): Promise<Partial<RecordingMarker>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Partial<RecordingMarker>) : {};
  } catch {
    return {};
  }
}

/** Finds every unfinished recording below `root` and repairs it, or says why not. */
export async function recoverRecordings(root: string): Promise<RecoveredRecording[]> {
  const results: RecoveredRecording[] = [];
  for (const marker of await findMarkers(root)) {
    const path = marker.slice(0, -MARKER_SUFFIX.length);
    const file = relative(root, path).split(sep).join('/');
    const info = await readMarker(marker);
    const room = typeof info.room === 'string' ? info.room : null;
    const report = (state: RecoveredRecording['state'], detail: string, durationSeconds: number | null = null): void => {
      const result: RecoveredRecording = { file, room, state, detail, durationSeconds };
      results.push(result);
      if (state === 'repaired' || state === 'in_use') log.warn(result, 'unfinished recording found');
      else log.error(result, 'unfinished recording found');
    };
    if (typeof info.pid === 'number' && info.pid !== process.pid && isProcessAlive(info.pid)) {
      report('in_use', `process ${info.pid} is still recording it`);
      continue;
    }
    const exists = await lstat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!exists) {
      await rm(marker, { force: true });
      report('missing', 'the recording never wrote its file');
      continue;
    }
    const container = recordingContainer(path);
    if (!container) {
      report('unrepairable', 'its name has no recording extension');
      continue;
    }
    try {
      const duration = await repairRecording(path, container);
      await rm(marker, { force: true });
      report('repaired', `repaired after an unclean stop: ${duration.toFixed(2)} s`, duration);
    } catch (error) {
      report('unrepairable', (error as Error).message.split('\n')[0] ?? 'repair failed');
    }
  }
  return results;
}
