/** Summaries of samples, rounded for a report. */

export interface Distribution {
  count: number;
  p50: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}

/** Nearest-rank percentile (0 < p ≤ 100) of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function distribution(samples: readonly number[], digits = 1): Distribution {
  const sorted = [...samples].sort((a, b) => a - b);
  const r = (v: number | null): number | null => (v === null ? null : round(v, digits));
  return {
    count: sorted.length,
    p50: r(percentile(sorted, 50)),
    p95: r(percentile(sorted, 95)),
    min: r(sorted[0] ?? null),
    max: r(sorted[sorted.length - 1] ?? null),
    mean: r(sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null),
  };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function mean(values: readonly number[]): number | null {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

export function median(values: readonly number[]): number | null {
  return percentile([...values].sort((a, b) => a - b), 50);
}
