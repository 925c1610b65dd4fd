import { readdirSync, readFileSync } from 'node:fs';

/** CPU time and memory of a process and its descendants, and of threads, from /proc (Linux): the bench and the load generator measure with it. */

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

/** CPU and memory of the given processes only (cheaper than sampleTree, which reads all of /proc). */
export function sampleProcesses(pids: readonly number[]): TreeSample {
  const entries = pids.flatMap((pid) => readEntry(pid) ?? []);
  return {
    at: performance.now(),
    cpuSeconds: new Map(entries.map((e) => [e.pid, e.cpuSeconds])),
    rssBytes: entries.reduce((sum, e) => sum + e.rssBytes, 0),
    processes: entries.length,
  };
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

/** What a process is: its short name (`comm`) and its command line. */
export interface ProcessDetails {
  pid: number;
  comm: string;
  args: string[];
}

export function processDetails(pid: number): ProcessDetails | undefined {
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.length > 0);
    return { pid, comm, args };
  } catch {
    return undefined;
  }
}

/** PIDs of a process's live descendants (not the process itself). */
export function descendants(root: number): number[] {
  return [...sampleTree(root).cpuSeconds.keys()].filter((pid) => pid !== root);
}

/** True while /proc has the process and it is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export interface ThreadSample {
  at: number;
  /** CPU seconds and name of every thread of one process. */
  threads: Map<number, { name: string; cpuSeconds: number }>;
}

/** CPU time of every thread of one process (/proc/<pid>/task), e.g. a Node main thread vs its workers. */
export function sampleThreads(pid: number): ThreadSample {
  const threads = new Map<number, { name: string; cpuSeconds: number }>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    // the process is gone
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), { name, cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
    } catch {
      // the thread ended while we looked
    }
  }
  return { at: performance.now(), threads };
}

/** Share of one core used by each thread between two samples (threads present in the second). */
export function threadShares(before: ThreadSample, after: ThreadSample): { tid: number; name: string; share: number }[] {
  const seconds = (after.at - before.at) / 1000;
  return [...after.threads].map(([tid, t]) => ({
    tid,
    name: t.name,
    share: (t.cpuSeconds - (before.threads.get(tid)?.cpuSeconds ?? 0)) / seconds,
  }));
}

/** Share of one core used by each process of a tree between two samples. */
export function processShares(before: TreeSample, after: TreeSample): Map<number, number> {
  const seconds = (after.at - before.at) / 1000;
  const shares = new Map<number, number>();
  for (const [pid, cpu] of after.cpuSeconds) shares.set(pid, (cpu - (before.cpuSeconds.get(pid) ?? 0)) / seconds);
  return shares;
}
