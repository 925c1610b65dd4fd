import { describe, expect, it } from 'vitest';
import { timingRows } from '../../scripts/bench/timing.ts';

describe('bench:timing budgets', () => {
  it('passes a figure whose every sample is inside its budget and misses one that is not', () => {
    const rows = timingRows([
      { name: 'churn', at: '', longestGapMs: 61, newcomerAppearMs: [30, 80, 640, 20] },
      { name: 'churn', at: '', longestGapMs: 77, newcomerAppearMs: [25, 35, 40, 45] },
      { name: 'stall', at: '', minFps: 28, liveAgainMs: 170 },
    ]);
    const row = (test: string, what: RegExp) => rows.find((r) => r.test === test && what.test(r.what))!;
    expect(row('churn', /longest gap/)).toMatchObject({ samples: 2, min: 61, max: 77, within: 2, verdict: 'PASS' });
    expect(row('churn', /newcomer/)).toMatchObject({ samples: 8, max: 640, within: 7, verdict: 'MISS' });
    expect(row('stall', /fps/)).toMatchObject({ samples: 1, within: 1, verdict: 'PASS' });
    expect(row('layout', /new layout/)).toMatchObject({ samples: 0, verdict: 'NO DATA' });
  });
});
