import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ProbeSummary } from '../../scripts/bench/browserFigures.ts';
import { chromiumDescendants } from '../helpers/browser.ts';
import { LadderRoom } from '../helpers/ladderRoom.ts';
import { ffmpegChildren } from '../helpers/processes.ts';
import { beforeAllOrFail } from '../helpers/setUpOrFail.ts';
import { sleep, until } from '../helpers/wait.ts';

// The ladder with real Chromium viewers on real links (README: The ladder): two viewers of a
// room of two publishing bots, each in a network namespace of its own; one viewer's downlink is
// a token bucket that falls to 300 kbit/s, then opens to 800 kbit/s and 3 Mbit/s, the other's is
// never shaped. What each viewer receives is read from what its Chromium decodes (the frame
// height: 720, 360 or 180). The targets (lowest rung within 5 s, 24 fps, climbing back within
// 20 s) are figures of `npm run bench:ladder-browser`; the bounds here are wide enough for a
// busy 2-core machine and still fail when the ladder does not move.

const ROOM = 'ladder';
const WAIT_MS = 45_000;

/** The height of what the viewer decodes now (0 before its first frame). */
const heightOf = (summary: ProbeSummary): number => summary.stats.at(-1)?.in_video?.frameHeight ?? 0;
/** Frames it showed in the last `ms`. */
const shownIn = (summary: ProbeSummary, ms: number): number => {
  const last = summary.shown.at(-1) ?? 0;
  return summary.shown.filter((at) => at > last - ms).length;
};

describe('the ladder: each Chromium viewer receives the rung its link carries', () => {
  let dir: string;
  let room: LadderRoom | undefined;

  const throwSetupError = beforeAllOrFail(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mcu-ladder-'));
    room = await LadderRoom.start({ tag: 'ladr', dir, room: ROOM, viewers: [{ name: 'weak' }, { name: 'strong' }] });
  }, 120_000);

  afterAll(async () => {
    const pids = room?.viewers.flatMap((v) => v.browser.pids()) ?? [];
    await room?.close();
    rmSync(dir, { recursive: true, force: true });
    await until(() => (ffmpegChildren().length === 0 ? true : undefined), 15_000, 'FFmpeg to exit');
    expect(chromiumDescendants().filter((pid) => pids.includes(pid))).toEqual([]);
    expect(room?.network.namespaces()).toEqual([]);
  }, 60_000);

  function ready(): LadderRoom {
    throwSetupError();
    return room!;
  }

  /** Waits until viewer `i` decodes pictures `height` high; returns how long that took. */
  async function reaches(i: number, height: number, what: string): Promise<number> {
    const start = Date.now();
    await until(async () => (heightOf(await ready().viewers[i]!.probe.summary()) === height ? true : undefined), WAIT_MS, what, 250);
    return (Date.now() - start) / 1000;
  }

  it('a viewer whose downlink falls to 300 kbit/s moves to the lowest rung and goes on showing pictures; the other stays on 720p', async () => {
    const room = ready();
    const [weak, strong] = room.viewers as [LadderRoom['viewers'][number], LadderRoom['viewers'][number]];
    expect(heightOf(await weak.probe.summary())).toBe(720);
    const shapedAt = Date.now();
    room.shape(0, 300);
    const after = await reaches(0, 180, 'the weak viewer to decode 180p');
    // The queue the old rung filled drains, then 6 s of what it shows. Without the ladder this
    // link showed no picture at all in 25 s. The figures to meet (24 fps, no freeze over 500 ms)
    // are the benchmark's: here the room, both browsers and the test share two cores, and a probe
    // for the next rung up may overflow this link's queue for a moment (seen: 2.8 fps over 4 s).
    await sleep(8000);
    const summary = await weak.probe.summary();
    const shown = shownIn(summary, 6000);
    // What the server told the page (rung, estimate): the first thing to read when the frame rate is low.
    const told = (summary.rungs ?? [])
      .filter((r) => r.at >= shapedAt)
      .map((r) => `${r.rung}${r.estimateKbps === null ? '' : `@${r.estimateKbps}k`}`)
      .join(' ');
    console.log(`300 kbit/s: 180p after ${after.toFixed(1)} s, then ${(shown / 6).toFixed(1)} fps shown; rungs told: ${told}`);
    expect(heightOf(summary)).toBe(180);
    expect(shown).toBeGreaterThan(6);
    expect(heightOf(await strong.probe.summary())).toBe(720);
  }, 90_000);

  it('at 800 kbit/s it settles on the middle rung, and at 3 Mbit/s climbs back to 720p', async () => {
    const room = ready();
    room.shape(0, 800);
    const middle = await reaches(0, 360, 'the weak viewer to decode 360p');
    room.shape(0, 3000);
    const top = await reaches(0, 720, 'the weak viewer to decode 720p again');
    console.log(`800 kbit/s: 360p after ${middle.toFixed(1)} s; 3 Mbit/s: 720p after ${top.toFixed(1)} s`);
    // The unshaped viewer stays on 720p. Not every sample: on two saturated cores its Chromium
    // receives late, its own estimate falls, and a fresh-clone run saw it move down for a moment.
    await reaches(1, 720, 'the unshaped viewer to decode 720p');
    const strong = await room.viewers[1]!.probe.summary();
    const heights = strong.stats.map((s) => s.in_video?.frameHeight).filter((h) => h);
    const at720 = heights.filter((h) => h === 720).length / heights.length;
    const told = (strong.rungs ?? []).map((r) => `${r.rung}${r.estimateKbps === null ? '' : `@${r.estimateKbps}k`}`).join(' ');
    console.log(`unshaped viewer: ${Math.round(at720 * 100)} % of ${heights.length} samples at 720p; rungs told: ${told}`);
    expect(at720).toBeGreaterThanOrEqual(0.8);
  }, 120_000);

  it('a viewer that caps its rung (the `cap` message) gets that rung, and all of them again once it lifts the cap', async () => {
    const room = ready();
    const strong = room.viewers[1]!;
    await strong.probe.cap(2);
    await reaches(1, 180, 'the capped viewer to decode 180p');
    const capped = (await strong.probe.summary()).rungs?.at(-1);
    expect(capped).toMatchObject({ rung: 2, cap: 2 });
    await strong.probe.cap(null);
    await reaches(1, 720, 'the viewer to decode 720p once its cap is lifted');
  }, 120_000);
});
