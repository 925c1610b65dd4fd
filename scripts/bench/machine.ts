/** What the figures were measured on, and how busy the whole machine was meanwhile. */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release } from 'node:os';
import { runCommand } from '../lib/processes.ts';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryMiB: number;
  kernel: string;
  node: string;
  ffmpeg: string;
  /** 1, 5 and 15 minute load averages when the run started: other work on the machine shows here. */
  loadAverageAtStart: number[];
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => /^model name\s*:/.test(l));
    return line ? line.split(':').slice(1).join(':').trim() : 'unknown';
  } catch {
    return 'unknown';
  }
}

function memoryMiB(): number {
  try {
    const m = /^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

export async function machineInfo(): Promise<MachineInfo> {
  const ffmpeg = await runCommand(process.env.MCU_FFMPEG ?? 'ffmpeg', ['-hide_banner', '-version'], 10_000).catch((e: unknown) => String(e));
  return {
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    memoryMiB: memoryMiB(),
    kernel: release(),
    node: process.version,
    ffmpeg: ffmpeg.split('\n')[0]?.trim() ?? 'unknown',
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface MachineCpuSample {
  busy: number;
  total: number;
}

/** Jiffies of the whole machine (/proc/stat, all CPUs): busy and total. */
export function machineCpu(): MachineCpuSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** Cores' worth of CPU the whole machine used between two samples. */
export function machineCpuShare(before: MachineCpuSample, after: MachineCpuSample): number {
  const total = after.total - before.total;
  return total > 0 ? ((after.busy - before.busy) / total) * availableParallelism() : 0;
}
