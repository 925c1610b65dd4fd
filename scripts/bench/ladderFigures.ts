/**
 * The ladder bench's pure parts (scripts/bench/ladder.ts measures): which encodes each
 * configuration runs, the order of the runs, their medians, the ratio to a single encode, and
 * the table.
 */
import { DEFAULT_LADDER, type Ladder } from '../../mixer/logic/ladder.ts';
import { round } from './numbers.ts';

export interface LadderConfig {
  name: string;
  /** Best first; the first is the composite itself (the canvas), the others are scaled from it. */
  rungs: Ladder;
}

const [TOP, MIDDLE] = DEFAULT_LADDER;

/** The first is the reference every other is divided by. */
export const LADDER_CONFIGS: readonly LadderConfig[] = [
  { name: 'single encode', rungs: [TOP!] },
  { name: 'default ladder', rungs: DEFAULT_LADDER },
  { name: 'top + 360p', rungs: [TOP!, MIDDLE!] },
];

export const rungsText = (rungs: Ladder): string => rungs.map((r) => `${r.width}x${r.height}@${r.kbps}`).join(' + ');

/**
 * Every configuration once per round, the order reversed every other round: a machine whose
 * load drifts during the bench then weighs on every configuration alike.
 */
export function runOrder(configs: number, rounds: number): { config: number; round: number }[] {
  const order: { config: number; round: number }[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < configs; i++) order.push({ config: round % 2 ? configs - 1 - i : i, round });
  }
  return order;
}

/** One configuration measured once. */
export interface LadderRun {
  config: string;
  round: number;
  ok: boolean;
  error?: string;
  /** Cores the compositor's FFmpeg used over the window. */
  cores: number | null;
  /** Frames written to the compositor per second (30: it took every frame). */
  fpsIn: number | null;
  ticksSkipped: number;
  /** What each rung's RTP output carried over the window, best first. */
  outputs: { rung: string; kbps: number; fps: number }[];
  /** The whole machine, this bench's own Node process (it feeds the frames), and the rest. */
  machineCores: number | null;
  benchCores: number | null;
  otherCores: number | null;
  load1: number;
}

export interface LadderSummary {
  config: string;
  rungs: string;
  runs: number;
  /** Median over the runs that succeeded. */
  cores: number | null;
  coresPerRun: number[];
  /** cores ÷ the single encode's cores. */
  ratio: number | null;
  /** cores − the single encode's cores. */
  extraCores: number | null;
  fpsIn: number | null;
  /** Per rung, best first: medians over the runs. */
  kbps: (number | null)[];
  fpsOut: (number | null)[];
  machineCores: number | null;
  otherCores: number | null;
  load1: number | null;
}

/** Median; the mean of the two middle values for an even count. */
export function middle(values: readonly (number | null)[]): number | null {
  const sorted = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[half]! : (sorted[half - 1]! + sorted[half]!) / 2;
}

const r = (v: number | null, digits: number): number | null => (v === null ? null : round(v, digits));

export function summariseLadder(configs: readonly LadderConfig[], runs: readonly LadderRun[]): LadderSummary[] {
  const base = configs.map((config) => {
    const ok = runs.filter((run) => run.config === config.name && run.ok);
    return {
      config: config.name,
      rungs: rungsText(config.rungs),
      runs: ok.length,
      cores: r(middle(ok.map((run) => run.cores)), 3),
      coresPerRun: ok.flatMap((run) => (run.cores === null ? [] : [run.cores])),
      fpsIn: r(middle(ok.map((run) => run.fpsIn)), 1),
      kbps: config.rungs.map((_, i) => r(middle(ok.map((run) => run.outputs[i]?.kbps ?? null)), 0)),
      fpsOut: config.rungs.map((_, i) => r(middle(ok.map((run) => run.outputs[i]?.fps ?? null)), 1)),
      machineCores: r(middle(ok.map((run) => run.machineCores)), 2),
      otherCores: r(middle(ok.map((run) => run.otherCores)), 2),
      load1: r(middle(ok.map((run) => run.load1)), 2),
    };
  });
  const single = base[0]?.cores ?? null;
  return base.map((s) => ({
    ...s,
    ratio: s.cores !== null && single ? round(s.cores / single, 2) : null,
    extraCores: s.cores !== null && single !== null ? round(s.cores - single, 3) : null,
  }));
}

const cell = (v: number | string | null, digits = 2): string => (v === null ? '–' : typeof v === 'string' ? v : v.toFixed(digits));

/** A Markdown table, as the README shows it. */
export function formatLadderTable(summaries: readonly LadderSummary[]): string {
  const rows = [
    ['configuration', 'encodes (WxH@kbit/s)', 'compositor CPU (cores; each run)', '× single', 'extra cores', 'kbit/s sent per rung', 'fps in / out', 'machine busy / other (cores), load'],
    ['---', '---', '---', '---', '---', '---', '---', '---'],
    ...summaries.map((s) => [
      s.config,
      s.rungs,
      `${cell(s.cores, 3)} (${s.coresPerRun.map((c) => c.toFixed(3)).join(', ') || 'no run'})`,
      cell(s.ratio),
      s.extraCores === null ? '–' : `${s.extraCores >= 0 ? '+' : ''}${s.extraCores.toFixed(3)}`,
      s.kbps.map((k) => cell(k, 0)).join(' / '),
      `${cell(s.fpsIn, 1)} / ${s.fpsOut.map((f) => cell(f, 1)).join(', ')}`,
      `${cell(s.machineCores)} / ${cell(s.otherCores)}, ${cell(s.load1)}`,
    ]),
  ];
  return rows.map((row) => `| ${row.join(' | ')} |`).join('\n');
}

export interface LadderReport {
  at: string;
  options: { tiles: number; rounds: number; windowSeconds: number; settleSeconds: number; canvas: string; source: string; fps: number };
  summary: LadderSummary[];
  runs: LadderRun[];
  notes: string[];
}
