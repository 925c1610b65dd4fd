import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ffmpegChildren, sessionProcesses } from '../helpers/processes.ts';
import { gridLayout } from '../../mixer/logic/layout.ts';
import { e2eContext } from '../helpers/e2eContext.ts';
import { longestGap, readFrameLog } from '../helpers/frameLog.ts';
import { colorAt, frameAt, nearestColor, pcmOf, recordingClock, tileColor, tonePower } from '../helpers/media.ts';
import { sleep, until } from '../helpers/wait.ts';

const ROOM = 'e2e-three';
const CANVAS = { width: 1280, height: 720 };
const BOTS = [
  { name: 'red', color: 'red', tone: 440 },
  { name: 'lime', color: 'lime', tone: 700 },
  { name: 'blue', color: 'blue', tone: 1100 },
] as const;

/** The colours at the centres of the grid's tiles for `count` participants. */
async function tileColors(file: string, seconds: number, count: number): Promise<string[]> {
  const frame = await frameAt(file, seconds);
  return gridLayout(count, CANVAS).map((tile) => tileColor(frame, tile, CANVAS));
}

describe('a mixed room of three bots', () => {
  const e2e = e2eContext('mixed-room');

  async function tiles(): Promise<string[]> {
    const room = await e2e.server.rooms.get(ROOM);
    return (await room?.stats())?.session?.tiles ?? [];
  }

  it('sends each bot a composite of everyone and a mix of the others, and stops the session when all leave', async () => {
    const { server, dir, bots } = e2e;
    const joinedAt: number[] = [];
    for (const spec of BOTS) {
      const bot = e2e.bot({
        room: ROOM,
        name: spec.name,
        color: spec.color,
        tone: spec.tone,
        record: join(dir, `${spec.name}.mkv`),
        frameLog: join(dir, `${spec.name}.frames`),
      });
      await bot.waitForStart();
      joinedAt.push(Date.now());
      await until(async () => ((await tiles()).length === bots.length ? true : undefined), 10_000, `${bots.length} tiles`);
    }
    const allThreeAt = Date.now();
    // A newcomer's voice may take a couple of seconds to settle on a busy machine: measure after.
    await sleep(6000);
    console.log('room with three:', JSON.stringify(await (await server.rooms.get(ROOM))?.stats()));

    // The third bot leaves; its tile must go.
    const blue = bots[2]!;
    await blue.stop();
    const leftAt = Date.now();
    await until(async () => ((await tiles()).length === 2 ? true : undefined), 10_000, 'two tiles');
    const twoTilesAt = Date.now();
    await sleep(4000);
    const endAt = Date.now();

    await Promise.all(bots.slice(0, 2).map((b) => b.stop()));

    // Every FFmpeg process of the room is gone once everyone has left.
    await until(() => (ffmpegChildren().length + sessionProcesses().length === 0 ? true : undefined), 10_000, 'no FFmpeg or session process left');
    await until(async () => ((await server.rooms.get(ROOM)) === undefined ? true : undefined), 10_000, 'the room to close');

    for (const [i, spec] of BOTS.entries()) {
      const file = join(dir, `${spec.name}.mkv`);
      const frames = readFrameLog(join(dir, `${spec.name}.frames`));
      const first = frames[0]!;
      const at = await recordingClock(file, frames);
      // While all three were in: each colour in its own tile.
      const t3 = at(allThreeAt + 4000);
      expect(new Set(await tileColors(file, t3, 3))).toEqual(new Set(['red', 'lime', 'blue']));

      // Audio of that period: the other two tones, not its own.
      const pcm = await pcmOf(file, t3 - 1, 2);
      const own = tonePower(pcm, spec.tone);
      const others = BOTS.filter((o) => o !== spec).map((o) => tonePower(pcm, o.tone));
      console.log(`${spec.name} hears: own ${own.toExponential(2)}, others ${others.map((p) => p.toExponential(2)).join(', ')}`);
      for (const power of others) expect(power).toBeGreaterThan(100 * own);
      expect(Math.min(...others)).toBeGreaterThan(1e-4);

      const gapJoin = longestGap(frames, joinedAt[2]! - 1000, joinedAt[2]! + 3000);
      console.log(`${spec.name}: ${frames.length} frames, longest gap around the third join ${gapJoin} ms`);
      if (i === 2) continue;

      // After blue left: two tiles side by side, red and lime, and blue nowhere.
      const t2 = at(twoTilesAt + 2500);
      expect(await tileColors(file, t2, 2)).toEqual(['red', 'lime']);
      const frame = await frameAt(file, t2);
      for (let y = 0.1; y < 1; y += 0.2) {
        for (let x = 0.05; x < 1; x += 0.1) expect(nearestColor(colorAt(frame, x, y, 1))).not.toBe('blue');
      }
      const gapLeave = longestGap(frames, leftAt - 1000, leftAt + 3000);
      const gapAll = longestGap(frames, first + 3000, endAt);
      console.log(`${spec.name}: longest gap around the leave ${gapLeave} ms, overall ${gapAll} ms`);
    }
  }, 120_000);
});
