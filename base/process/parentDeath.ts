import { existsSync } from 'node:fs';

/**
 * util-linux's setpriv sets the parent-death signal and then execs the program (same PID): if
 * the server dies without stopping its children (SIGKILL, a crash), each gets SIGTERM (FFmpeg
 * handles it like `q`, so a recording is finalized) instead of running on as an orphan. A parent
 * killed in the few milliseconds between the fork and setpriv's prctl is missed (setpriv does
 * not check its parent afterwards); the session's spawner (spawnerMain.ts) ends what it started.
 */
const SETPRIV = '/usr/bin/setpriv';
export const parentDeathSignalAvailable = existsSync(SETPRIV);

/** The command that runs `file` and sends it SIGTERM when the process that started it dies. */
export function withParentDeathSignal(file: string, args: readonly string[]): [string, string[]] {
  return parentDeathSignalAvailable ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', file, ...args]] : [file, [...args]];
}
