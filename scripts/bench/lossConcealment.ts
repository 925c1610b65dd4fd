/**
 * `npm run bench:loss`: what a browser conceals of the mix on a lossy link (README: The mix).
 *   node --import tsx scripts/bench/lossConcealment.ts [--seconds 20] [--loss 5] [--burst 2] [--fec 10] [--no-fec-off]
 * A room of two bots that take turns talking (a speech-like voice, speech.ts) and one Chromium
 * viewer that hears their mix through TURN only (coturn on 127.0.0.1); between Chromium and
 * coturn a relay of ours (lossRelay.ts) drops the mix's packets by a seeded pattern. Windows, in
 * order: no loss (the reference), independent loss, loss in bursts (each pattern drops the same
 * packets of the window); then the same room again on a server whose mix has no in-band FEC
 * (`--mix-fec-loss 0`). Each window's figures come from the
 * viewer's getStats() (lossFigures.ts), beside the relay's drops and the machine's load. Writes
 * artifacts/bench/loss-<time>.json and loss-latest.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { z } from 'zod';
import { BotProcess } from '../../test/helpers/bots.ts';
import type { LaunchedChromium } from '../../test/helpers/browser.ts';
import { integer, seconds } from '../../src/cli/argParsers.ts';
import { errorText } from '../lib/errors.ts';
import { freeTcpPort, sleep } from '../lib/processes.ts';
import { parseBenchCommand } from './benchCommand.ts';
import { launchProbeBrowser, openProbeClient, type ProbeClient } from './browserProbe.ts';
import { startCoturn, type Coturn } from './coturn.ts';
import { lossFigures, type LossFigures } from './lossFigures.ts';
import { NO_LOSS, type LossPattern } from './lossModel.ts';
import { LossRelay } from './lossRelay.ts';
import { machineCpu, machineCpuShare, machineInfo } from './machine.ts';
import { round } from './numbers.ts';
import { startServer, stopServer, type ServerProcess } from './server.ts';
import { makeSpeechFile } from './speech.ts';

process.env.MCU_LOG_LEVEL ??= 'warn';

const ROOM = 'loss-bench';
/** The payload type Chromium offers Opus under, and so the one the server sends the mix with. */
const CHROMIUM_OPUS_PAYLOAD_TYPE = 111;
const CONNECT_TIMEOUT_MS = 60_000;
/** Before the first window: the mix's first seconds (slots filling, the jitter buffer settling) are not what a call sounds like. */
const WARM_UP_MS = 8000;
/**
 * The composite is a small one (nobody publishes video: it is black): the viewer and the bots
 * receive it as in a call, but its decode takes little of the two cores the figures share.
 */
const COMPOSITE_ARGS = ['--size', '640x360', '--fps', '15', '--bitrate', '300'];
const TALKERS = [
  { name: 'talker-low', f0: 120, offsetSeconds: 0 },
  { name: 'talker-high', f0: 210, offsetSeconds: 3 },
];

interface Options {
  seconds: number;
  settle: number;
  loss: number;
  burst: number;
  fec: number;
  fecOff: boolean;
  seed: number;
  out: string;
}

interface WindowPlan {
  label: string;
  pattern: LossPattern;
}

export interface WindowResult {
  mixFecLossPercent: number;
  label: string;
  pattern: LossPattern;
  windowSeconds: number;
  /** The mix's packets towards the viewer in the window, and how many the relay dropped. */
  relay: { mixPackets: number; dropped: number };
  /** The server's own figures of its mixes (GET /api/rooms/:room): packets its pacer dropped in the window, the worst jitter it measured at the window's end. */
  server: { burstDropped: number; jitterMs: number } | null;
  viewer: LossFigures | null;
  machineBusyCores: number;
  loadAverage: number[];
  error?: string;
}

function parseOptions(argv: string[]): Options | number {
  const command = new Command('bench:loss')
    .description("What Chromium conceals of the mix at a given loss, with the mix's in-band FEC and without")
    .option('--seconds <n>', 'length of each measuring window', seconds(5, 600), 20)
    .option('--settle <n>', 'seconds after a change of loss before measuring', seconds(0, 60), 3)
    .option('--loss <percent>', "share of the mix's packets the relay drops", integer(1, 50), 5)
    .option('--burst <n>', 'packets per loss event in the bursty window', integer(2, 10), 2)
    .option('--fec <percent>', "the loss the mix's FEC is sized for (the server's --mix-fec-loss)", integer(1, 100), 10)
    .option('--no-fec-off', 'skip the comparison with a mix without FEC')
    .option('--seed <n>', 'seed of the loss pattern', integer(1, 2 ** 31 - 1), 1);
  return parseBenchCommand<Options>(command, argv);
}

const roomMixSchema = z.object({ mix: z.object({ burstDropped: z.number(), jitterMs: z.number() }) });

async function roomMix(httpUrl: string): Promise<{ burstDropped: number; jitterMs: number } | null> {
  try {
    const response = await fetch(`${httpUrl}/api/rooms/${ROOM}`, { signal: AbortSignal.timeout(5000) });
    return roomMixSchema.parse(await response.json()).mix;
  } catch {
    return null;
  }
}

/** Waits until the viewer hears the mix, through the relay: anything else would not pass our loss. */
async function waitRelayedAudio(viewer: ProbeClient): Promise<void> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const { stats, errors, marks } = await viewer.summary();
    const last = stats[stats.length - 1];
    if (last && (last.in_audio?.totalSamplesReceived ?? 0) > 0 && last.localCandidateType) {
      if (last.localCandidateType !== 'relay') throw new Error(`the viewer's selected candidate is ${last.localCandidateType}, not relay`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`the viewer heard no mix through TURN within ${CONNECT_TIMEOUT_MS / 1000} s: ${JSON.stringify(marks)} ${errors.join('; ')}`);
    await sleep(250);
  }
}

interface Bench {
  o: Options;
  dir: string;
  coturn: Coturn;
  relay: LossRelay;
  speechFiles: string[];
}

/** One server (its mix's FEC sized for `fec` %, 0: none), its room, and the windows measured in it. */
async function runRoom(bench: Bench, fec: number, windows: WindowPlan[]): Promise<WindowResult[]> {
  const { o, relay } = bench;
  const results: WindowResult[] = [];
  let server: ServerProcess | undefined;
  let browser: LaunchedChromium | undefined;
  let viewer: ProbeClient | undefined;
  const bots: BotProcess[] = [];
  try {
    relay.setPattern(NO_LOSS);
    const port = await freeTcpPort();
    const turn = ['--turn-url', `turn:127.0.0.1:${relay.port}?transport=udp`, '--turn-secret', bench.coturn.secret];
    server = await startServer(port, join(bench.dir, `server-fec${fec}.log`), 4, ['--mix-fec-loss', String(fec), ...COMPOSITE_ARGS, ...turn]);
    TALKERS.forEach(({ name }, i) => {
      bots.push(new BotProcess({ url: `ws://127.0.0.1:${port}/socket`, room: ROOM, name, file: bench.speechFiles[i]!, timeout: CONNECT_TIMEOUT_MS / 1000 }));
    });
    await Promise.all(bots.map((bot) => bot.waitFor((e) => e.event === 'connected', CONNECT_TIMEOUT_MS, 'connected')));
    const httpUrl = `http://127.0.0.1:${port}`;
    browser = await launchProbeBrowser(httpUrl);
    viewer = await openProbeClient(browser, { httpUrl, room: ROOM, name: 'viewer', publish: false, boxes: [], iceTransportPolicy: 'relay' });
    await waitRelayedAudio(viewer);
    await sleep(WARM_UP_MS);
    for (const plan of windows) {
      relay.setPattern(plan.pattern);
      await sleep(o.settle * 1000);
      const serverBefore = await roomMix(httpUrl);
      const before = relay.counts();
      const cpu = machineCpu();
      const from = Date.now();
      await sleep(o.seconds * 1000);
      const to = Date.now();
      const after = relay.counts();
      const serverAfter = await roomMix(httpUrl);
      const machineBusyCores = round(machineCpuShare(cpu, machineCpu()), 2);
      const { stats } = await viewer.summary();
      const result: WindowResult = {
        mixFecLossPercent: fec,
        label: plan.label,
        pattern: plan.pattern,
        windowSeconds: round((to - from) / 1000, 1),
        relay: { mixPackets: after.lossy - before.lossy, dropped: after.dropped - before.dropped },
        server: serverBefore && serverAfter && { burstDropped: serverAfter.burstDropped - serverBefore.burstDropped, jitterMs: serverAfter.jitterMs },
        viewer: lossFigures(stats, from, to),
        machineBusyCores,
        loadAverage: loadavg().map((l) => round(l, 2)),
      };
      if (result.relay.mixPackets === 0) result.error = `the relay saw no RTP of payload type ${CHROMIUM_OPUS_PAYLOAD_TYPE}`;
      results.push(result);
      process.stdout.write(`${formatRow(result)}\n`);
    }
  } catch (error) {
    results.push({
      mixFecLossPercent: fec,
      label: 'failed',
      pattern: NO_LOSS,
      windowSeconds: 0,
      relay: { mixPackets: 0, dropped: 0 },
      server: null,
      viewer: null,
      machineBusyCores: 0,
      loadAverage: loadavg().map((l) => round(l, 2)),
      error: errorText(error),
    });
    process.stdout.write(`FEC ${fec} %: ${errorText(error)}\n`);
  } finally {
    relay.setPattern(NO_LOSS);
    await viewer?.leave();
    await browser?.close().catch(() => {});
    await Promise.all(bots.map((b) => b.stop(15_000)));
    await stopServer(server);
  }
  return results;
}

const fmt = (v: number | null | undefined, digits = 0): string => (v === null || v === undefined ? '-' : v.toFixed(digits));

/** FEC packets the browser received, and those it used (not discarded because the packet itself came). */
function fecUse(v: LossFigures): string {
  if (v.fecPacketsReceived === null) return 'not reported';
  return `${v.fecPacketsReceived}, ${v.fecPacketsDiscarded === null ? '-' : v.fecPacketsReceived - v.fecPacketsDiscarded}`;
}

export const TABLE_HEADER =
  '| mix FEC | loss (dropped by the relay) | mix kbit/s | lost at the browser | concealed % (audible) | concealment events | silent concealed samples | inserted / removed samples | jitter mean / max ms | jitter buffer (target) ms | FEC packets received, used | server: pacer drops, jitter ms | machine busy (cores of 2) |';

export function formatRow(r: WindowResult): string {
  const v = r.viewer;
  if (!v) return `| ${r.mixFecLossPercent ? `${r.mixFecLossPercent} %` : 'off'} | ${r.label} | ${r.error ?? 'no figures'} |`;
  return (
    `| ${r.mixFecLossPercent ? `${r.mixFecLossPercent} %` : 'off'} | ${r.label} (${r.relay.dropped}/${r.relay.mixPackets}) | ${fmt(v.kbps, 1)} | ${fmt(v.packetsLost)} (${fmt(v.lostPercent, 2)} %) | ` +
    `${fmt(v.concealedPercent, 2)} (${fmt(v.audibleConcealedPercent, 2)}) | ${fmt(v.concealmentEvents)} | ${fmt(v.silentConcealedSamples)} | ` +
    `${fmt(v.insertedSamplesForDeceleration)} / ${fmt(v.removedSamplesForAcceleration)} | ${fmt(v.jitterMs?.mean, 1)} / ${fmt(v.jitterMs?.max, 1)} | ` +
    `${fmt(v.jitterBufferMs)} (${fmt(v.jitterBufferTargetMs)}) | ${fecUse(v)} | ${r.server ? `${r.server.burstDropped}, ${fmt(r.server.jitterMs, 1)}` : '-'} | ${fmt(r.machineBusyCores, 2)} |`
  );
}

export async function lossConcealment(argv: string[]): Promise<number> {
  const parsed = parseOptions(argv);
  if (typeof parsed === 'number') return parsed;
  const o = parsed;
  const machine = await machineInfo();
  const started = new Date();
  const dir = await mkdtemp(join(tmpdir(), 'mcu-loss-bench-'));
  let coturn: Coturn | undefined;
  let relay: LossRelay | undefined;
  const results: WindowResult[] = [];
  try {
    const speechFiles = TALKERS.map(({ name }) => join(dir, `${name}.wav`));
    await Promise.all(TALKERS.map((t, i) => makeSpeechFile(speechFiles[i]!, t.f0, t.offsetSeconds)));
    coturn = await startCoturn(dir);
    relay = await LossRelay.start({ host: '127.0.0.1', port: coturn.port }, [CHROMIUM_OPUS_PAYLOAD_TYPE]);
    const windows: WindowPlan[] = [
      { label: 'no loss', pattern: NO_LOSS },
      { label: `${o.loss} % independent`, pattern: { percent: o.loss, burst: 1, seed: o.seed } },
      { label: `${o.loss} % in bursts of ${o.burst}`, pattern: { percent: o.loss, burst: o.burst, seed: o.seed } },
    ];
    const bench: Bench = { o, dir, coturn, relay, speechFiles };
    process.stdout.write(`loss bench: load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n${TABLE_HEADER}\n`);
    results.push(...(await runRoom(bench, o.fec, windows)));
    if (o.fecOff) results.push(...(await runRoom(bench, 0, windows)));
  } finally {
    relay?.close();
    await coturn?.stop();
    // A failed room's server and coturn logs are kept to read.
    if (results.some((r) => r.error)) process.stdout.write(`logs kept in ${dir}\n`);
    else await rm(dir, { recursive: true, force: true });
  }
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const command = ['npm run bench:loss', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  const json = `${JSON.stringify({ startedAt: started.toISOString(), command, machine, options: o, results }, null, 2)}\n`;
  await writeFile(join(out, `loss-${started.toISOString().replace(/[:.]/g, '-')}.json`), json);
  await writeFile(join(out, 'loss-latest.json'), json);
  process.stdout.write(`wrote ${join(out, 'loss-latest.json')}\n`);
  return results.some((r) => r.error) ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await lossConcealment(process.argv.slice(2));
}
