import { describe, expect, it } from 'vitest';
import type { ProbeSummary } from '../../scripts/bench/browserFigures.ts';
import { ladderChartSvg, ladderPhases, ladderTargets, ladderTimeline } from '../../scripts/bench/ladderBrowserFigures.ts';

/** A viewer's record: a stats sample a second at `heights[i]`, 30 frames shown a second, 40 kB a second received. */
function record(heights: number[], start = 1_000_000): ProbeSummary {
  return {
    id: 'v',
    marks: {},
    frames: [],
    beeps: [],
    errors: [],
    shown: heights.flatMap((_, s) => Array.from({ length: 30 }, (__, f) => start + s * 1000 + f * 33)),
    stats: heights.map((height, s) => ({
      at: start + s * 1000 + 999,
      connectionState: 'connected',
      in_video: { frameHeight: height, bytesReceived: 40_000 * (s + 1) },
    })),
    rungs: [{ at: start + 2500, rung: 2, cap: 0, estimateKbps: 250, receivingKbps: 180 }],
  };
}

describe("the ladder benchmark's figures", () => {
  const summary = record([720, 720, 720, 180, 180, 180, 180, 360, 360, 360]);
  const start = 1_000_000;

  it('reads a timeline: the height decoded, the bitrate received, frames shown, the last rung message', () => {
    const timeline = ladderTimeline(summary, start, start + 10_000);
    expect(timeline.map((s) => s.height)).toEqual([720, 720, 720, 180, 180, 180, 180, 360, 360, 360]);
    expect(timeline[1]).toMatchObject({ receivedKbps: 320, shownFps: 30, rung: null });
    expect(timeline[3]).toMatchObject({ rung: 2, estimateKbps: 250 });
  });

  it('finds where each phase settled and how long it took', () => {
    const phases = ladderPhases(
      summary,
      [
        { phase: { name: '300', kbps: 300, seconds: 7 }, at: start + 1500 },
        { phase: { name: '800', kbps: 800, seconds: 3 }, at: start + 6500 },
      ],
      start + 10_000,
    );
    expect(phases[0]).toMatchObject({ kbps: 300, settledHeight: 180, settledAfterS: 2.5 });
    expect(phases[1]).toMatchObject({ kbps: 800, settledHeight: 360, settledAfterS: 1.5 });
    expect(phases[0]!.fps).toBeGreaterThan(29);
  });

  it('checks the targets, and draws the figure', () => {
    const targets = ladderTargets(
      [
        { name: '300', kbps: 300, settledHeight: 180, settledAfterS: 2, fps: 27, longestGapMs: 150, freezes: 0, glassToGlass: { p50: 160, p95: 360 } as never, receivedKbps: 190 },
        { name: '800', kbps: 800, settledHeight: 360, settledAfterS: 9, fps: 25, longestGapMs: 200, freezes: 0, glassToGlass: null, receivedKbps: 240 },
        { name: '3M', kbps: 3000, settledHeight: 720, settledAfterS: 25, fps: 22, longestGapMs: 150, freezes: 0, glassToGlass: null, receivedKbps: 350 },
        { name: '300 again', kbps: 300, settledHeight: 180, settledAfterS: 2, fps: 27, longestGapMs: 150, freezes: 0, glassToGlass: null, receivedKbps: 190 },
        { name: '3M from 300', kbps: 3000, settledHeight: 720, settledAfterS: 12, fps: 28, longestGapMs: 150, freezes: 0, glassToGlass: null, receivedKbps: 1400 },
      ],
      [720, 360],
    );
    // The first 300 kbit/s phase counts for the low targets; the climb is the one after the second.
    expect(targets.map((t) => t.pass)).toEqual([true, true, true, true, true, false, true, false]);
    const svg = ladderChartSvg(ladderTimeline(summary, start, start + 10_000), [{ name: '300 kbit/s', at: 1.5 }]);
    expect(svg).toMatch(/^<svg[\s\S]*300 kbit\/s[\s\S]*<\/svg>$/);
  });
});
