import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { focusLayout, gridLayout, type Tile } from '../../mixer/logic/layout.ts';
import type { BotProcess } from '../helpers/bots.ts';
import { e2eContext } from '../helpers/e2eContext.ts';
import { saveFigures } from '../helpers/figures.ts';
import { longestGap, readFrameLog, timestampContinuity } from '../helpers/frameLog.ts';
import { decodeFrames, frameWallTimes, tileColor } from '../helpers/media.ts';
import { sleep, until } from '../helpers/wait.ts';

const ROOM = 'layouts';
const CANVAS = { width: 1280, height: 720 };
/**
 * Regression bounds, wide enough for a busy two-core machine: the longest gap between frames
 * around a switch, and the new layout in the picture. The budgets (100 ms and 1 s) are held
 * against the figures by `npm run bench:timing`; measured here: 42-84 ms and 27-323 ms, once
 * 1289 and 1367 ms in a CI run on a loaded machine.
 */
const MAX_GAP_MS = 500;
const SHOWN_WITHIN_MS = 2800;
/** Time between two switches: a layout is looked for until the next switch. */
const BETWEEN_SWITCHES_MS = 3000;

describe('layouts switched at runtime', () => {
  const e2e = e2eContext('layout');

  it('switches grid, presenter and speaker layouts at runtime, each soon and without a freeze', { timeout: 120_000 }, async () => {
    const { server, dir } = e2e;
    const viewerLog = join(dir, 'watcher.frames');
    const viewerFile = join(dir, 'watcher.mkv');
    // Only the first speaks: it is the active speaker.
    const bots: BotProcess[] = [];
    for (const [name, color, tone] of [['first', 'red', 440], ['second', 'lime', 0]] as const) {
      const bot = e2e.bot({ room: ROOM, name, color, tone });
      bots.push(bot);
      await bot.waitForStart();
    }
    const watcher = e2e.bot({ room: ROOM, name: 'watcher', viewer: true, record: viewerFile, frameLog: viewerLog, measures: true });
    bots.push(watcher);
    await watcher.waitForStart();
    const room = (await server.rooms.get(ROOM))!;
    await until(async () => ((await room.stats()).session?.tiles.length === 2 ? true : undefined), 15_000, 'two tiles');
    const [firstId, secondId] = [0, 1].map((i) => String(bots[i]!.events.find((e) => e.event === 'joined')?.id));
    await sleep(2000);

    const switchAt = (kind: 'grid' | 'speaker' | 'presenter'): number => {
      room.setLayout(kind === 'presenter' ? { kind, presenter: secondId } : { kind });
      return Date.now();
    };
    const presenterAt = switchAt('presenter');
    await sleep(BETWEEN_SWITCHES_MS);
    const gridAt = switchAt('grid');
    await sleep(BETWEEN_SWITCHES_MS);
    const speakerAt = switchAt('speaker');
    await sleep(BETWEEN_SWITCHES_MS);
    const backAt = switchAt('grid');
    await sleep(BETWEEN_SWITCHES_MS);
    await Promise.all(bots.map((b) => b.stop()));

    const frames = readFrameLog(viewerLog);
    const continuity = timestampContinuity(viewerLog, presenterAt - 500, backAt + 2000);
    const decoded = await decodeFrames(viewerFile);
    const times = frameWallTimes(decoded.length, frames);
    const [main, small] = focusLayout(2, CANVAS) as [Tile, Tile];
    const grid = gridLayout(2, CANVAS);
    // Each layout as the colours at its tiles' centres: [where, colour].
    const looks = {
      presenter: [[main, 'lime'], [small, 'red']],
      speaker: [[main, 'red'], [small, 'lime']],
      grid: [[grid[0]!, 'red'], [grid[1]!, 'lime']],
    } as const;
    /** How long after `from` the picture first shows `layout` (Infinity: not before the next switch). */
    const shownAfter = (from: number, layout: keyof typeof looks): number => {
      const i = decoded.findIndex(
        (frame, k) => times[k]! >= from && times[k]! < from + BETWEEN_SWITCHES_MS && looks[layout].every(([tile, colour]) => tileColor(frame, tile, CANVAS, 2) === colour),
      );
      return i < 0 ? Infinity : times[i]! - from;
    };
    const shown = [
      shownAfter(presenterAt, 'presenter'),
      shownAfter(gridAt, 'grid'),
      shownAfter(speakerAt, 'speaker'),
      shownAfter(backAt, 'grid'),
    ];
    const gaps = [presenterAt, gridAt, speakerAt, backAt].map((t) => longestGap(frames, t - 500, t + 2000));
    const longest = Math.max(...gaps);
    console.log(
      `layout switches (presenter, grid, speaker, grid): shown after ${shown.join(', ')} ms; longest gaps ${gaps.join(', ')} ms; ` +
        `received stream: ${JSON.stringify(watcher.latestStats(), ['videoSsrcChanges', 'videoSeqJumps'])}, ${JSON.stringify(continuity)}`,
    );
    saveFigures('layout', { shownAfterMs: shown, longestGapsMs: gaps, continuity });
    // The speaker message names the one who talks, and only her.
    const speakers = watcher.events.filter((e) => e.event === 'speaker' && e.id !== null).map((e) => e.id);
    expect(new Set(speakers)).toEqual(new Set([firstId]));
    for (const delay of shown) expect(delay).toBeLessThan(SHOWN_WITHIN_MS);
    expect(watcher.latestStats()).toMatchObject({ videoSsrcChanges: 0, videoSeqJumps: 0 });
    expect(continuity.notForward).toBe(0);
    expect(continuity.driftMs).toBeLessThan(100);
    expect(longest).toBeLessThan(MAX_GAP_MS);
  });
});
