import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { formatBrowserTable, runBrowserBench, type ScenarioName } from './browser.ts';
import { parseBenchCommand } from './benchCommand.ts';
import { machineInfo } from './machine.ts';

const SCENARIOS: ScenarioName[] = ['room', 'saturated'];

function parseScenarios(value: string): ScenarioName[] {
  const list = value.split(',').map((s) => s.trim());
  if (list.length === 0 || list.some((s) => !SCENARIOS.includes(s as ScenarioName))) {
    throw new InvalidArgumentError(`a comma-separated list of ${SCENARIOS.join(', ')}`);
  }
  return list as ScenarioName[];
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 2 || n > 600) throw new InvalidArgumentError('a number of seconds from 2 to 600');
  return n;
}

interface Options {
  scenarios: ScenarioName[];
  seconds: number;
  saturatedSeconds: number;
  settle: number;
  out: string;
  keep: boolean;
}

export async function browserMain(argv: string[]): Promise<number> {
  const command = new Command('bench:browser')
    .description('What a person in Chromium gets: glass-to-glass, A/V offset, jitter buffers, join time, frame rate')
    .option('--scenarios <list>', `rooms to measure (${SCENARIOS.join(', ')})`, parseScenarios, SCENARIOS)
    .option('--seconds <n>', 'measuring window of the room scenario', parseSeconds, 20)
    .option('--saturated-seconds <n>', 'measuring window of the saturated scenario (latency growth)', parseSeconds, 60)
    .option('--settle <n>', 'seconds after the last join before measuring', parseSeconds, 5)
    .option('--keep', 'keep the server logs', false);
  const o = parseBenchCommand<Options>(command, argv);
  if (typeof o === 'number') return o;
  const machine = await machineInfo();
  const started = new Date();
  process.stdout.write(`browser bench: ${o.scenarios.join(', ')}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const { results, dir } = await runBrowserBench(
    o.scenarios.map((scenario) => ({ scenario, seconds: scenario === 'saturated' ? o.saturatedSeconds : o.seconds })),
    o.settle,
    o.keep,
  );
  const out = resolve(o.out);
  await mkdir(out, { recursive: true });
  const json = `${JSON.stringify({ startedAt: started.toISOString(), command: `npm run bench:browser -- ${argv.join(' ')}`.trim(), machine, results }, null, 2)}\n`;
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  await writeFile(join(out, `browser-${stamp}.json`), json);
  await writeFile(join(out, 'browser-latest.json'), json);
  process.stdout.write(`\n${formatBrowserTable(results)}\n\nwrote ${join(out, 'browser-latest.json')}${o.keep ? `; logs in ${dir}` : ''}\n`);
  for (const r of results) if (r.error) process.stdout.write(`${r.scenario}: ${r.error}\n`);
  return results.some((r) => r.clients.length > 0) ? 0 : 1;
}
