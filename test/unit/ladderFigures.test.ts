import { describe, expect, it } from 'vitest';
import { formatLadderTable, LADDER_CONFIGS, middle, runOrder, summariseLadder, type LadderRun } from '../../scripts/bench/ladderFigures.ts';

function run(config: string, round: number, cores: number | null, ok = true): LadderRun {
  const rungs = LADDER_CONFIGS.find((c) => c.name === config)!.rungs;
  return {
    config,
    round,
    ok,
    cores,
    fpsIn: 30,
    ticksSkipped: 0,
    outputs: rungs.map((r) => ({ rung: `${r.width}x${r.height}@${r.kbps}`, kbps: r.kbps + round, fps: 30 })),
    machineCores: 1,
    benchCores: 0.05,
    otherCores: 0.5,
    load1: 2,
  };
}

describe('the ladder bench figures', () => {
  it('measures a single encode, the default ladder and the top with 360p, the single encode first', () => {
    expect(LADDER_CONFIGS.map((c) => c.rungs.map((r) => r.width))).toEqual([[1280], [1280, 640, 320], [1280, 640]]);
  });

  it('runs every configuration once a round, the order reversed every other round', () => {
    expect(runOrder(3, 2).map((t) => `${t.round}:${t.config}`)).toEqual(['0:0', '0:1', '0:2', '1:2', '1:1', '1:0']);
    expect(runOrder(3, 0)).toEqual([]);
  });

  it('takes medians (the mean of the middle two for an even count), leaving out what was not measured', () => {
    expect(middle([0.3, 0.5])).toBe(0.4);
    expect(middle([0.5, null, 0.1, 0.3])).toBe(0.3);
    expect(middle([null, Number.NaN])).toBeNull();
  });

  it('gives each configuration its cores, its ratio to a single encode and its extra cores; failed runs do not count', () => {
    const runs = [
      run('single encode', 0, 0.3),
      run('default ladder', 0, 0.45),
      run('top + 360p', 0, 0.4),
      run('top + 360p', 1, 0.44),
      run('default ladder', 1, 0.51),
      run('single encode', 1, 0.32),
      run('default ladder', 2, 9, false),
    ];
    const [single, ladder, middleRung] = summariseLadder(LADDER_CONFIGS, runs);
    expect(single).toMatchObject({ cores: 0.31, ratio: 1, extraCores: 0, runs: 2 });
    expect(ladder).toMatchObject({ cores: 0.48, ratio: 1.55, extraCores: 0.17, runs: 2, coresPerRun: [0.45, 0.51], kbps: [1501, 501, 151] });
    expect(middleRung).toMatchObject({ cores: 0.42, ratio: 1.35, extraCores: 0.11, fpsOut: [30, 30] });
  });

  it('gives no ratio without a single encode, and a table row for a configuration that never ran', () => {
    const [single, ladder, middleRung] = summariseLadder(LADDER_CONFIGS, [run('default ladder', 0, 0.45), run('single encode', 0, null, false)]);
    expect(single).toMatchObject({ cores: null, ratio: null, runs: 0 });
    expect(ladder).toMatchObject({ cores: 0.45, ratio: null, extraCores: null });
    const table = formatLadderTable([single!, ladder!, middleRung!]).split('\n');
    expect(table).toHaveLength(5);
    expect(table[2]).toContain('| single encode | 1280x720@1500 | – (no run) | – |');
    expect(table[3]).toContain('| 0.450 (0.450) | – | – | 1500 / 500 / 150 |');
  });
});
