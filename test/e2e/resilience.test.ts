import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gridLayout } from '../../mixer/logic/layout.ts';
import { LIGHT_BOT, type BotProcess, type BotSpec } from '../helpers/bots.ts';
import { e2eContext } from '../helpers/e2eContext.ts';
import { saveFigures } from '../helpers/figures.ts';
import { framesPerSecond, longestGap, readFrameLog, readKeyframeTimes } from '../helpers/frameLog.ts';
import { decodeFrames, frameWallTimes, tileColor } from '../helpers/media.ts';
import { sleep, until } from '../helpers/wait.ts';

const CANVAS = { width: 1280, height: 720 };
/**
 * Regression bounds, wide enough for a busy two-core machine. Issue 4's budgets (28 fps in every
 * second, live again within 1 s, a keyframe within 300 ms) are held against the figures these
 * tests save by `npm run bench:timing`.
 */
const MIN_FPS = 20;
const LIVE_AGAIN_WITHIN_MS = 2500;
const FIRST_KEYFRAME_WITHIN_MS = 1000;


/** The second publisher's tile in a two-tile grid. */
const tile = gridLayout(2, CANVAS)[1]!;

/** What a watcher received: frame arrival times, frames per second in [from, to], every decoded frame and its wall time. */
async function received(log: string, file: string, from: number, to: number) {
  const frames = readFrameLog(log);
  const decoded = await decodeFrames(file);
  return { frames, fps: framesPerSecond(frames, from, to), decoded, times: frameWallTimes(decoded.length, frames) };
}

describe('a composite that never freezes', () => {
  const e2e = e2eContext('resilience');

  async function connectedBot(spec: Omit<BotSpec, 'url'>): Promise<BotProcess> {
    const bot = e2e.bot(spec);
    await bot.waitForStart('connected', `${spec.name} connected`);
    return bot;
  }

  /** A measuring red watcher in `room` that logs the frames it receives (`log`) and records them (`file`), for received(). */
  async function connectedWatcher(room: string): Promise<{ watcher: BotProcess; log: string; file: string }> {
    const log = join(e2e.dir, `${room}-watcher.frames`);
    const file = join(e2e.dir, `${room}-watcher.mkv`);
    const watcher = await connectedBot({ room, name: 'watcher', measures: true, color: 'red', tone: 440, frameLog: log, record: file });
    return { watcher, log, file };
  }

  async function untilTiles(room: string, count: number): Promise<void> {
    await until(async () => {
      const stats = await (await e2e.server.rooms.get(room))?.stats();
      return stats?.session?.tiles.length === count ? true : undefined;
    }, 15_000, `${count} tiles in ${room}`);
  }

  it('stall: a publisher that stops sending for 4 s costs nobody a frame, turns into a placeholder and comes back live', async () => {
    const room = 'stall';
    const { watcher, log, file } = await connectedWatcher(room);
    const staller = await connectedBot({ room, name: 'staller', color: 'lime', tone: 0, ...LIGHT_BOT });
    await untilTiles(room, 2);
    await sleep(2000);

    staller.toggleVideo();
    const stoppedAt = Number((await staller.waitFor((e) => e.event === 'videosending' && e.sending === false, 5000, 'video stopped')).at);
    await sleep(4000);
    staller.toggleVideo();
    const resumedAt = Number((await staller.waitFor((e) => e.event === 'videosending' && e.sending === true, 5000, 'video resumed')).at);
    await sleep(3000);
    await Promise.all([watcher.stop(), staller.stop()]);

    const { frames, fps, decoded, times } = await received(log, file, stoppedAt - 1000, resumedAt + 2000);
    const colourAt = (wallMs: number): string => {
      const i = times.findIndex((t) => t >= wallMs);
      return tileColor(decoded[i < 0 ? decoded.length - 1 : i]!, tile, CANVAS, 2);
    };
    const placeholder = colourAt(stoppedAt + 3600);
    const liveAgain = decoded.findIndex((frame, i) => times[i]! >= resumedAt && tileColor(frame, tile, CANVAS, 2) === 'lime');
    const liveAfter = liveAgain < 0 ? Infinity : times[liveAgain]! - resumedAt;
    console.log(
      `stall: received fps per second ${fps.join(' ')}; longest gap ${longestGap(frames, stoppedAt - 1000, resumedAt + 2000)} ms; ` +
        `stalled tile ${colourAt(stoppedAt + 1000)} after 1 s, ${placeholder} after 3.6 s; live again ${liveAfter} ms after the video resumed`,
    );
    saveFigures('stall', { minFps: Math.min(...fps), liveAgainMs: liveAfter });
    expect(Math.min(...fps)).toBeGreaterThanOrEqual(MIN_FPS);
    expect(colourAt(stoppedAt + 1000)).toBe('lime'); // the last good frame, held
    expect(placeholder).toBe('black'); // the dark placeholder tile
    expect(liveAfter).toBeLessThan(LIVE_AGAIN_WITHIN_MS);
  }, 120_000);

  it('loss: 10% of one publisher’s packets lost on their way in lowers nobody’s frame rate, and its tile never shows a broken picture', async () => {
    const room = 'loss';
    const { watcher, log, file } = await connectedWatcher(room);
    const lossy = await connectedBot({ room, name: 'lossy', color: 'lime', tone: 700, uplinkLoss: 10 });
    await untilTiles(room, 2);
    const from = Date.now() + 1000;
    await sleep(8000);
    const to = Date.now();
    const roomNow = await e2e.server.rooms.get(room);
    const lossyId = String(lossy.events.find((e) => e.event === 'joined')?.id);
    const ingest = roomNow?.getParticipant(lossyId)?.videoIngest;
    await Promise.all([watcher.stop(), lossy.stop()]);
    const sent = lossy.latestStats();
    const dropped = Number(sent?.uplinkDropped);
    const packets = Number(sent?.sentVideoPackets) + Number(sent?.sentAudioPackets);

    const { fps, decoded, times } = await received(log, file, from, to);
    // A decoder fed across a loss draws from a missing reference: grey or smeared blocks.
    const colours = decoded.filter((_, i) => times[i]! >= from && times[i]! <= to).map((f) => tileColor(f, tile, CANVAS, 2));
    const notLime = colours.filter((c) => c !== 'lime');
    console.log(
      `loss: received fps per second ${fps.join(' ')}; the lossy publisher dropped ${dropped} of ${packets} packets; ` +
        `its tile in ${colours.length} frames: ${notLime.length} not lime; ` +
        `its video at the server (gaps NACK did not fill, frames dropped, keyframe requests): ${JSON.stringify(ingest)}`,
    );
    saveFigures('loss', { minFps: Math.min(...fps), brokenTiles: notLime.length });
    expect(Math.min(...fps)).toBeGreaterThanOrEqual(MIN_FPS);
    expect(colours.length).toBeGreaterThan(150);
    expect(notLime).toEqual([]);
    // The loss was real: about one packet in ten never left the bot.
    expect(dropped / packets).toBeGreaterThan(0.05);
  }, 120_000);

  it('resize: a publisher that halves its resolution mid-stream keeps its tile, live, without a glitch', async () => {
    const room = 'resize';
    const { watcher, log, file } = await connectedWatcher(room);
    const resizer = await connectedBot({ room, name: 'resizer', color: 'lime', tone: 0, size: '640x360' });
    await untilTiles(room, 2);
    await sleep(2000);

    resizer.toggleVideoSize();
    const resized = await resizer.waitFor((e) => e.event === 'videosize', 10_000, 'video resized');
    const resizedAt = Number(resized.at);
    // Past the placeholder's 3 s: a tile still live then shows frames decoded at the new size.
    await sleep(4500);
    const session = (await (await e2e.server.rooms.get(room))?.stats())?.session;
    await Promise.all([watcher.stop(), resizer.stop()]);

    const { fps, decoded, times } = await received(log, file, resizedAt - 1000, resizedAt + 4000);
    const colours = decoded.filter((_, i) => times[i]! >= resizedAt - 1000 && times[i]! <= resizedAt + 4000).map((f) => tileColor(f, tile, CANVAS, 2));
    const notLime = colours.filter((c) => c !== 'lime');
    console.log(
      `resize: ${resized.width}x${resized.height} from 640x360; received fps per second ${fps.join(' ')}; ` +
        `resizer's tile in ${colours.length} frames: ${notLime.length} not lime; decoder restarts ${session?.decoderRestarts}`,
    );
    saveFigures('resize', { minFps: Math.min(...fps), brokenTiles: notLime.length });
    expect([resized.width, resized.height]).toEqual([320, 180]);
    expect(Math.min(...fps)).toBeGreaterThanOrEqual(MIN_FPS);
    expect(colours.length).toBeGreaterThan(100);
    expect(notLime).toEqual([]);
    expect(session?.decoderRestarts).toBe(0);
  }, 120_000);

  it('a subscriber’s PLI or FIR brings one keyframe soon; a burst of them at most one a second', async () => {
    const room = 'asks';
    await connectedBot({ room, name: 'publisher', color: 'red', tone: 440, ...LIGHT_BOT });
    await untilTiles(room, 1);
    const log = join(e2e.dir, 'asker.frames');
    const asker = await connectedBot({ room, name: 'asker', viewer: true, frameLog: log, measures: true });
    await asker.waitForFrames(30, 10_000);
    const keyframesMade = async (): Promise<number> =>
      (await (await e2e.server.rooms.get(room))?.stats())?.session?.compositeKeyframes ?? NaN;
    /** Sends one request; resolves with when it left the bot. */
    const ask = async (kind: 'pli' | 'fir'): Promise<number> => {
      const seen = asker.events.length;
      asker.requestKeyframe(kind);
      const sent = await asker.waitFor((e) => e.event === 'keyframerequest' && asker.events.indexOf(e) >= seen, 5000, `${kind} sent`);
      expect(sent.sent).toBe(true);
      return Number(sent.at);
    };
    const firstKeyframeAfter = (at: number): number => (readKeyframeTimes(log).find((t) => t >= at) ?? Infinity) - at;

    // One at a time, each past the rate limit (and the standby that answers it ready again).
    const single: { kind: string; delay: number; made: number }[] = [];
    for (const kind of ['pli', 'fir', 'pli'] as const) {
      await sleep(2500);
      const before = await keyframesMade();
      const at = await ask(kind);
      await sleep(600);
      single.push({ kind, delay: firstKeyframeAfter(at), made: (await keyframesMade()) - before });
    }
    // A burst: 20 PLIs in one second.
    await sleep(2500);
    const before = await keyframesMade();
    let burstStart = 0;
    for (let i = 0; i < 20; i++) {
      const at = await ask('pli');
      burstStart ||= at;
      await sleep(50);
    }
    await sleep(1500);
    const burstMade = (await keyframesMade()) - before;
    const burstDelay = firstKeyframeAfter(burstStart);
    await asker.stop();
    console.log(
      `keyframes on request: ${single.map(({ kind, delay, made }) => `${kind} answered after ${delay} ms (${made} made)`).join(', ')}; ` +
        `a burst of 20 PLIs in 1 s: first keyframe after ${burstDelay} ms, ${burstMade} made`,
    );
    saveFigures('keyframeRequests', { answeredMs: single.map((s) => s.delay), burstFirstMs: burstDelay, burstMade });
    for (const { delay, made } of single) {
      expect(made).toBe(1);
      expect(delay).toBeLessThan(FIRST_KEYFRAME_WITHIN_MS);
    }
    expect(burstDelay).toBeLessThan(FIRST_KEYFRAME_WITHIN_MS);
    expect(burstMade).toBeGreaterThanOrEqual(1);
    expect(burstMade).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a late subscriber receives its first keyframe soon after it connects', async () => {
    const room = 'late';
    await connectedBot({ room, name: 'publisher', color: 'red', tone: 440, ...LIGHT_BOT });
    await untilTiles(room, 1);
    await sleep(2500);
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const log = join(e2e.dir, `late-${i}.frames`);
      const viewer = await connectedBot({ room, name: `late-${i}`, viewer: true, frameLog: log, measures: true });
      const connectedAt = Number(viewer.events.find((e) => e.event === 'connected')?.at);
      await viewer.waitForFrames(30, 10_000);
      await viewer.stop();
      const firstKey = readKeyframeTimes(log)[0] ?? Infinity;
      delays.push(firstKey - connectedAt);
      await sleep(1500);
    }
    console.log(`late subscriber: first keyframe ${delays.join(', ')} ms after connecting`);
    saveFigures('lateSubscriber', { firstKeyframeMs: delays });
    for (const delay of delays) expect(delay).toBeLessThan(FIRST_KEYFRAME_WITHIN_MS);
  }, 120_000);
});
