/**
 * What a person in Chromium gets from the mixer, in two rooms (`npm run bench:browser`, and the
 * last part of `npm run bench`):
 *   room:      one Chromium publisher, one Chromium viewer and two bots;
 *   saturated: three Chromium publishers on a machine they saturate, over a longer window, to
 *              see whether latency grows.
 * Each Chromium client is a plain page speaking the signaling protocol (browserProbe.page.js):
 * glass-to-glass from the timecode drawn into the publishers' pictures, the mix's latency from
 * beeps, the A/V offset, jitter buffers, frames shown and the join time, from getStats() and
 * requestVideoFrameCallback. The server runs in its own process; machine load is reported.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BotProcess } from '../../test/helpers/bots.ts';
import type { LaunchedChromium } from '../../test/helpers/browser.ts';
import { errorText } from '../lib/errors.ts';
import { freeTcpPort } from '../lib/processes.ts';
import { browserFigures, latencyGrowth, probeBoxes, type BrowserFigures } from './browserFigures.ts';
import { launchProbeBrowser, openProbeClient, PROBE_CANVAS, PROBE_SOURCE, probeBotSpec, type ProbeClient } from './browserProbe.ts';
import { machineCpu, machineCpuShare } from './machine.ts';
import { startServer, stopServer, type ServerProcess } from './server.ts';
import { round } from './numbers.ts';

const ROOM = 'browser-bench';
const CONNECT_TIMEOUT_MS = 30_000;
const CSS_COLORS = ['#2060c0', '#c03030', '#30a040', '#c0a020'];

export type ScenarioName = 'room' | 'saturated';

export interface ScenarioOptions {
  scenario: ScenarioName;
  /** Measuring window after everyone has joined and settled. */
  seconds: number;
  settleSeconds: number;
  dir: string;
}

export interface ClientFigures extends BrowserFigures {
  name: string;
  role: 'publisher' | 'viewer';
  errors: string[];
}

export interface ScenarioResult {
  scenario: ScenarioName;
  description: string;
  ok: boolean;
  error?: string;
  windowSeconds: number | null;
  /** Machine CPU over the window (cores busy of all of them) and the load average at its end. */
  machineBusyCores: number | null;
  loadAverage: number[];
  clients: ClientFigures[];
  /** Saturated room: p50 latency of the window's first and last 10 s. */
  growth: { firstMs: number | null; lastMs: number | null; growthMs: number | null } | null;
}

const DESCRIPTIONS: Record<ScenarioName, string> = {
  room: '1 Chromium publisher + 1 Chromium viewer + 2 bots',
  saturated: '3 Chromium publishers',
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitConnected(client: ProbeClient): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const summary = await client.summary();
    if (summary.marks.firstFrame !== undefined) return;
    if (Date.now() > deadline) {
      throw new Error(`${client.name} showed no composite frame within ${CONNECT_TIMEOUT_MS / 1000} s: ${JSON.stringify(summary.marks)} ${summary.errors.join('; ')}`);
    }
    await sleep(200);
  }
}

export async function runBrowserScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    scenario: o.scenario,
    description: DESCRIPTIONS[o.scenario],
    ok: false,
    windowSeconds: null,
    machineBusyCores: null,
    loadAverage: [],
    clients: [],
    growth: null,
  };
  await mkdir(o.dir, { recursive: true });
  let server: ServerProcess | undefined;
  let browser: LaunchedChromium | undefined;
  const bots: BotProcess[] = [];
  const clients: { client: ProbeClient; role: 'publisher' | 'viewer' }[] = [];
  try {
    const port = await freeTcpPort();
    server = await startServer(port, join(o.dir, 'server.log'), 16);
    const httpUrl = `http://127.0.0.1:${port}`;
    browser = await launchProbeBrowser(httpUrl);
    const publishers = o.scenario === 'room' ? 1 : 3;
    const botCount = o.scenario === 'room' ? 2 : 0;
    const boxes = probeBoxes(PROBE_SOURCE, PROBE_CANVAS, publishers + botCount);
    for (let i = 0; i < botCount; i++) {
      const bot = new BotProcess(probeBotSpec(i, `ws://127.0.0.1:${port}/socket`, ROOM));
      bots.push(bot);
      await bot.waitFor((e) => e.event === 'connected', CONNECT_TIMEOUT_MS, 'connected');
    }
    // Clients join one after the other, each once the one before shows the composite.
    for (let i = 0; i < publishers; i++) {
      const client = await openProbeClient(browser, {
        httpUrl,
        room: ROOM,
        name: `chromium${i}`,
        publish: true,
        color: CSS_COLORS[i % CSS_COLORS.length]!,
        size: PROBE_SOURCE,
        boxes,
      });
      clients.push({ client, role: 'publisher' });
      await waitConnected(client);
    }
    if (o.scenario === 'room') {
      const viewer = await openProbeClient(browser, { httpUrl, room: ROOM, name: 'viewer', publish: false, boxes });
      clients.push({ client: viewer, role: 'viewer' });
      await waitConnected(viewer);
    }
    await sleep(o.settleSeconds * 1000);
    const cpu0 = machineCpu();
    const from = Date.now();
    await sleep(o.seconds * 1000);
    const to = Date.now();
    result.machineBusyCores = round(machineCpuShare(cpu0, machineCpu()), 2);
    result.loadAverage = (await import('node:os')).loadavg().map((l) => round(l, 2));
    result.windowSeconds = round((to - from) / 1000, 1);
    for (const { client, role } of clients) {
      const summary = await client.summary();
      result.clients.push({ name: client.name, role, ...browserFigures(summary, from, to), errors: summary.errors.slice(0, 5) });
      if (o.scenario === 'saturated' && role === 'publisher' && result.growth === null) {
        result.growth = latencyGrowth(summary, from, to, Math.min(10_000, ((to - from) / 3) | 0));
      }
    }
    result.ok = result.clients.every((c) => c.fps !== null);
  } catch (error) {
    result.error = errorText(error);
  } finally {
    for (const { client } of clients) await client.leave();
    await browser?.close().catch(() => {});
    await Promise.all(bots.map((b) => b.stop(15_000)));
    await stopServer(server);
  }
  return result;
}

const fmt = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** One table row per Chromium client. */
export function formatBrowserTable(results: ScenarioResult[]): string {
  const header =
    '| room | client | glass-to-glass p50/p95 ms | mix latency p50 ms | A/V offset ms | audio jitter buffer (target) ms | video jitter buffer (target) ms | socket open → first frame ms (answer, connected) | fps shown (decoded) | freezes (s) | longest gap ms | machine busy (cores of 2) |';
  const rule = `|${header.split('|').slice(1, -1).map(() => '---').join('|')}|`;
  const rows = results.flatMap((r) =>
    r.error && r.clients.length === 0
      ? [`| ${r.description} | FAILED: ${r.error.split('\n')[0]} |`]
      : r.clients.map(
          (c) =>
            `| ${r.description} | ${c.name} (${c.role}) | ${fmt(c.glassToGlassMs?.p50)} / ${fmt(c.glassToGlassMs?.p95)} | ${fmt(c.audioLatencyMs?.p50)} | ${fmt(c.avOffsetMs)} | ` +
            `${fmt(c.audioJitterBufferMs)} (${fmt(c.audioJitterTargetMs)}) | ${fmt(c.videoJitterBufferMs)} (${fmt(c.videoJitterTargetMs)}) | ` +
            `${fmt(c.join.firstFrameMs)} (${fmt(c.join.answerMs)}, ${fmt(c.join.connectedMs)}) | ${fmt(c.fps, 1)} (${fmt(c.decodedFps, 1)}) | ${fmt(c.freezes)} (${fmt(c.freezeSeconds, 2)}) | ${fmt(c.longestGapMs)} | ${fmt(r.machineBusyCores, 2)} |`,
        ),
  );
  const growth = results
    .filter((r) => r.growth)
    .map((r) => `${r.description}: latency p50 ${fmt(r.growth!.firstMs)} ms in the window's first 10 s, ${fmt(r.growth!.lastMs)} ms in its last (growth ${fmt(r.growth!.growthMs)} ms)`);
  return [header, rule, ...rows, ...growth].join('\n');
}

/** Runs the scenarios in a scratch folder (removed afterwards unless `keep`). */
export async function runBrowserBench(scenarios: { scenario: ScenarioName; seconds: number }[], settleSeconds: number, keep = false): Promise<{ results: ScenarioResult[]; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcu-browser-bench-'));
  const results: ScenarioResult[] = [];
  try {
    for (const { scenario, seconds } of scenarios) {
      results.push(await runBrowserScenario({ scenario, seconds, settleSeconds, dir: join(dir, scenario) }));
    }
  } finally {
    if (!keep) await rm(dir, { recursive: true, force: true });
  }
  return { results, dir };
}
