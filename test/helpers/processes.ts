import { readdirSync, readFileSync } from 'node:fs';

interface ProcessEntry {
  ppid: number;
  comm: string;
}

/** Every live (not zombie) process, from /proc. */
function liveProcesses(): Map<number, ProcessEntry> {
  const all = new Map<number, ProcessEntry>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state !== 'Z') all.set(Number(entry), { ppid: Number(ppid), comm });
    } catch {
      // the process ended while we looked
    }
  }
  return all;
}

/** Live processes below `root` at any depth: pid → command name. */
export function descendants(root: number): Map<number, string> {
  const all = liveProcesses();
  const found = new Map<number, string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, { ppid, comm }] of all) {
      if (!found.has(pid) && (ppid === root || found.has(ppid))) {
        found.set(pid, comm);
        grew = true;
      }
    }
  }
  return found;
}

/**
 * Live processes below `root` that its work made: pid → command name. Left out are what lives as
 * long as a server does: its spare session process (`mcu-spare`, mixer/process/SpareSessions.ts) with what
 * runs below it, and the TypeScript loader's esbuild service.
 */
export function workBelow(root: number): Map<number, string> {
  const all = descendants(root);
  const spares = [...all].filter(([, comm]) => comm === 'mcu-spare').map(([pid]) => pid);
  const spareFamily = new Set(spares.flatMap((pid) => [pid, ...descendants(pid).keys()]));
  return new Map([...all].filter(([pid, comm]) => !spareFamily.has(pid) && comm !== 'esbuild'));
}

/**
 * PIDs of the live FFmpeg processes this process's server started: its own (recorders) and its
 * session processes' (decoders, compositors, encoders, started by their spawners). Bots' FFmpeg
 * are not among them.
 */
export function ffmpegChildren(parent = process.pid): number[] {
  const all = liveProcesses();
  const parents = new Set([parent, ...sessionProcesses(parent, all)]);
  return [...all].filter(([, p]) => p.comm === 'ffmpeg' && parents.has(p.ppid)).map(([pid]) => pid);
}

/** PIDs of the live session processes (`mcu-session`) of this process's server, and of their spawners. */
export function sessionProcesses(parent = process.pid, all = liveProcesses()): number[] {
  const sessions = [...all].filter(([, p]) => p.comm === 'mcu-session' && p.ppid === parent).map(([pid]) => pid);
  const spawners = [...all].filter(([, p]) => p.comm === 'mcu-spawner' && sessions.includes(p.ppid)).map(([pid]) => pid);
  return [...sessions, ...spawners];
}
