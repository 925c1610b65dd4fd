/**
 * `npm run bench`: the server against bare FFmpeg and an SFU, for N participants.
 *   node --import tsx scripts/bench.ts [--sizes 1,2,4,9,16] [--seconds 12] [--settle 5] [--keep]
 * Writes artifacts/bench/bench-<timestamp>.json, latest.json and bench.svg/.png, prints a table.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { SESSION_DEFAULTS } from '../../mixer/SessionTypes.ts';
import { descendants } from '../lib/procStats.ts';
import { errorText } from '../lib/errors.ts';
import { killLeftovers, sleep } from '../lib/processes.ts';
import { makeClips, runBare, type BareResult } from './bare.ts';
import { formatBrowserTable, runBrowserBench, type ScenarioResult } from './browser.ts';
import { calibrate, type CalibrationResult } from './calibrate.ts';
import { chartSvg, writeChart } from './chart.ts';
import { machineCpu, machineCpuShare, machineInfo } from './machine.ts';
import { round } from './numbers.ts';
import { emptyResult, runMcu, type McuResult } from './mcu.ts';
import {
  chartPanels,
  evaluateTargets,
  formatCalibration,
  formatCpuBreakdown,
  formatTable,
  formatTargets,
  runFigures,
  type BenchReport,
  type RunFigures,
} from './report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAX_PARTICIPANTS = 16;
const CALIBRATION_SECONDS = 5;
const BARE_SETTLE_MS = 3000;

interface Options {
  quietWait: number;
  windows: number;
  botNice: number;
  sizes: number[];
  seconds: number;
  settle: number;
  out: string;
  keep: boolean;
  bare: boolean;
  calibration: boolean;
  browser: boolean;
}

function parseSizes(value: string): number[] {
  const sizes = value.split(',').map((s) => Number(s.trim()));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1 || n > MAX_PARTICIPANTS)) {
    throw new InvalidArgumentError(`a comma-separated list of participant counts from 1 to ${MAX_PARTICIPANTS}, e.g. 1,2,4,9,16`);
  }
  return [...new Set(sizes)].sort((a, b) => a - b);
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
    .description('Measure the MCU server against bare FFmpeg and an SFU for N participants (bots in their own processes)')
    .option('--sizes <list>', 'participant counts to measure', parseSizes, [1, 2, 4, 9, 16])
    .option('--seconds <n>', 'length of the steady measuring window', parseSeconds, 12)
    .option('--settle <n>', 'seconds to wait after the last join before measuring', parseSeconds, 5)
    .option('--out <dir>', 'where the JSON and the chart go', join(ROOT, 'artifacts', 'bench'))
    .option('--quiet-wait <n>', 'before each N, wait up to this long for other work on the machine to stop', parseWait, 10)
    .option('--windows <n>', 'windows to measure at most when other work disturbs one (the cleanest is kept)', parseCount(1, 5), 2)
    .option('--bot-nice <n>', 'nice value of every bot but bot 0 (0 = none): the bots stand in for remote clients', parseCount(0, 19), 10)
    .option('--keep', 'keep the working directory (recordings, frame logs, server logs)', false)
    .option('--no-bare', 'skip the bare FFmpeg reference')
    .option('--no-calibration', 'skip the latency calibration')
    .option('--no-browser', 'skip the Chromium rooms (what a person gets: scripts/bench/browser.ts)')
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
  const lat = m.latency?.allFrames;
  const head = m.ok ? '' : m.server.cpu !== null ? `INCOMPLETE (${m.alive} of ${r.participants} bots) ` : `FAILED (${m.error}) `;
  return (
    `  ${head}server ${m.server.cpu?.toFixed(2) ?? '-'} cores, bare FFmpeg ${r.bare?.cpu?.toFixed(2) ?? '-'}` +
    `${r.bare && !r.bare.ok ? ` (failed: ${r.bare.error})` : ''}, composite ${m.composite.fpsMedian ?? '-'} fps, ` +
    `latency p50 ${lat?.p50 ?? '-'} ms, downlink ${m.downlink.totalKbps ?? '-'} kbit/s` +
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
  const machine = await machineInfo();
  say(
    `mcu bench: N = ${options.sizes.join(', ')}; ${options.seconds} s windows after ${options.settle} s settling; ` +
      `bots other than bot 0 at nice ${options.botNice}`,
  );
  say(`machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.memoryMiB} MiB, Node ${machine.node}, ${machine.ffmpeg}`);
  say(`load average at start: ${machine.loadAverageAtStart.join(' ')}${machine.loadAverageAtStart[0]! > machine.nproc / 2 ? ' (the machine is busy: figures will show it)' : ''}`);

  const notes: string[] = [
    'CPU is a share of one core (1.0 = one core busy), measured from /proc over the window: the server is the node process and every FFmpeg child; the bare FFmpeg reference is one FFmpeg process (video only: no audio, no WebRTC).',
    'Downlink and uplink are RTP payload bytes counted by the bots (stats lines), over the window; the SFU figure is the sum of the other participants\' measured uplink.',
    'Latency is arrival at bot 0 (first RTP packet of the frame, werift) minus the wall-clock time drawn into the picture by the publishing bot\'s FFmpeg; "all frames" counts every tile of every frame, "first seen" each drawn frame once.',
    'The bots run on the same machine as the server: their CPU is not counted as the server\'s, but they compete with it for the cores ("other load" is CPU used by neither the server nor the bots). Every bot but bot 0 runs at the nice value in options.botNice, so that the server gets the CPU it asks for, as it would with remote clients.',
    'Each bot\'s picture is a solid colour with the timecode strip: VP8 compresses it far below the 800 kbit/s cap, so the measured uplink (and the SFU figure built from it) is much lower than a camera\'s; nominalSfuDownlinkKbps assumes 800 + 32 kbit/s per publisher.',
  ];
  let calibration: CalibrationResult | null = null;
  const runs: RunFigures[] = [];
  try {
    let clips: string[] = [];
    if (options.bare) {
      say('encoding the bare FFmpeg reference clips...');
      try {
        clips = await makeClips(join(work, 'clips'), Math.max(...options.sizes), {
          source: SESSION_DEFAULTS.tileSource,
          fps: SESSION_DEFAULTS.fps,
          bitrateKbps: 800,
        });
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
      say(`N=${n}: server and ${n} bot${n > 1 ? 's' : ''}...`);
      const busyBefore = await waitForQuiet(options.quietWait * 1000);
      let mcu: McuResult;
      try {
        mcu = await runMcu({
          participants: n,
          settleMs: options.settle * 1000,
          windowMs: options.seconds * 1000,
          joinTimeoutMs: 30_000,
          joinBudgetMs: Math.max(60_000, 8000 * n),
          windows: options.windows,
          botNice: options.botNice,
          dir: join(work, `n${n}`),
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
      windows: options.windows,
      botNice: options.botNice,
      quietWaitSeconds: options.quietWait,
    },
    machine,
    calibration,
    runs,
    browser,
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
    (incomplete.length ? `; hollow dots: incomplete runs (N=${incomplete.join(', ')}: not every bot stayed connected)` : '');
  const png = await writeChart(
    join(options.out, 'bench.svg'),
    join(options.out, 'bench.png'),
    chartSvg('mcu bench: server vs bare FFmpeg, MCU vs SFU', subtitle, runs.map((r) => r.participants), chartPanels(runs)),
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
  say('targets:');
  say(formatTargets(targets));
  say('');
  const rel = (p: string): string => relative(process.cwd(), p) || p;
  say(`wrote ${rel(jsonPath)}, ${rel(join(options.out, 'latest.json'))}, ${rel(join(options.out, 'bench.svg'))}${png ? `, ${rel(png)}` : ''}`);
  if (options.keep) say(`kept the recordings and logs in ${work}`);
  // Misses and incomplete runs are results, in the report; only a bench that measured nothing fails.
  return runs.some((r) => r.mcu.server.cpu !== null) ? 0 : 1;
}
