/**
 * One measurement of the real server for N participants: `mcu serve` in its own process, one
 * real bot (bot 0: a live FFmpeg encoder and the wall-clock timecode, recording its composite)
 * and `mcu loadtest` for the other N-1 (pre-encoded, one process, see src/loadtest/), then a
 * window over which the server's CPU (node and every FFmpeg child, by role), the load
 * generator's own CPU and what every participant received are measured.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BotProcess, type BotEvent } from '../../test/helpers/bots.ts';
import { framesPerSecond, longestGap } from '../../test/helpers/frameLog.ts';
import type { LoadTestSummary } from '../../src/loadtest/LoadTestTypes.ts';
import { cpuShare, descendants, sampleThreads, sampleTree, threadShares } from '../lib/procStats.ts';
import { errorText } from '../lib/errors.ts';
import { exited, freeTcpPort, killLeftovers, sleep, stopTree, withTimeout } from '../lib/processes.ts';
import { LoadProcess } from './loadProcess.ts';
import { machineCpu, machineCpuShare } from './machine.ts';
import { distribution, round, type Distribution } from './numbers.ts';
import { ffmpegColor } from './palette.ts';
import { analyseLatency, decodeRecording, matchFramesToLog, readFrameLogEntries } from './recording.ts';
import { byRole, startServer, type RoleCpu, type ServerProcess } from './server.ts';

const ROOM = 'bench';
/** What every publisher sends unless the bench is told otherwise: a camera's 640x360 at 30 fps, 800 kbit/s. */
export const PUBLISHED = { width: 640, height: 360, fps: 30, bitrateKbps: 800 };
export const CLIP_SECONDS = 10;
const SERVER_STOP_MS = 15_000;
const BOT_STOP_MS = 15_000;
const DECODE_TIMEOUT_MS = 180_000;
/** The bench's window starts this long after the load generator's opens and ends this long before it closes. */
const WINDOW_MARGIN_MS = 1000;
/** The room holds a full grid. */
export const MAX_PARTICIPANTS = 25;

export interface McuOptions {
  participants: number;
  settleMs: number;
  windowMs: number;
  /** Bot 0, from its start to `connected`. */
  joinTimeoutMs: number;
  /** Nice value (0-19) of the load generator: it stands in for clients on other machines. */
  loadNice: number;
  dir: string;
  /** The load generator's clip cache. */
  cacheDir: string;
  /** What every publisher sends (bot 0 too). */
  published: typeof PUBLISHED;
  /** Participants that talk (bot 0, which sends a tone, and the first load publishers); default all. */
  speakers?: number;
  /** Passed on to `mcu serve`. */
  serverArgs?: string[];
}

export type { RoleCpu };

export interface McuResult {
  ok: boolean;
  error?: string;
  participants: number;
  /** Participants that joined and connected (bot 0 and the load generator's). */
  connected: number;
  /** Still connected at the end of the window. `ok` means all N were. */
  alive: number;
  problems: string[];
  windowSeconds: number | null;
  server: {
    /** Share of one core: the node process and every FFmpeg child, over the window. */
    cpu: number | null;
    rssMiB: number | null;
    processes: number | null;
    byRole: RoleCpu[];
    /** The node process's threads. */
    threads: { name: string; tid: number; main: boolean; cpu: number }[];
  };
  /** CPU of the whole machine over the window (cores), of the participants (bot 0 and the load generator), and the rest. */
  machine: { busyCores: number | null; participantsCores: number | null; otherCores: number | null };
  /** The load generator: its own CPU (its process and its latency reader), how late it sent, what it reported. */
  load: { cpu: number | null; pacingLateP95Ms: number | null; pacingLateMaxMs: number | null; summary: LoadTestSummary | null };
  composite: {
    /** Over every receiver (bot 0 and the load generator's N-1): frames per second over the window. */
    fpsMedian: number | null;
    fpsMin: number | null;
    /** The fewest frames any receiver got in one whole second of the window. */
    lowestSecondFps: number | null;
    fpsBot0: number | null;
    longestGapBot0Ms: number | null;
    longestGapMaxMs: number | null;
  };
  /** Glass to glass from the load generator's publishers to its reader (every tile, pre-encoded: no encoder in it). */
  latency: (Distribution & { tilesRead: number; tilesUnread: number }) | null;
  /** Glass to glass of bot 0's own tile in its own composite (a live encoder, the wall-clock timecode). */
  botLatency: Distribution | null;
  latencyError?: string;
  /** The load generator's publishers: from `joined` to their tile at its reader. */
  joinToTileMs: Distribution | null;
  /** Every participant: from `joined` to its first composite frame. */
  joinToFirstFrameMs: Distribution | null;
  downlink: { videoKbps: number | null; audioKbps: number | null; totalKbps: number | null; minKbps: number | null; maxKbps: number | null };
  /** What one publisher sent (the load generator's, measured). */
  uplinkKbpsPerPublisher: number | null;
  /** What an SFU would send each participant: everyone else's measured uplink. */
  sfuDownlinkKbps: number | null;
  mcuOverSfu: number | null;
  /** Processes that had to be killed because they did not stop in time. */
  killed: number[];
  serverLog?: string;
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
    machine: { busyCores: null, participantsCores: null, otherCores: null },
    load: { cpu: null, pacingLateP95Ms: null, pacingLateMaxMs: null, summary: null },
    composite: { fpsMedian: null, fpsMin: null, lowestSecondFps: null, fpsBot0: null, longestGapBot0Ms: null, longestGapMaxMs: null },
    latency: null,
    botLatency: null,
    joinToTileMs: null,
    joinToFirstFrameMs: null,
    downlink: { videoKbps: null, audioKbps: null, totalKbps: null, minKbps: null, maxKbps: null },
    uplinkKbpsPerPublisher: null,
    sfuDownlinkKbps: null,
    mcuOverSfu: null,
    killed: [],
  };
}

/** The last `stats` line bot 0 printed at or before `time` (arrival, this process's clock). */
function statsAt(stats: { event: BotEvent; at: number }[], time: number): { event: BotEvent; at: number } | undefined {
  return stats.filter((s) => s.at <= time).pop();
}

/** kbit/s of a cumulative byte counter between two stats lines. */
function rate(a: { event: BotEvent; at: number } | undefined, b: { event: BotEvent; at: number } | undefined, key: string): number | null {
  if (!a || !b || b.at <= a.at) return null;
  const bytes = Number(b.event[key]) - Number(a.event[key]);
  return Number.isFinite(bytes) ? round((bytes * 8) / (b.at - a.at), 1) : null;
}

interface Window {
  from: number;
  to: number;
}

export async function runMcu(o: McuOptions): Promise<McuResult> {
  const n = o.participants;
  const result = emptyResult(n);
  await mkdir(o.dir, { recursive: true });
  const recording = join(o.dir, 'bot0.mkv');
  const frameLog = join(o.dir, 'bot0.frames');
  await Promise.all([recording, frameLog].map((path) => rm(path, { force: true })));
  let server: ServerProcess | undefined;
  let bot: BotProcess | undefined;
  let load: LoadProcess | undefined;
  let window: Window | undefined;
  const botStats: { event: BotEvent; at: number }[] = [];
  let botJoinedAt: number | undefined;

  try {
    const port = await freeTcpPort();
    server = await startServer(port, join(o.dir, 'server.log'), MAX_PARTICIPANTS, o.serverArgs);
    const serverPid = server.child.pid!;
    const url = `ws://127.0.0.1:${port}/socket`;

    // Bot 0 first: a real client, its own colour (palette 0) and the wall-clock timecode.
    bot = new BotProcess({
      url, room: ROOM, name: 'bot0', color: ffmpegColor(0), tone: 220, size: `${o.published.width}x${o.published.height}`,
      fps: o.published.fps, bitrate: o.published.bitrateKbps, timecode: true, frameLog, record: recording,
    });
    // When each of its lines arrived (this process's clock): its stats over the window, its join.
    const watched = bot;
    const seen = new Set<BotEvent>();
    void (async () => {
      for (;;) {
        const event = await watched.waitFor((e) => !seen.has(e), 24 * 3600_000).catch(() => undefined);
        if (!event) return;
        seen.add(event);
        if (event.event === 'stats') botStats.push({ event, at: Date.now() });
        if (event.event === 'joined') botJoinedAt = Date.now();
      }
    })();
    await bot.waitFor((e) => e.event === 'connected', o.joinTimeoutMs, 'connected');

    const participantPids = (): number[] => [bot!.pid!, ...(load?.pid !== undefined ? [load.pid] : [])];
    if (n > 1) {
      // The load generator's publishers draw palette colours 1..N-1; bot 0 has colour 0.
      // The bench's window lies inside the load generator's, a second from each end: at its close the load generator starts leaving.
      load = new LoadProcess({
        url, room: ROOM, publishers: n - 1, colourOffset: 1, windowSeconds: o.windowMs / 1000 + 2 * WINDOW_MARGIN_MS / 1000, warmupSeconds: o.settleMs / 1000,
        nice: o.loadNice, cacheDir: o.cacheDir, video: o.published, clipSeconds: CLIP_SECONDS, logPath: join(o.dir, 'loadtest.log'),
        ...(o.speakers !== undefined ? { speakers: Math.max(0, Math.min(n - 1, o.speakers - 1)) } : {}),
      });
      const joinBudget = 120_000 + 15_000 * n;
      await load.waitFor('open', joinBudget);
      await sleep(WINDOW_MARGIN_MS);
    } else {
      await sleep(o.settleMs);
    }
    const samples = { server0: sampleTree(serverPid), threads0: sampleThreads(serverPid), parts0: participantPids().map((pid) => sampleTree(pid)), machine0: machineCpu() };
    const from = Date.now();
    await sleep(o.windowMs);
    window = { from, to: Date.now() };
    const server1 = sampleTree(serverPid);
    const threads1 = sampleThreads(serverPid);
    const parts1 = participantPids().map((pid) => sampleTree(pid));
    const machine1 = machineCpu();
    result.windowSeconds = round((window.to - window.from) / 1000, 2);
    result.server.cpu = round(cpuShare(samples.server0, server1), 3);
    result.server.rssMiB = Math.round(server1.rssBytes / 2 ** 20);
    result.server.processes = server1.processes;
    result.server.byRole = byRole(samples.server0, server1, serverPid);
    result.server.threads = threadShares(samples.threads0, threads1)
      .filter((t) => t.share >= 0.005)
      .sort((a, b) => b.share - a.share)
      .map((t) => ({ name: t.name, tid: t.tid, main: t.tid === serverPid, cpu: round(t.share, 3) }));
    const busy = machineCpuShare(samples.machine0, machine1);
    const parts = samples.parts0.reduce((sum, p0, i) => sum + (parts1[i] ? cpuShare(p0, parts1[i]) : 0), 0);
    result.machine = { busyCores: round(busy, 2), participantsCores: round(parts, 2), otherCores: round(Math.max(0, busy - parts - result.server.cpu), 2) };
    if (load) {
      const { summary, killed } = await load.summary(60_000);
      result.killed.push(...killed);
      result.load.summary = summary;
      if (!summary) result.problems.push(`the load generator gave no summary: ${load.tail}`);
    }
    if (!bot.running) result.problems.push(`bot0 exited during the run: ${bot.stderr.slice(-300)}`);
  } catch (error) {
    result.error = errorText(error);
  } finally {
    // Bot 0 before the server, while the composite still flows, so that its recorder ends its file cleanly.
    const family = bot?.pid !== undefined ? descendants(bot.pid) : [];
    if (bot) await bot.stop(BOT_STOP_MS);
    if (load?.running) result.killed.push(...(await load.stop()));
    result.killed.push(...killLeftovers(family, /ffmpeg/));
    if (server) {
      result.killed.push(...(await stopTree(server.child, SERVER_STOP_MS)));
      await withTimeout(exited(server.child), 5000, 'server exit').catch(() => {});
    }
  }

  summarise(result, n, window, readFrameLogEntries(frameLog).map((e) => e.wall), botStats, botJoinedAt);
  if (!result.ok && server) result.serverLog = server.log.join('').slice(-1500);
  if (!result.ok && !result.error) result.error = `${result.alive} of ${n} participants through the window${result.problems.length ? `: ${result.problems.join('; ')}` : ''}`;
  if (window && existsSync(recording)) {
    try {
      result.botLatency = await botOwnLatency(recording, frameLog, window, n, o.published);
    } catch (error) {
      result.latencyError = errorText(error);
    }
  }
  return result;
}

/** What every participant received, from bot 0's frame log and stats lines and the load generator's summary. */
function summarise(
  result: McuResult,
  n: number,
  window: Window | undefined,
  botFrames: number[],
  botStats: { event: BotEvent; at: number }[],
  botJoinedAt: number | undefined,
): void {
  const s = result.load.summary;
  const botAlive = window !== undefined && botFrames.some((t) => t >= window.to - 2000);
  const botConnected = botJoinedAt !== undefined;
  result.connected = (botConnected ? 1 : 0) + (s ? s.participants.publishers.connected : 0);
  result.alive = (botAlive ? 1 : 0) + (s ? s.participants.publishers.alive : 0);
  for (const f of s?.participants.failed ?? []) result.problems.push(`${f.name} failed to join: ${f.reason}`);
  for (const l of s?.participants.lost ?? []) result.problems.push(`${l.name} lost: ${l.reason}`);
  result.ok = result.error === undefined && result.alive === n;
  if (!window) return;

  const botFps = round(botFrames.filter((t) => t >= window.from && t < window.to).length / ((window.to - window.from) / 1000), 1);
  const botGap = longestGap(botFrames, window.from, window.to);
  const botSeconds = framesPerSecond(botFrames, window.from, window.to);
  const receivers = s?.receivers ?? [];
  const fps = [botFps, ...receivers.map((r) => r.fps)];
  const lowest = [...botSeconds, ...receivers.flatMap((r) => (r.lowestSecondFps === null ? [] : [r.lowestSecondFps]))];
  const sorted = [...fps].sort((a, b) => a - b);
  result.composite = {
    fpsMedian: sorted[Math.floor((sorted.length - 1) / 2)] ?? null,
    fpsMin: sorted[0] ?? null,
    lowestSecondFps: lowest.length ? Math.min(...lowest) : null,
    fpsBot0: botFps,
    longestGapBot0Ms: botGap,
    longestGapMaxMs: Math.max(botGap, ...receivers.map((r) => r.longestGapMs)),
  };
  const first = statsAt(botStats, window.from + 1000);
  const last = statsAt(botStats, window.to);
  const botVideo = rate(first, last, 'videoBytes');
  const botAudio = rate(first, last, 'audioBytes');
  const totals = [...(botVideo !== null && botAudio !== null ? [botVideo + botAudio] : []), ...receivers.map((r) => r.downVideoKbps + r.downAudioKbps)];
  const video = [...(botVideo !== null ? [botVideo] : []), ...receivers.map((r) => r.downVideoKbps)];
  const audio = [...(botAudio !== null ? [botAudio] : []), ...receivers.map((r) => r.downAudioKbps)];
  const mean = (v: number[]): number | null => (v.length ? round(v.reduce((a, b) => a + b, 0) / v.length, 1) : null);
  result.downlink = { videoKbps: mean(video), audioKbps: mean(audio), totalKbps: mean(totals), minKbps: totals.length ? Math.min(...totals) : null, maxKbps: totals.length ? Math.max(...totals) : null };
  result.uplinkKbpsPerPublisher = s?.window?.uplinkKbpsPerPublisher ?? null;
  if (n > 1 && result.uplinkKbpsPerPublisher !== null) {
    result.sfuDownlinkKbps = round((n - 1) * result.uplinkKbpsPerPublisher, 1);
    if (result.downlink.totalKbps !== null) result.mcuOverSfu = round(result.downlink.totalKbps / result.sfuDownlinkKbps, 3);
  }
  if (s) {
    result.load.cpu = s.cpu.cores;
    result.load.pacingLateP95Ms = s.pacingLateMs.p95;
    result.load.pacingLateMaxMs = s.pacingLateMs.max;
    result.latency = s.latency ? { ...s.latency, tilesRead: s.latency.tilesRead, tilesUnread: s.latency.tilesUnread } : null;
    result.joinToTileMs = s.joinToTileMs.count ? s.joinToTileMs : null;
  }
  const joins = [...(botJoinedAt !== undefined && botFrames[0] !== undefined ? [botFrames[0] - botJoinedAt] : []), ...(s && s.firstFrameMs.count ? [s.firstFrameMs.p50!] : [])];
  result.joinToFirstFrameMs = joins.length ? distribution(joins, 0) : null;
}

/** Bot 0's own tile in its own recording, over the window: its wall-clock code against the frame's arrival. */
async function botOwnLatency(recording: string, frameLog: string, window: Window, n: number, source: { width: number; height: number }): Promise<Distribution> {
  const { frames } = await decodeRecording({ path: recording, source: { width: source.width, height: source.height }, maxTiles: n, timeoutMs: DECODE_TIMEOUT_MS });
  const match = matchFramesToLog(frames.map((f) => f.ptsMs), readFrameLogEntries(frameLog));
  const own = frames.map((f) => ({ ...f, tiles: f.tiles.filter((t) => t.bot === 0) }));
  return analyseLatency(own, match.arrivals, window, 1).allFrames;
}
