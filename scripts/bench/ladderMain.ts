/**
 * `npm run bench:ladder`: the ladder's CPU cost against a single encode (scripts/bench/ladder.ts).
 * Writes artifacts/bench/ladder-<timestamp>.json and ladder-latest.json, prints a table.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { Command } from 'commander';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { integer, seconds } from '../../src/cli/argParsers.ts';
import { parseBenchCommand } from './benchCommand.ts';
import { LADDER_DEFAULTS, runLadderBench } from './ladder.ts';
import { formatLadderTable } from './ladderFigures.ts';
import { machineInfo } from './machine.ts';

const say = (line: string): void => void process.stdout.write(`${line}\n`);

interface Options {
  tiles: number;
  rounds: number;
  seconds: number;
  settle: number;
  out: string;
}

export async function ladderMain(argv: string[]): Promise<number> {
  const command = new Command('bench:ladder')
    .description("The ladder's CPU cost: the compositor with a single encode, with the default ladder, and with the top and 360p rungs")
    .option('--tiles <n>', 'tiles composed (a grid)', integer(1, 25), LADDER_DEFAULTS.tiles)
    .option('--rounds <n>', 'times each configuration runs (in turns)', integer(1, 10), LADDER_DEFAULTS.rounds)
    .option('--seconds <n>', 'measuring window of each run', seconds(2, 120), LADDER_DEFAULTS.windowMs / 1000)
    .option('--settle <n>', 'seconds each compositor runs before its window', seconds(1, 30), LADDER_DEFAULTS.settleMs / 1000);
  const o = parseBenchCommand<Options>(command, argv);
  if (typeof o === 'number') return o;
  // Ctrl-C: the compositor is stopped gracefully before the exit.
  process.once('SIGINT', () => void FfmpegProcess.stopAll().then(() => process.exit(130)));
  const machine = await machineInfo();
  say(`mcu bench:ladder: ${o.tiles} tiles, ${o.rounds} rounds of ${o.seconds} s windows after ${o.settle} s`);
  say(`machine: ${machine.nproc} × ${machine.cpuModel}, ${machine.ffmpeg}; load average at start ${machine.loadAverageAtStart.join(' ')}`);
  const report = await runLadderBench({ tiles: o.tiles, rounds: o.rounds, windowMs: o.seconds * 1000, settleMs: o.settle * 1000 }, say);
  say('');
  say(formatLadderTable(report.summary));
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const json = `${JSON.stringify({ ...report, command: `node --import tsx scripts/bench-ladder.ts ${argv.join(' ')}`.trim(), machine }, null, 2)}\n`;
  const path = join(out, `ladder-${report.at.replace(/[:.]/g, '-')}.json`);
  await writeFile(path, json);
  await writeFile(join(out, 'ladder-latest.json'), json);
  say(`\nwrote ${relative(process.cwd(), path)} and ladder-latest.json`);
  return report.summary.every((s) => s.runs > 0) ? 0 : 1;
}
