/** Issue 4's timing budgets, and the figures the end-to-end tests saved, side by side (pure). */

export interface SavedFigures {
  name: string;
  at: string;
  [figure: string]: unknown;
}

interface Budget {
  test: string;
  figure: string;
  what: string;
  /** The values of one saved record (several for arrays: every newcomer, every switch). */
  values: (f: SavedFigures) => number[];
  limit: number;
  /** `max`: every value below the limit; `min`: every value at or above it. */
  kind: 'max' | 'min';
}

const numbers = (v: unknown): number[] => (Array.isArray(v) ? v : [v]).filter((x): x is number => typeof x === 'number');
const field = (key: string) => (f: SavedFigures) => numbers(f[key]);

export const BUDGETS: Budget[] = [
  { test: 'churn', figure: 'longestGapMs', what: 'stayer: longest gap between frames', values: field('longestGapMs'), limit: 100, kind: 'max' },
  { test: 'churn', figure: 'newcomerAppearMs', what: 'newcomer seen after its first decoded frame', values: field('newcomerAppearMs'), limit: 500, kind: 'max' },
  { test: 'layout', figure: 'shownAfterMs', what: 'new layout in the picture', values: field('shownAfterMs'), limit: 1000, kind: 'max' },
  { test: 'layout', figure: 'longestGapsMs', what: 'longest gap around a layout switch', values: field('longestGapsMs'), limit: 100, kind: 'max' },
  { test: 'stall', figure: 'minFps', what: 'others\' fps in every second of a stall', values: field('minFps'), limit: 28, kind: 'min' },
  { test: 'stall', figure: 'liveAgainMs', what: 'stalled tile live again after its video resumed', values: field('liveAgainMs'), limit: 1000, kind: 'max' },
  { test: 'loss', figure: 'minFps', what: 'others\' fps in every second with 10% loss', values: field('minFps'), limit: 28, kind: 'min' },
  { test: 'resize', figure: 'minFps', what: 'fps in every second around a resize', values: field('minFps'), limit: 28, kind: 'min' },
  { test: 'keyframeRequests', figure: 'answeredMs', what: 'PLI/FIR answered with a keyframe', values: field('answeredMs'), limit: 300, kind: 'max' },
  { test: 'lateSubscriber', figure: 'firstKeyframeMs', what: 'late subscriber\'s first keyframe after connecting', values: field('firstKeyframeMs'), limit: 300, kind: 'max' },
];

export interface TimingRow {
  test: string;
  what: string;
  budget: string;
  samples: number;
  min: number | null;
  max: number | null;
  /** Samples inside the budget. */
  within: number;
  verdict: 'PASS' | 'MISS' | 'NO DATA';
}

export function timingRows(saved: SavedFigures[]): TimingRow[] {
  return BUDGETS.map((b) => {
    const values = saved.filter((f) => f.name === b.test).flatMap(b.values);
    const within = values.filter((v) => (b.kind === 'max' ? v < b.limit : v >= b.limit)).length;
    return {
      test: b.test,
      what: b.what,
      budget: `${b.kind === 'max' ? '<' : '≥'} ${b.limit}`,
      samples: values.length,
      min: values.length ? Math.min(...values) : null,
      max: values.length ? Math.max(...values) : null,
      within,
      verdict: values.length === 0 ? 'NO DATA' : within === values.length ? 'PASS' : 'MISS',
    };
  });
}

export function formatTimingRows(rows: TimingRow[]): string {
  const header = '| test | figure | budget | samples | range | within budget | verdict |';
  const lines = rows.map((r) => `| ${r.test} | ${r.what} | ${r.budget} | ${r.samples} | ${r.min ?? '-'}-${r.max ?? '-'} | ${r.within}/${r.samples} | ${r.verdict} |`);
  return [header, '|---|---|---|---|---|---|---|', ...lines].join('\n');
}
