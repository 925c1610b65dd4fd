/**
 * `npm run bench`: the server against bare FFmpeg and an SFU, for N participants (one real bot,
 * the others from the load generator, `mcu loadtest`).
 *   node --import tsx scripts/bench.ts [--sizes 1,4,9,16,25] [--seconds 12] [--settle 5] [--keep] [--no-ladder]
 * Writes artifacts/bench/bench-<timestamp>.json, latest.json and bench.svg/.png, prints a table.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { descendants } from '../lib/procStats.ts';
import { errorText } from '../lib/errors.ts';
import { killLeftovers, sleep } from '../lib/processes.ts';
import { defaultClipCache, prepareClips } from '../../src/loadtest/clipCache.ts';
import { publisherClips } from '../../src/loadtest/LoadTest.ts';
import { runBare, type BareResult } from './bare.ts';
import { formatBrowserTable, runBrowserBench, type ScenarioResult } from './browser.ts';
import { calibrate, type CalibrationResult } from './calibrate.ts';
import { LADDER_DEFAULTS, runLadderBench } from './ladder.ts';
import { formatLadderTable, type LadderReport } from './ladderFigures.ts';
import { chartSvg, writeChart } from './chart.ts';
import { machineCpu, machineCpuShare, machineInfo } from './machine.ts';
import { round } from './numbers.ts';
import { CLIP_SECONDS, emptyResult, MAX_PARTICIPANTS, PUBLISHED, runMcu, type McuResult } from './mcu.ts';
import {
  chartPanels,
  evaluateTargets,
  formatCalibration,
  formatCpuBreakdown,
  formatTable,
  formatTargets,
  largestHeldN,
  runFigures,
  type BenchReport,
  type RunFigures,
} from './report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CALIBRATION_SECONDS = 5;
const BARE_SETTLE_MS = 3000;

interface Options {
  quietWait: number;
  loadNice: number;
  size: { width: number; height: number };
  bitrate: number;
  sizes: number[];
  seconds: number;
  settle: number;
  out: string;
  keep: boolean;
  bare: boolean;
  calibration: boolean;
  browser: boolean;
  ladder: boolean;
  speakers?: number;
  decodeSilence: boolean;
}

function parseSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_PARTICIPANTS)) {
    throw new InvalidArgumentError(`a comma-separated list of participant counts from 1 to ${MAX_PARTICIPANTS}, e.g. 1,4,9,16,25`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
}

function parseSize(value: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/.exec(value);
  const width = Number(m?.[1]);
  const height = Number(m?.[2]);
  if (!m || width < 160 || height < 90 || width > 1920 || height > 1080 || width % 2 || height % 2) throw new InvalidArgumentError('WxH, even, from 160x90 to 1920x1080');
  return { width, height };
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 2 || n > 120) throw new InvalidArgumentError('a number of seconds from 2 to 120');
  return n;
}

function parseCount(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`an integer from ${min} to ${max}`);
    return n;
  };
}

function parseWait(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 600) throw new InvalidArgumentError('a number of seconds from 0 to 600');
  return n;
}

/** Machine CPU (cores) busy with something else than this bench: at most this much counts as quiet. */
const QUIET_CORES = 0.3;

/**
 * The figures are only as good as the machine is idle: before each N, wait (bounded) until what
 * runs besides the bench uses less than QUIET_CORES. Returns the last level seen.
 */
async function waitForQuiet(maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let told = false;
  for (;;) {
    const before = machineCpu();
    await sleep(2000);
    const busy = machineCpuShare(before, machineCpu());
    if (busy <= QUIET_CORES || Date.now() >= deadline) {
      if (told) say(`  ${busy <= QUIET_CORES ? 'quiet now' : 'still busy, going on'} (${busy.toFixed(2)} cores)`);
      return round(busy, 2);
    }
    if (!told) say(`  other work is using ${busy.toFixed(2)} cores: waiting up to ${Math.round(maxMs / 1000)} s for it to stop`);
    told = true;
  }
}

function parseOptions(argv: string[]): Options {
  const command = new Command('bench')
    .description('Measure the MCU server against bare FFmpeg and an SFU for N participants (one bot, the others from the load generator)')
    .option('--sizes <list>', 'participant counts to measure', parseSizes, [1, 4, 9, 16, 25])
    .option('--seconds <n>', 'length of the steady measuring window', parseSeconds, 12)
    .option('--settle <n>', 'seconds to wait after the last join before measuring', parseSeconds, 5)
    .option('--out <dir>', 'where the JSON and the chart go', join(ROOT, 'artifacts', 'bench'))
    .option('--quiet-wait <n>', 'before each N, wait up to this long for other work on the machine to stop', parseWait, 10)
    // 0: a client on another machine has its own CPU. At nice 10 (the default until 2026-12-07)
    // the load generator's socket thread was starved behind the server's raised media path, its
    // sockets overflowed and 10 of 15 publishers failed their ICE consent at N=16, the machine
    // 1.5 of 2 cores busy.
    .option('--load-nice <n>', 'nice value of the load generator (0 = none): it stands in for remote clients', parseCount(0, 19), 0)
    .option('--size <WxH>', "every publisher's picture (640x360: a camera's)", parseSize, { width: PUBLISHED.width, height: PUBLISHED.height })
    .option('--bitrate <kbps>', "every publisher's video bitrate (the clips are textured so that it is really sent)", parseCount(50, 5000), PUBLISHED.bitrateKbps)
    .option('--speakers <n>', 'participants that talk (bot 0 and the first publishers of the load generator; the others send silence, as most of a real room does) (default: all)', parseCount(1, MAX_PARTICIPANTS))
    .option('--decode-silence', "the server decodes every publisher's audio, silence too (`mcu serve --decode-silence`: the figure before the silence gate)", false)
    .option('--keep', 'keep the working directory (recordings, frame logs, server logs)', false)
    .option('--no-bare', 'skip the bare FFmpeg reference')
    .option('--no-calibration', 'skip the latency calibration')
    .option('--no-browser', 'skip the Chromium rooms (what a person gets: scripts/bench/browser.ts)')
    .option('--no-ladder', "skip the ladder's CPU cost against a single encode (scripts/bench/ladder.ts)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  command.parse(argv, { from: 'user' });
  const raw = command.opts<Options>();
  return { ...raw, out: resolve(raw.out) };
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** Ctrl-C: everything this process started gets SIGINT, then SIGKILL; then exit. */
function stopChildrenOnSignal(): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping every process the bench started...`);
    const family = descendants(process.pid);
    for (const pid of family) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // gone
      }
    }
    void sleep(10_000).then(() => {
      killLeftovers(descendants(process.pid).concat(family));
      process.exit(130);
    });
    const poll = setInterval(() => {
      if (descendants(process.pid).length === 0) {
        clearInterval(poll);
        process.exit(130);
      }
    }, 200);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function failedMcu(participants: number, error: unknown): McuResult {
  return { ...emptyResult(participants), error: errorText(error) };
}

function oneLine(r: RunFigures): string {
  const m = r.mcu;
  const lat = m.latency;
  const head = m.ok ? '' : m.server.cpu !== null ? `INCOMPLETE (${m.alive} of ${r.participants} participants) ` : `FAILED (${m.error}) `;
  return (
    `  ${head}server ${m.server.cpu?.toFixed(2) ?? '-'} cores, bare FFmpeg ${r.bare?.cpu?.toFixed(2) ?? '-'}` +
    `${r.bare && !r.bare.ok ? ` (failed: ${r.bare.error})` : ''}, load generator ${m.load.cpu?.toFixed(2) ?? '-'}, ` +
    `composite ${m.composite.fpsMedian ?? '-'} fps (lowest receiver ${m.composite.fpsMin ?? '-'}), ` +
    `latency p50 ${lat?.p50 ?? '-'} ms, downlink ${m.downlink.totalKbps ?? '-'} kbit/s; load average ${loadavg()[0]!.toFixed(2)}` +
    `${m.latencyError ? `; recording not read: ${m.latencyError}` : ''}` +
    m.problems.map((p) => `\n    ${p}`).join('')
  );
}

export async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code ?? 1;
  }
  stopChildrenOnSignal();
  const started = new Date();
  const work = await mkdtemp(join(tmpdir(), 'mcu-bench-'));
  const published = { ...PUBLISHED, ...options.size, bitrateKbps: options.bitrate };
  const machine = await machineInfo();
  say(
    `mcu bench: N = ${options.sizes.join(', ')}; ${options.seconds} s windows after ${options.settle} s settling; ` +
      `bot 0 and the load generator (N-1 participants, nice ${options.loadNice}); publishers send ${published.width}x${published.height} at ${published.fps} fps, ${published.bitrateKbps} kbit/s`,
  );
  say(`machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryMiB} MiB, Node ${machine.node}, ${machine.ffmpeg}`);
  say(`load average at start: ${machine.loadAverageAtStart.join(' ')}${machine.loadAverageAtStart[0]! > machine.nproc / 2 ? ' (the machine is busy: figures will show it)' : ''}`);

  const notes: string[] = [
    'CPU is a share of one core (1.0 = one core busy), measured from /proc over the window: the server is the node process and every FFmpeg child; the bare FFmpeg reference is one FFmpeg process decoding the same clips the load generator publishes (video only: no audio, no WebRTC).',
    'Participants: bot 0 (a real bot: live VP8 encoder, wall-clock timecode, records its composite) and the load generator (`mcu loadtest`, one process, N-1 publishers sending pre-encoded VP8 clips (options.published; textured so that the bitrate is used) and Opus tones), both on this machine: their CPU is not the server\'s, but they compete with it for the cores ("other load" is CPU used by neither the server nor the participants).',
    'fps and gaps are counted at every receiver (bot 0 and each of the load generator\'s clients) over the window; "worst 1 s" is the fewest frames any receiver got in one whole second.',
    'Latency is glass to glass at the load generator\'s reader: arrival of a frame\'s first packet minus the moment the frame was due to be sent (its clip time drawn in the picture plus its loop\'s start), over every tile; bot 0\'s is its own tile in its own recording (a live encoder in the path).',
    'Downlink and uplink are RTP payload bytes over the window; the SFU figure is N-1 times one publisher\'s measured uplink.',
  ];
  let calibration: CalibrationResult | null = null;
  const runs: RunFigures[] = [];
  try {
    let clips: string[] = [];
    if (options.bare) {
      say('preparing the clips (the load generator\'s: the bare FFmpeg reference decodes the same)...');
      try {
        const specs = publisherClips({ publishers: Math.max(...options.sizes), colourOffset: 0, speakers: MAX_PARTICIPANTS, codec: 'vp8', video: published, clipSeconds: CLIP_SECONDS });
        clips = (await prepareClips(specs, defaultClipCache())).map((c) => c.files.video);
      } catch (error) {
        say(`  could not make the clips: ${errorText(error)}`);
      }
    }
    if (options.calibration) {
      say('calibrating the latency measurement (bot source recorded directly, no server)...');
      calibration = await calibrate(work, CALIBRATION_SECONDS);
      say(`  ${formatCalibration(calibration)}`);
    }
    for (const n of options.sizes) {
      say(`N=${n}: server, bot 0${n > 1 ? ` and the load generator with ${n - 1}` : ''}...`);
      const busyBefore = await waitForQuiet(options.quietWait * 1000);
      let mcu: McuResult;
      try {
        mcu = await runMcu({
          participants: n,
          settleMs: options.settle * 1000,
          windowMs: options.seconds * 1000,
          joinTimeoutMs: 30_000,
          loadNice: options.loadNice,
          dir: join(work, `n${n}`),
          cacheDir: defaultClipCache(),
          published,
          ...(options.speakers !== undefined ? { speakers: options.speakers } : {}),
          serverArgs: options.decodeSilence ? ['--decode-silence'] : [],
        });
      } catch (error) {
        mcu = failedMcu(n, error);
      }
      let bare: BareResult | null = null;
      if (clips.length >= n) {
        await waitForQuiet(options.quietWait * 1000);
        bare = await runBare(clips.slice(0, n), { settleMs: BARE_SETTLE_MS, windowMs: options.seconds * 1000 }).catch(
          (error: unknown): BareResult => ({ ok: false, error: errorText(error), participants: n, cpu: null, rssMiB: null, fps: null }),
        );
      }
      const figures = runFigures(n, mcu, bare, busyBefore);
      runs.push(figures);
      say(oneLine(figures));
    }
  } finally {
    if (!options.keep) await rm(work, { recursive: true, force: true });
  }

  let browser: ScenarioResult[] = [];
  if (options.browser) {
    say('Chromium rooms: 1 Chromium publisher + 1 Chromium viewer + 2 bots, then 3 Chromium publishers...');
    await waitForQuiet(options.quietWait * 1000);
    browser = (await runBrowserBench([{ scenario: 'room', seconds: 20 }, { scenario: 'saturated', seconds: 60 }], options.settle)).results;
  }

  let ladder: LadderReport | null = null;
  if (options.ladder) {
    say(`Ladder: the compositor with ${LADDER_DEFAULTS.tiles} tiles, a single encode against the ladder's, ${LADDER_DEFAULTS.rounds} rounds...`);
    await waitForQuiet(options.quietWait * 1000);
    ladder = await runLadderBench(LADDER_DEFAULTS, say);
  }

  const finished = new Date();
  const targets = evaluateTargets(runs);
  const report: BenchReport = {
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: Math.round((finished.getTime() - started.getTime()) / 1000),
    command: `node --import tsx scripts/bench.ts ${argv.join(' ')}`.trim(),
    options: {
      sizes: options.sizes,
      seconds: options.seconds,
      settleSeconds: options.settle,
      loadNice: options.loadNice,
      speakers: options.speakers ?? 'all',
      decodeSilence: options.decodeSilence,
      published,
      quietWaitSeconds: options.quietWait,
    },
    machine,
    calibration,
    largestHeldN: largestHeldN(runs),
    runs,
    browser,
    ladder,
    targets,
    notes,
  };
  await mkdir(options.out, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const jsonPath = join(options.out, `bench-${stamp}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  await writeFile(jsonPath, json);
  await writeFile(join(options.out, 'latest.json'), json);
  const incomplete = runs.filter((r) => !r.mcu.ok).map((r) => r.participants);
  const subtitle =
    `${machine.nproc} × ${machine.cpuModel}; ${machine.ffmpeg.split(' Copyright')[0]}; Node ${machine.node}; ${started.toISOString()}` +
    (incomplete.length ? `; hollow dots: incomplete runs (N=${incomplete.join(', ')}: not every participant stayed connected)` : '');
  const png = await writeChart(
    join(options.out, 'bench.svg'),
    join(options.out, 'bench.png'),
    chartSvg('mcu bench: server vs bare FFmpeg, where its CPU goes, MCU vs SFU', subtitle, runs.map((r) => r.participants), chartPanels(runs)),
  );

  say('');
  say(formatTable(runs));
  say('');
  say('where the server CPU went (share of one core; processes in brackets):');
  say(formatCpuBreakdown(runs));
  say('');
  say(formatCalibration(calibration));
  say('');
  if (browser.length) {
    say('what a person in Chromium gets (probe pages speaking the protocol; figures from getStats and the picture):');
    say(formatBrowserTable(browser));
    say('');
  }
  if (ladder) {
    say("the ladder's cost (the compositor's FFmpeg, cores; medians of the runs):");
    say(formatLadderTable(ladder.summary));
    say('');
  }
  say('targets:');
  say(formatTargets(targets));
  say(`largest N at which every participant stayed connected and every receiver got >= 29 fps: ${report.largestHeldN ?? 'none'}`);
  say('');
  const rel = (p: string): string => relative(process.cwd(), p) || p;
  say(`wrote ${rel(jsonPath)}, ${rel(join(options.out, 'latest.json'))}, ${rel(join(options.out, 'bench.svg'))}${png ? `, ${rel(png)}` : ''}`);
  if (options.keep) say(`kept the recordings and logs in ${work}`);
  // Misses and incomplete runs are results, in the report; only a bench that measured nothing fails.
  return runs.some((r) => r.mcu.server.cpu !== null) ? 0 : 1;
}
