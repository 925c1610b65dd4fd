import { existsSync, readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Scheduling priority of the media path. On a saturated machine (measured on two cores: a room
 * of five, its FFmpeg children and the bots of a test) the session's clock thread waited for a
 * CPU longer than it ran, and the composite froze for 200-600 ms around every join. So the
 * threads a frame passes through on its way out (the main thread, which fans the composite out
 * to every peer, the session threads, which inherit its priority, and the compositors they
 * start) run `boost` nice levels above the server's other work (decoders, mix encoders), which
 * is started that many levels lower. FreeSWITCH's `-rp` and PipeWire's RT threads do the same.
 *
 * Linux keeps a nice value per thread: setpriority() on process 0 changes the calling thread,
 * and threads and processes started later inherit it.
 */

/** Debian's coreutils: starts a program at a lower priority, same PID (exec). */
const NICE = '/usr/bin/nice';
const MIN_NICE = -20;

/** How many nice levels the server's background work runs below its media path (0: none). */
let backgroundNiceness = 0;
/** The main thread's nice value before any boost: a second server in one process starts from it too. */
let originalNice: number | undefined;

export interface PriorityBoost {
  /** Levels the media path runs above background work: `requested`, or 0 when not permitted. */
  boost: number;
  requested: number;
  /** Why the boost could not be applied. */
  error?: string;
}

/** The nice value `levels` above `current`, kept inside Linux's range. */
export function boostedNice(current: number, levels: number): number {
  return Math.max(MIN_NICE, current - levels);
}

/**
 * Raises the calling thread (the server's main thread, before it starts any session thread or
 * FFmpeg) by `levels` nice levels. Needs root or CAP_SYS_NICE (or an RLIMIT_NICE that allows
 * it); without, everything runs at one priority and the reason is returned.
 */
export function boostMediaPriority(levels: number): PriorityBoost {
  originalNice ??= getPriority();
  const target = boostedNice(originalNice, Math.max(0, levels));
  try {
    if (getPriority() !== target) setPriority(target);
  } catch (error) {
    setBackgroundNiceness(0);
    return { boost: 0, requested: levels, error: (error as Error).message };
  }
  setBackgroundNiceness(originalNice - target);
  return { boost: originalNice - target, requested: levels };
}

/** In a session thread: the levels its main thread gained (threads do not share this module). */
export function setBackgroundNiceness(levels: number): void {
  backgroundNiceness = existsSync(NICE) ? Math.max(0, levels) : 0;
}

export function getBackgroundNiceness(): number {
  return backgroundNiceness;
}

/** The command that starts `binary` `niceness` levels below the calling thread. */
export function niceCommand(binary: string, args: readonly string[], niceness: number): [string, string[]] {
  return niceness > 0 ? [NICE, ['-n', String(niceness), binary, ...args]] : [binary, [...args]];
}

/**
 * Raises every thread of a process started as background work to the calling thread's priority
 * (a standby compositor taken into use). Allowed wherever the boost was; returns false if not.
 */
export function raiseToCallerPriority(pid: number): boolean {
  const nice = getPriority();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) setPriority(Number(tid), nice);
    return true;
  } catch {
    return false;
  }
}
