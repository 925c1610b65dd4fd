/**
 * `npm run bench:ladder-browser`: what a Chromium viewer on a weak link gets from the ladder
 * (README: The ladder). Two Chromium viewers in network namespaces watch a room of two bots; one
 * viewer's downlink is a token bucket that goes 300 kbit/s → 800 kbit/s → 3 Mbit/s → 300 kbit/s →
 * 3 Mbit/s, the other is never shaped. Prints and saves, per second, each viewer's rung (the
 * height it decodes), what it receives and shows, and the figures against the issue's targets;
 * draws the weak viewer's rung and received bitrate over time (artifacts/bench/ladder-browser.svg).
 *   node --import tsx scripts/bench/ladderBrowser.ts [--phase-seconds 25] [--out artifacts/bench]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { LadderRoom } from '../../test/helpers/ladderRoom.ts';
import { sleep } from '../lib/processes.ts';
import { browserFigures, type ProbeSummary } from './browserFigures.ts';
import { ladderChartSvg, ladderPhases, ladderTargets, ladderTimeline, type LadderPhase, type LadderTarget, type PhaseFigures } from './ladderBrowserFigures.ts';
import { machineCpu, machineCpuShare, machineInfo } from './machine.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROOM = 'ladder-bench';

interface Options {
  phaseSeconds: number;
  out: string;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 5 || n > 300) throw new InvalidArgumentError('must be a number of seconds from 5 to 300');
  return n;
}

async function main(o: Options): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mcu-ladder-bench-'));
  const phases: LadderPhase[] = [
    { name: 'unshaped', kbps: undefined, seconds: 10 },
    { name: '300 kbit/s', kbps: 300, seconds: o.phaseSeconds },
    { name: '800 kbit/s', kbps: 800, seconds: o.phaseSeconds },
    { name: '3 Mbit/s', kbps: 3000, seconds: o.phaseSeconds },
    { name: '300 kbit/s again', kbps: 300, seconds: o.phaseSeconds },
    { name: '3 Mbit/s from 300', kbps: 3000, seconds: o.phaseSeconds },
  ];
  let room: LadderRoom | undefined;
  try {
    room = await LadderRoom.start({ tag: 'ldrb', dir, room: ROOM, viewers: [{ name: 'weak' }, { name: 'strong' }] });
    const started: { phase: LadderPhase; at: number }[] = [];
    const cpuBefore = machineCpu();
    for (const phase of phases) {
      room.shape(0, phase.kbps);
      started.push({ phase, at: Date.now() });
      console.log(`${new Date().toISOString()} weak viewer's downlink: ${phase.name}`);
      await sleep(phase.seconds * 1000);
    }
    const end = Date.now();
    const busy = machineCpuShare(cpuBefore, machineCpu());
    const [weak, strong] = (await Promise.all(room.viewers.map((v) => v.probe.summary()))) as [ProbeSummary, ProbeSummary];
    const weakPhases = ladderPhases(weak, started, end);
    const strongWhole = browserFigures(strong, started[0]!.at, end);
    const timeline = ladderTimeline(weak, started[0]!.at, end);
    const strongHeights = new Set(ladderTimeline(strong, started[0]!.at, end).map((s) => s.height).filter((h) => h > 0));
    const targets = ladderTargets(weakPhases, [...strongHeights]);
    const report = {
      date: new Date().toISOString(),
      machine: machineInfo(),
      machineBusyCores: busy,
      loadAverage: loadavg(),
      phases: weakPhases,
      targets,
      strong: { heights: [...strongHeights], fps: strongWhole.fps, longestGapMs: strongWhole.longestGapMs, glassToGlassMs: strongWhole.glassToGlassMs },
      timeline,
      rungMessages: weak.rungs ?? [],
      errors: [...weak.errors, ...strong.errors],
    };
    printReport(weakPhases, report.strong, busy, targets);
    const out = resolve(ROOT, o.out);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, `ladder-browser-${report.date.replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2));
    await writeFile(join(out, 'ladder-browser-latest.json'), JSON.stringify(report, null, 2));
    await writeFile(join(out, 'ladder-browser.svg'), ladderChartSvg(timeline, started.map((s) => ({ name: s.phase.name, at: (s.at - started[0]!.at) / 1000 }))));
    await writeFile(join(out, 'ladder-browser-server.log'), `${room.server?.logLines.join('\n') ?? ''}\n`);
    console.log(`saved ${join(o.out, 'ladder-browser-latest.json')}, ladder-browser.svg and the server's log`);
  } finally {
    await room?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function printReport(phases: PhaseFigures[], strong: { heights: number[]; fps: number | null; longestGapMs: number | null }, busy: number | null, targets: LadderTarget[]): void {
  console.log('\nweak viewer, per phase of its downlink:');
  console.log('phase        settled rung (height)  after      fps   longest gap  g2g p50/p95   received');
  for (const p of phases) {
    console.log(
      `${p.name.padEnd(12)} ${String(p.settledHeight ?? '-').padStart(6)}p              ${p.settledAfterS === null ? '   -  ' : `${p.settledAfterS.toFixed(1)} s`.padStart(6)}  ${String(p.fps ?? '-').padStart(5)}  ${String(p.longestGapMs ?? '-').padStart(6)} ms    ${p.glassToGlass ? `${p.glassToGlass.p50}/${p.glassToGlass.p95} ms` : '-'.padEnd(9)}   ${p.receivedKbps ?? '-'} kbit/s`,
    );
  }
  console.log(`strong viewer (never shaped): heights seen ${strong.heights.join(', ')}, ${strong.fps} fps, longest gap ${strong.longestGapMs} ms`);
  console.log('\ntargets:');
  for (const t of targets) console.log(`  ${t.pass ? 'PASS' : 'MISS'}  ${t.target}: ${t.value}`);
  console.log(`machine: ${busy === null ? '?' : busy.toFixed(2)} cores busy of 2, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
}

const program = new Command()
  .name('bench:ladder-browser')
  .description("a Chromium viewer's rung as its shaped downlink falls and recovers, beside an unshaped viewer")
  .option('--phase-seconds <s>', 'how long each shaped phase lasts', positive, 25)
  .option('--out <dir>', 'where the figures are saved', 'artifacts/bench')
  .action(async (o: Options) => main(o));

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
