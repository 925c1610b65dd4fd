import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gridLayout } from '../../mixer/logic/layout.ts';
import { e2eContext } from '../helpers/e2eContext.ts';
import { readFrameLog } from '../helpers/frameLog.ts';
import { frameAt, probe, recordingClock, tileColor } from '../helpers/media.ts';
import { ffmpegChildren } from '../helpers/processes.ts';
import { sleep, until } from '../helpers/wait.ts';

const ROOM = 'h264';
const CANVAS = { width: 1280, height: 720 };

describe('a client that offers no VP8', () => {
  const e2e = e2eContext('h264');

  it('publishes H.264 into the grid and receives the composite in H.264, beside a VP8 client', async () => {
    const specs = [
      { name: 'vp8', color: 'red', codec: 'vp8' as const },
      { name: 'h264', color: 'yellow', codec: 'h264' as const },
    ];
    const { server, dir, bots } = e2e;
    for (const spec of specs) {
      const bot = e2e.bot({
        room: ROOM,
        name: spec.name,
        color: spec.color,
        tone: 440,
        codec: spec.codec,
        record: join(dir, `${spec.name}.mkv`),
        frameLog: join(dir, `${spec.name}.frames`),
      });
      await bot.waitForStart();
    }
    const room = await server.rooms.get(ROOM);
    await until(async () => ((await room?.stats())?.session?.tiles.length === 2 ? true : undefined), 15_000, 'two tiles');
    const bothAt = Date.now();
    await sleep(4000);
    await Promise.all(bots.map((b) => b.stop()));

    const tiles = gridLayout(2, CANVAS);
    for (const spec of specs) {
      const file = join(dir, `${spec.name}.mkv`);
      const { streams } = await probe(file);
      expect(streams.find((s) => s.codec_type === 'video')?.codec_name).toBe(spec.codec);
      const at = await recordingClock(file, readFrameLog(join(dir, `${spec.name}.frames`)));
      const frame = await frameAt(file, at(bothAt + 2500));
      const colors = tiles.map((t) => tileColor(frame, t, CANVAS));
      expect(colors).toEqual(['red', 'yellow']);
    }
    await until(() => (ffmpegChildren().length === 0 ? true : undefined), 10_000, 'no FFmpeg process left');
  }, 120_000);
});
