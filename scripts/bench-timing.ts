/**
 * `npm run bench:timing`: the timing budgets of issue 4 (a composite that never freezes), held
 * against the figures the end-to-end tests measure. The tests assert behaviour and wide
 * regression bounds (a busy two-core machine must not fail them); this runs them `--runs` times
 * with MCU_FIGURES_DIR set, reads what they saved (test/helpers/figures.ts), and prints each
 * figure's range against its budget, PASS or MISS.
 *   node --import tsx scripts/bench-timing.ts [--runs 3] [--files test/e2e/churn.test.ts,...]
 * Writes artifacts/bench/timing-<time>.json and timing-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { timingRows, formatTimingRows, type SavedFigures } from './bench/timing.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const DEFAULT_FILES = ['test/e2e/churn.test.ts', 'test/e2e/layout.test.ts', 'test/e2e/resilience.test.ts'];

const command = new Command('bench:timing')
  .description("Issue 4's timing budgets against the figures of the end-to-end tests, over several runs")
  .option('--runs <n>', 'how many times to run the tests', (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 20) throw new InvalidArgumentError('an integer from 1 to 20');
    return n;
  }, 3)
  .option('--files <list>', 'test files to run', (v) => v.split(','), DEFAULT_FILES);
command.parse(process.argv);
const o = command.opts<{ runs: number; files: string[] }>();

const figuresDir = mkdtempSync(join(tmpdir(), 'mcu-timing-'));
const started = new Date();
const runs: { run: number; ok: boolean; seconds: number; loadAverage: number[] }[] = [];
for (let run = 1; run <= o.runs; run++) {
  const t0 = Date.now();
  process.stdout.write(`run ${run} of ${o.runs}: ${o.files.join(' ')}\n`);
  const result = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...o.files], {
    cwd: ROOT,
    env: { ...process.env, MCU_FIGURES_DIR: figuresDir },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  runs.push({ run, ok: result.status === 0, seconds: Math.round((Date.now() - t0) / 1000), loadAverage: loadavg().map((l) => Math.round(l * 100) / 100) });
}
const saved: SavedFigures[] = readdirSync(figuresDir).map((f) => JSON.parse(readFileSync(join(figuresDir, f), 'utf8')) as SavedFigures);
rmSync(figuresDir, { recursive: true, force: true });
const rows = timingRows(saved);
const out = join(ROOT, 'artifacts', 'bench');
mkdirSync(out, { recursive: true });
const json = `${JSON.stringify({ startedAt: started.toISOString(), runs, rows, saved }, null, 2)}\n`;
writeFileSync(join(out, `timing-${started.toISOString().replace(/[:.]/g, '-')}.json`), json);
writeFileSync(join(out, 'timing-latest.json'), json);
process.stdout.write(`\n${runs.map((r) => `run ${r.run}: tests ${r.ok ? 'passed' : 'FAILED'} in ${r.seconds} s, load average after ${r.loadAverage.join(' ')}`).join('\n')}\n\n`);
process.stdout.write(`${formatTimingRows(rows)}\n\nwrote ${join(out, 'timing-latest.json')}\n`);
process.exitCode = saved.length > 0 ? 0 : 1;
