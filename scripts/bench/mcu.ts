/**
 * One measurement of the real server: `mcu serve` in its own process, N bots (each its own
 * process, publishing 640x360 30 fps VP8 at 800 kbit/s with a timecode, and Opus) joining one
 * room one after the other, a settling time, then a steady window over which the server's CPU
 * (node and every FFmpeg child), the composite the bots receive and their traffic are measured.
 * Bot 0 records its composite, which is read back afterwards for latency and join times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BotProcess, type BotEvent } from '../../test/helpers/bots.ts';
import { longestGap } from '../../test/helpers/frameLog.ts';
import {
  cpuShare,
  descendants,
  processDetails,
  processShares,
  sampleThreads,
  sampleTree,
  threadShares,
  type ThreadSample,
  type TreeSample,
} from '../lib/procStats.ts';
import { errorText } from '../lib/errors.ts';
import { exited, freeTcpPort, killLeftovers, sleep, stopTree, withTimeout } from '../lib/processes.ts';
import { machineCpu, machineCpuShare } from './machine.ts';
import { distribution, mean, median, round, type Distribution } from './numbers.ts';
import { ffmpegColor } from './palette.ts';
import { analyseLatency, decodeRecording, firstAppearances, matchFramesToLog, readFrameLogEntries, type LatencyAnalysis } from './recording.ts';

const MCU = fileURLToPath(new URL('../../bin/mcu.js', import.meta.url));
const ROOM = 'bench';
const SOURCE = { width: 640, height: 360 };
const BOT_BITRATE_KBPS = 800;
const SERVER_START_MS = 20_000;
const SERVER_STOP_MS = 15_000;
const BOT_STOP_MS = 15_000;
const DECODE_TIMEOUT_MS = 180_000;

export interface McuOptions {
  participants: number;
  settleMs: number;
  windowMs: number;
  /** Per bot: from its start to `connected`. */
  joinTimeoutMs: number;
  /** For all the joins together: bots not started by then are left out (and the run reported incomplete). */
  joinBudgetMs: number;
  /** How many windows may be measured when other work disturbs one (the cleanest is kept). */
  windows: number;
  /**
   * Nice value (0-19) for every bot but bot 0, once connected: the bots stand in for clients on
   * other machines, so they yield the CPU to the server; bot 0, which records and is read back,
   * is not niced. A bot's FFmpeg children are started by its main thread and inherit the value.
   */
  botNice: number;
  dir: string;
}

export interface RoleCpu {
  role: string;
  processes: number;
  cpu: number;
}

export interface BotFigures {
  name: string;
  /** Still connected when the window opened: its figures count. */
  measured: boolean;
  fps: number | null;
  longestGapMs: number | null;
  downVideoKbps: number | null;
  downAudioKbps: number | null;
  upVideoKbps: number | null;
  upAudioKbps: number | null;
  joinToFirstFrameMs: number | null;
  joinToTileMs: number | null;
}

export interface McuResult {
  ok: boolean;
  error?: string;
  participants: number;
  /** Bots that joined and connected. */
  connected: number;
  /** Bots still connected at the end of the window. `ok` means all N were. */
  alive: number;
  /** What went wrong with which bot (failed joins, bots that dropped out). */
  problems: string[];
  windowSeconds: number | null;
  server: {
    /** Share of one core: the node process and every FFmpeg child, over the window. */
    cpu: number | null;
    rssMiB: number | null;
    processes: number | null;
    byRole: RoleCpu[];
    /** The node process's threads (main: werift, signaling, fan-out; the session worker: clock and pipes). */
    threads: { name: string; tid: number; main: boolean; cpu: number }[];
  };
  /** CPU of the whole machine over the window, in cores, and how much of it was the bots'. */
  machine: { busyCores: number | null; botsCores: number | null; otherCores: number | null };
  composite: {
    fpsMedian: number | null;
    fpsMin: number | null;
    fpsBot0: number | null;
    longestGapBot0Ms: number | null;
    longestGapMaxMs: number | null;
  };
  latency: (LatencyAnalysis & { matchErrorMs: number | null; matchRunnerUpErrorMs: number | null; recordedFrames: number; matchedFrames: number }) | null;
  latencyError?: string;
  /** Bots 1..N-1: from `joined` to the first frame bot 0 received with their tile in it. */
  joinToTileMs: Distribution | null;
  /** Every bot: from `joined` to the first composite frame it received. */
  joinToFirstFrameMs: Distribution | null;
  /** Mean per participant over the window, kbit/s of RTP payload. */
  downlink: { videoKbps: number | null; audioKbps: number | null; totalKbps: number | null; minKbps: number | null; maxKbps: number | null };
  /** Mean per participant of what an SFU would send it: everyone else's measured uplink. */
  sfuDownlinkKbps: number | null;
  mcuOverSfu: number | null;
  bots: BotFigures[];
  /** Processes that had to be killed because they did not stop in time. */
  killed: number[];
  serverLog?: string;
}

/** Arrival time (this process's wall clock) of every line a bot printed. */
class EventTimes {
  readonly #times = new Map<BotEvent, number>();

  watch(bot: BotProcess): void {
    void (async () => {
      for (;;) {
        const event = await bot.waitFor((e) => !this.#times.has(e), 24 * 3600_000).catch(() => undefined);
        if (!event) return;
        this.#times.set(event, Date.now());
      }
    })();
  }

  at(event: BotEvent): number | undefined {
    return this.#times.get(event);
  }

  /** The last `stats` line that arrived at or before `time`, with its arrival. */
  statsAt(bot: BotProcess, time: number): { event: BotEvent; at: number } | undefined {
    let found: { event: BotEvent; at: number } | undefined;
    for (const event of bot.events) {
      const at = this.#times.get(event);
      if (event.event === 'stats' && at !== undefined && at <= time) found = { event, at };
    }
    return found;
  }
}

/** kbit/s of a cumulative byte counter between two stats lines. */
function rate(a: { event: BotEvent; at: number } | undefined, b: { event: BotEvent; at: number } | undefined, key: string): number | null {
  if (!a || !b || b.at <= a.at) return null;
  const bytes = Number(b.event[key]) - Number(a.event[key]);
  return Number.isFinite(bytes) ? round((bytes * 8) / (b.at - a.at), 1) : null;
}

/** What one process of the server's tree is, from its command line. */
function roleOf(pid: number, serverPid: number): string {
  if (pid === serverPid) return 'server node';
  const details = processDetails(pid);
  if (!details) return 'gone';
  const args = details.args.join(' ');
  if (details.comm !== 'ffmpeg') return details.comm;
  if (args.includes('-filter_complex')) return 'ffmpeg compositor';
  if (args.includes('.sdp') && args.includes('rawvideo')) return 'ffmpeg video decoder';
  if (args.includes('.sdp') && args.includes('s16le')) return 'ffmpeg audio decoder';
  if (args.includes('libopus')) return 'ffmpeg audio encoder';
  return `ffmpeg other (${args.replace(/^\S+\s+/, '').slice(0, 120)})`;
}

function byRole(before: TreeSample, after: TreeSample, serverPid: number): RoleCpu[] {
  const roles = new Map<string, RoleCpu>();
  for (const [pid, share] of processShares(before, after)) {
    const role = roleOf(pid, serverPid);
    const entry = roles.get(role) ?? { role, processes: 0, cpu: 0 };
    entry.processes++;
    entry.cpu += share;
    roles.set(role, entry);
  }
  return [...roles.values()].map((r) => ({ ...r, cpu: round(r.cpu, 3) })).sort((a, b) => b.cpu - a.cpu);
}

export interface ServerProcess {
  child: ChildProcess;
  log: string[];
}

export async function startServer(port: number, logPath: string): Promise<ServerProcess> {
  const child = spawn(process.execPath, [MCU, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MCU_LOG_LEVEL: process.env.MCU_BENCH_SERVER_LOG_LEVEL ?? 'warn' },
  });
  const log: string[] = [];
  const file = createWriteStream(logPath);
  child.stderr!.on('data', (d: Buffer) => {
    file.write(d);
    log.push(d.toString());
    if (log.length > 50) log.shift();
  });
  child.once('exit', () => file.end());
  let stdout = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('Mixer running')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready: ${log.join('').slice(-600)}`)));
    child.once('error', reject);
  });
  try {
    await withTimeout(ready, SERVER_START_MS, 'server start');
  } catch (error) {
    await stopTree(child, 3000);
    throw error;
  }
  return { child, log };
}

/** A result with nothing measured yet (or ever, when a run fails before its window). */
export function emptyResult(participants: number): McuResult {
  return {
    ok: false,
    participants,
    connected: 0,
    alive: 0,
    problems: [],
    windowSeconds: null,
    server: { cpu: null, rssMiB: null, processes: null, byRole: [], threads: [] },
    machine: { busyCores: null, botsCores: null, otherCores: null },
    composite: { fpsMedian: null, fpsMin: null, fpsBot0: null, longestGapBot0Ms: null, longestGapMaxMs: null },
    latency: null,
    joinToTileMs: null,
    joinToFirstFrameMs: null,
    downlink: { videoKbps: null, audioKbps: null, totalKbps: null, minKbps: null, maxKbps: null },
    sfuDownlinkKbps: null,
    mcuOverSfu: null,
    bots: [],
    killed: [],
  };
}

/** The last `mcu bot:` line of a bot's stderr, or the error's first 200 characters. */
function botProblem(bot: BotProcess, error: unknown): string {
  const line = bot.stderr.split('\n').filter((l) => l.startsWith('mcu bot:')).pop();
  return `${bot.name}: ${line ?? errorText(error).split('\n')[0]!.slice(0, 200)}`;
}

interface Slot {
  /** Bot number: its colour, its name, its frame log. */
  index: number;
  bot: BotProcess;
  joinedAt: number;
}

/** Other work on the machine (cores) above which a window is measured again. */
const OTHER_LOAD_LIMIT = 0.3;

interface WindowSample {
  from: number;
  to: number;
  tree0: TreeSample;
  tree1: TreeSample;
  threads0: ThreadSample;
  threads1: ThreadSample;
  busyCores: number;
  botsCores: number;
  /** CPU used by neither the server nor the bots (other work on the machine, the bench itself). */
  otherCores: number;
}

async function sampleWindow(serverPid: number, slots: Slot[], ms: number): Promise<WindowSample> {
  const tree0 = sampleTree(serverPid);
  const threads0 = sampleThreads(serverPid);
  const bots0 = slots.map((s) => sampleTree(s.bot.pid!));
  const machine0 = machineCpu();
  const from = Date.now();
  await sleep(ms);
  const to = Date.now();
  const tree1 = sampleTree(serverPid);
  const threads1 = sampleThreads(serverPid);
  const bots1 = slots.map((s) => sampleTree(s.bot.pid!));
  const machine1 = machineCpu();
  const busyCores = machineCpuShare(machine0, machine1);
  const botsCores = bots0.reduce((sum, b0, i) => sum + cpuShare(b0, bots1[i]!), 0);
  const otherCores = Math.max(0, busyCores - botsCores - cpuShare(tree0, tree1));
  return { from, to, tree0, tree1, threads0, threads1, busyCores, botsCores, otherCores };
}

/** Sets the nice value of every thread of a process and of its descendants (Linux nice is per thread). */
function reniceTree(pid: number, nice: number): void {
  for (const p of [pid, ...descendants(pid)]) {
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        setPriority(Number(tid), nice);
      } catch {
        // gone, or not ours
      }
    }
  }
}

export async function runMcu(o: McuOptions): Promise<McuResult> {
  const n = o.participants;
  const result = emptyResult(n);
  await mkdir(o.dir, { recursive: true });
  const recording = join(o.dir, 'bot0.mkv');
  const frameLog = (i: number): string => join(o.dir, `bot${i}.frames`);
  const removeOutputs = (i: number): Promise<unknown> =>
    Promise.all([frameLog(i), ...(i === 0 ? [recording] : [])].map((path) => rm(path, { force: true })));
  // The bots append to their frame logs: start from nothing.
  await Promise.all(Array.from({ length: n }, (_, i) => removeOutputs(i)));
  const times = new EventTimes();
  const slots: Slot[] = [];
  /** Every bot process started, including failed attempts: all are stopped at the end. */
  const started: BotProcess[] = [];
  let server: ServerProcess | undefined;
  let window: { from: number; to: number } | undefined;
  let measured: Slot[] = [];
  const statsWindow = new Map<Slot, { first?: { event: BotEvent; at: number }; last?: { event: BotEvent; at: number } }>();

  try {
    const port = await freeTcpPort();
    server = await startServer(port, join(o.dir, 'server.log'));
    const serverPid = server.child.pid!;
    const url = `ws://127.0.0.1:${port}/socket`;

    // Bots join one after the other: the next one starts once the previous one has joined
    // (its node start-up overlaps the previous handshake). A bot that fails gets one more try.
    const joinDeadline = Date.now() + o.joinBudgetMs;
    const joinBot = (i: number, hasJoined: () => void): Promise<void> =>
      (async () => {
        for (let attempt = 1; attempt <= 2; attempt++) {
          if (attempt > 1) await removeOutputs(i);
          const bot = new BotProcess({
            url,
            room: ROOM,
            name: `bot${i}`,
            color: ffmpegColor(i),
            tone: 220 + 55 * i,
            size: `${SOURCE.width}x${SOURCE.height}`,
            bitrate: BOT_BITRATE_KBPS,
            timecode: true,
            frameLog: frameLog(i),
            ...(i === 0 ? { record: recording } : {}),
          });
          started.push(bot);
          times.watch(bot);
          try {
            const joined = await bot.waitFor((e) => e.event === 'joined', o.joinTimeoutMs, 'joined');
            hasJoined();
            await bot.waitFor((e) => e.event === 'connected', o.joinTimeoutMs, 'connected');
            // Niced once connected, not before: its start and its handshake run at normal
            // priority, as a remote client's would, and do not crawl behind the running room.
            if (i > 0 && o.botNice > 0 && bot.pid !== undefined) reniceTree(bot.pid, o.botNice);
            slots.push({ index: i, bot, joinedAt: times.at(joined) ?? Date.now() });
            return;
          } catch (error) {
            result.problems.push(`${botProblem(bot, error)} (attempt ${attempt})`);
            await bot.stop(BOT_STOP_MS);
          }
        }
        hasJoined();
      })();
    const joining: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      if (Date.now() > joinDeadline) {
        result.problems.push(`joining took longer than ${o.joinBudgetMs / 1000} s: ${i} of ${n} bots started`);
        break;
      }
      let hasJoined: () => void = () => {};
      const joined = new Promise<void>((resolve) => (hasJoined = resolve));
      joining.push(joinBot(i, hasJoined));
      await joined;
    }
    await Promise.all(joining);
    slots.sort((a, b) => a.index - b.index);
    result.connected = slots.length;

    await sleep(o.settleMs);
    for (const slot of slots) {
      if (!slot.bot.running) result.problems.push(`${botProblem(slot.bot, 'exited')} (before the window)`);
    }
    measured = slots.filter((s) => s.bot.running);
    if (measured.length === 0) throw new Error('no bot left to measure with');

    // A window polluted by other work on the machine is measured again (once), and the
    // cleaner of the two is kept: the server's figures are only as good as the machine is idle.
    let sample = await sampleWindow(serverPid, measured, o.windowMs);
    for (let attempt = 2; attempt <= o.windows && sample.otherCores > OTHER_LOAD_LIMIT; attempt++) {
      result.problems.push(`other work used ${sample.otherCores.toFixed(2)} cores during window ${attempt - 1}: measured again, the cleaner window kept`);
      const again = await sampleWindow(serverPid, measured, o.windowMs);
      if (again.otherCores < sample.otherCores) sample = again;
    }
    const { from, to, tree0, tree1, threads0, threads1 } = sample;
    window = { from, to };
    result.windowSeconds = round((to - from) / 1000, 2);
    for (const slot of measured) {
      if (!slot.bot.running) result.problems.push(`${botProblem(slot.bot, 'exited')} (during the window)`);
    }
    result.alive = measured.filter((s) => s.bot.running).length;

    result.server.cpu = round(cpuShare(tree0, tree1), 3);
    result.server.rssMiB = Math.round(tree1.rssBytes / 2 ** 20);
    result.server.processes = tree1.processes;
    result.server.byRole = byRole(tree0, tree1, serverPid);
    result.server.threads = threadShares(threads0, threads1)
      .filter((t) => t.share >= 0.005)
      .sort((a, b) => b.share - a.share)
      .map((t) => ({ name: t.name, tid: t.tid, main: t.tid === serverPid, cpu: round(t.share, 3) }));
    result.machine = { busyCores: round(sample.busyCores, 2), botsCores: round(sample.botsCores, 2), otherCores: round(sample.otherCores, 2) };
    // Traffic: a stats line a second, counted between the first line after the window opened
    // and the last one before it closed, by arrival.
    for (const slot of measured) {
      const first = times.statsAt(slot.bot, from + 1000);
      const last = times.statsAt(slot.bot, to);
      statsWindow.set(slot, { ...(first ? { first } : {}), ...(last ? { last } : {}) });
    }
    result.ok = result.alive === n;
  } catch (error) {
    result.error = errorText(error);
  } finally {
    // Bot 0 first, while the composite still flows, so that its recorder ends its file cleanly.
    const family = started.flatMap((b) => (b.pid !== undefined ? descendants(b.pid) : []));
    const first = slots.find((s) => s.index === 0)?.bot;
    if (first) await first.stop(BOT_STOP_MS);
    await Promise.all(started.map((b) => b.stop(BOT_STOP_MS)));
    result.killed.push(...killLeftovers(family, /ffmpeg/));
    if (server) {
      result.killed.push(...(await stopTree(server.child, SERVER_STOP_MS)));
      await withTimeout(exited(server.child), 5000, 'server exit').catch(() => {});
      if (!result.ok) result.serverLog = server.log.join('').slice(-1500);
    }
  }
  if (!result.ok && !result.error && result.problems.length) {
    result.error = `${result.alive} of ${n} bots through the window: ${result.problems.join('; ')}`;
  }

  // Everything below reads files: the machine is quiet again.
  const logs = new Map(slots.map((s) => [s, readFrameLogEntries(frameLog(s.index))]));
  result.bots = slots.map((slot) => {
    const walls = logs.get(slot)!.map((e) => e.wall);
    const { first, last } = statsWindow.get(slot) ?? {};
    const firstFrame = walls[0];
    const inWindow = window !== undefined && measured.includes(slot);
    return {
      name: slot.bot.name,
      measured: inWindow,
      fps: inWindow ? round(walls.filter((t) => t >= window!.from && t < window!.to).length / ((window!.to - window!.from) / 1000), 1) : null,
      longestGapMs: inWindow ? longestGap(walls, window!.from, window!.to) : null,
      downVideoKbps: rate(first, last, 'videoBytes'),
      downAudioKbps: rate(first, last, 'audioBytes'),
      upVideoKbps: rate(first, last, 'sentVideoBytes'),
      upAudioKbps: rate(first, last, 'sentAudioBytes'),
      joinToFirstFrameMs: firstFrame !== undefined ? firstFrame - slot.joinedAt : null,
      joinToTileMs: null,
    };
  });
  summariseBots(result);

  const recorder = slots.find((s) => s.index === 0);
  if (recorder && existsSync(recording)) {
    try {
      const { frames } = await decodeRecording({ path: recording, source: SOURCE, maxTiles: n, timeoutMs: DECODE_TIMEOUT_MS });
      const match = matchFramesToLog(frames.map((f) => f.ptsMs), logs.get(recorder)!);
      if (window && measured.includes(recorder)) {
        result.latency = {
          ...analyseLatency(frames, match.arrivals, window, measured.length),
          matchErrorMs: match.meanErrorMs,
          matchRunnerUpErrorMs: match.runnerUpErrorMs,
          recordedFrames: frames.length,
          matchedFrames: match.matched,
        };
      }
      const appeared = firstAppearances(frames, match.arrivals, n);
      const joinToTile: number[] = [];
      slots.forEach((slot, i) => {
        const seen = appeared[slot.index];
        if (slot.index === 0 || seen === undefined) return;
        result.bots[i]!.joinToTileMs = seen - slot.joinedAt;
        joinToTile.push(seen - slot.joinedAt);
      });
      result.joinToTileMs = joinToTile.length ? distribution(joinToTile, 0) : null;
    } catch (error) {
      result.latencyError = errorText(error);
    }
  }
  return result;
}

function summariseBots(result: McuResult): void {
  const bots = result.bots.filter((b) => b.measured);
  const known = (values: (number | null)[]): number[] => values.filter((v): v is number => v !== null);
  const fps = known(bots.map((b) => b.fps));
  const gaps = known(bots.map((b) => b.longestGapMs));
  result.composite = {
    fpsMedian: median(fps),
    fpsMin: fps.length ? Math.min(...fps) : null,
    fpsBot0: result.bots.find((b) => b.name === 'bot0')?.fps ?? null,
    longestGapBot0Ms: result.bots.find((b) => b.name === 'bot0')?.longestGapMs ?? null,
    longestGapMaxMs: gaps.length ? Math.max(...gaps) : null,
  };
  const joins = known(result.bots.map((b) => b.joinToFirstFrameMs));
  result.joinToFirstFrameMs = joins.length ? distribution(joins, 0) : null;

  const down = bots.map((b) => (b.downVideoKbps !== null && b.downAudioKbps !== null ? b.downVideoKbps + b.downAudioKbps : null));
  const video = mean(known(bots.map((b) => b.downVideoKbps)));
  const audio = mean(known(bots.map((b) => b.downAudioKbps)));
  const total = known(down);
  result.downlink = {
    videoKbps: video === null ? null : round(video, 1),
    audioKbps: audio === null ? null : round(audio, 1),
    totalKbps: total.length ? round(mean(total)!, 1) : null,
    minKbps: total.length ? Math.min(...total) : null,
    maxKbps: total.length ? Math.max(...total) : null,
  };
  const up = bots.map((b) => (b.upVideoKbps !== null && b.upAudioKbps !== null ? b.upVideoKbps + b.upAudioKbps : null));
  if (bots.length > 1 && up.every((u) => u !== null)) {
    const sum = (up as number[]).reduce((a, b) => a + b, 0);
    const sfu = mean((up as number[]).map((u) => sum - u));
    result.sfuDownlinkKbps = sfu === null ? null : round(sfu, 1);
    if (result.sfuDownlinkKbps && result.downlink.totalKbps !== null) {
      result.mcuOverSfu = round(result.downlink.totalKbps / result.sfuDownlinkKbps, 3);
    }
  }
}
