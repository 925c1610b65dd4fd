import { readdirSync, readFileSync } from 'node:fs';

/** CPU time and memory of a process and all of its descendants, read from /proc (Linux). */

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcEntry {
  pid: number;
  ppid: number;
  cpuSeconds: number;
  rssBytes: number;
}

function readEntry(pid: number): ProcEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3 of stat): ppid is field 4, utime 14, stime 15, rss 24
    const ppid = Number(fields[1]);
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { pid, ppid, cpuSeconds: (utime + stime) / TICKS_PER_SECOND, rssBytes: rssPages * 4096 };
  } catch {
    return undefined;
  }
}

export interface TreeSample {
  at: number;
  /** CPU seconds of every live process in the tree (exited children's time is not counted). */
  cpuSeconds: Map<number, number>;
  rssBytes: number;
  processes: number;
}

export function sampleTree(root: number): TreeSample {
  const all: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const entry = readEntry(Number(name));
    if (entry) all.push(entry);
  }
  const children = new Map<number, ProcEntry[]>();
  for (const e of all) children.set(e.ppid, [...(children.get(e.ppid) ?? []), e]);
  const tree: ProcEntry[] = [];
  const rootEntry = all.find((e) => e.pid === root);
  const stack = rootEntry ? [rootEntry] : [];
  while (stack.length) {
    const e = stack.pop()!;
    tree.push(e);
    stack.push(...(children.get(e.pid) ?? []));
  }
  return {
    at: performance.now(),
    cpuSeconds: new Map(tree.map((e) => [e.pid, e.cpuSeconds])),
    rssBytes: tree.reduce((sum, e) => sum + e.rssBytes, 0),
    processes: tree.length,
  };
}

/** Share of one core used by the tree between two samples (processes present in both, or new). */
export function cpuShare(before: TreeSample, after: TreeSample): number {
  let seconds = 0;
  for (const [pid, cpu] of after.cpuSeconds) seconds += cpu - (before.cpuSeconds.get(pid) ?? 0);
  return seconds / ((after.at - before.at) / 1000);
}
