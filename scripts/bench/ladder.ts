/**
 * What the ladder costs (README: Performance, "The ladder's cost"): the compositor as the server
 * runs it (mixer/ffmpeg/Compositor.ts, so compositorArgs with its rung outputs), fed raw tiles
 * at real time through its pipes, in three configurations (LADDER_CONFIGS), alternated and
 * repeated in one invocation; CPU of its FFmpeg from /proc, each RTP output drained from a
 * loopback UDP socket of ours.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compositor } from '../../mixer/ffmpeg/Compositor.ts';
import { findLabelFont } from '../../mixer/ffmpeg/fonts.ts';
import { gridLayout, type Size } from '../../mixer/logic/layout.ts';
import { SESSION_DEFAULTS } from '../../mixer/SessionTypes.ts';
import { VP8_PAYLOAD_TYPE } from '../../base/rtp/payloadTypes.ts';
import { payloadOffset, readTimestamp } from '../../src/rtp/rtpHeader.ts';
import { CLIP_NOISE } from '../../src/loadtest/clip.ts';
import { errorText } from '../lib/errors.ts';
import { cpuShare, sampleTree } from '../lib/procStats.ts';
import { runCommand, sleep, withTimeout } from '../lib/processes.ts';
import { machineCpu, machineCpuShare } from './machine.ts';
import { round } from './numbers.ts';
import { LADDER_CONFIGS, rungsText, runOrder, summariseLadder, type LadderConfig, type LadderReport, type LadderRun } from './ladderFigures.ts';

export interface LadderOptions {
  tiles: number;
  rounds: number;
  windowMs: number;
  settleMs: number;
}

export const LADDER_DEFAULTS: LadderOptions = { tiles: 4, rounds: 2, windowMs: 10_000, settleMs: 3000 };

/** Frames of the looping tile clip (2 s at 30 fps). */
const CLIP_FRAMES = 60;

/**
 * One clip every tile plays from its own offset: FFmpeg's moving test pattern with the temporal
 * noise the load generator's clips carry, so that every encoder has real work at every frame.
 */
async function tileClip(dir: string, source: Size, fps: number): Promise<Buffer[]> {
  const file = join(dir, 'tile.yuv');
  await runCommand(process.env.MCU_FFMPEG ?? 'ffmpeg', [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=s=${source.width}x${source.height}:r=${fps}`,
    '-vf', `format=yuv420p,noise=alls=${CLIP_NOISE}:allf=t`, '-frames:v', String(CLIP_FRAMES),
    '-f', 'rawvideo', `file:${file}`,
  ], 60_000);
  const bytes = await readFile(file);
  const frameBytes = (source.width * source.height * 3) / 2;
  if (bytes.length !== frameBytes * CLIP_FRAMES) throw new Error(`the tile clip has ${bytes.length} bytes, not ${frameBytes * CLIP_FRAMES}`);
  return Array.from({ length: CLIP_FRAMES }, (_, i) => bytes.subarray(i * frameBytes, (i + 1) * frameBytes));
}

interface Receiver {
  port: number;
  counts: { bytes: number; frames: number };
  socket: Socket;
}

/** A loopback UDP socket that drains one RTP output: payload bytes and frames (new timestamps). */
async function receiver(): Promise<Receiver> {
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  const counts = { bytes: 0, frames: 0 };
  let timestamp: number | undefined;
  socket.on('message', (packet) => {
    if (packet.length < 12) return;
    counts.bytes += Math.max(0, packet.length - payloadOffset(packet));
    if (readTimestamp(packet) !== timestamp) counts.frames++;
    timestamp = readTimestamp(packet);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return { port: socket.address().port, counts, socket };
}

interface Feed {
  clip: Buffer[];
  labels: ({ fontFile: string; textFile: string } | undefined)[];
}

async function runOnce(config: LadderConfig, turn: number, feed: Feed, o: LadderOptions): Promise<LadderRun> {
  const d = SESSION_DEFAULTS;
  const [top, ...lower] = config.rungs;
  const canvas = { width: top!.width, height: top!.height };
  const run: LadderRun = { config: config.name, round: turn, ok: false, cores: null, fpsIn: null, ticksSkipped: 0, outputs: [], machineCores: null, benchCores: null, otherCores: null, load1: 0 };
  const receivers = await Promise.all(config.rungs.map(() => receiver()));
  const output = (i: number): { port: number; payloadType: number; ssrc: number } => ({ port: receivers[i]!.port, payloadType: VP8_PAYLOAD_TYPE, ssrc: 1000 + i });
  const compositor = new Compositor({
    tileIds: feed.labels.map((_, i) => `tile${i}`),
    layoutKind: 'grid',
    planKey: 'ladder-bench',
    inputs: o.tiles,
    source: d.tileSource,
    canvas,
    tiles: gridLayout(o.tiles, canvas),
    labels: feed.labels,
    fps: d.fps,
    bitrateKbps: top!.kbps,
    keyframeInterval: Math.round(d.keyframeIntervalSeconds * d.fps),
    output: output(0),
    rungOutputs: lower.map((rung, i) => ({ size: { width: rung.width, height: rung.height }, kbps: rung.kbps, output: output(i + 1) })),
  });
  let died: string | undefined;
  compositor.on('died', (error) => (died = errorText(error)));
  // The session's clock: one frame per tile per tick, ticks on the wall clock; a late tick is
  // skipped, never made up for in a burst.
  const interval = 1000 / d.fps;
  const start = performance.now();
  let tick = 0;
  let timer: NodeJS.Timeout | undefined;
  const step = (): void => {
    const due = Math.floor((performance.now() - start) / interval);
    tick = Math.max(tick + 1, due);
    compositor.writeFrames(feed.labels.map((_, i) => feed.clip[(tick + i * 13) % feed.clip.length]!));
    timer = setTimeout(step, Math.max(0, start + (tick + 1) * interval - performance.now()));
  };
  try {
    await withTimeout(new Promise<void>((resolve) => compositor.whenStarted(resolve)), 10_000, 'the compositor start');
    step();
    await sleep(o.settleMs);
    const pid = compositor.pid;
    if (died || pid === undefined) throw new Error(`the compositor exited: ${died ?? 'no pid'}`);
    const counts = (): { bytes: number; frames: number }[] => receivers.map((r) => ({ ...r.counts }));
    const before = { tree: sampleTree(pid), machine: machineCpu(), node: process.cpuUsage(), written: compositor.framesWritten, skipped: compositor.ticksSkipped, out: counts() };
    await sleep(o.windowMs);
    const after = { tree: sampleTree(pid), machine: machineCpu(), node: process.cpuUsage(before.node), written: compositor.framesWritten, skipped: compositor.ticksSkipped, out: counts() };
    if (died || after.tree.processes === 0) throw new Error(`the compositor exited: ${died ?? 'gone'}`);
    const seconds = (after.tree.at - before.tree.at) / 1000;
    run.cores = round(cpuShare(before.tree, after.tree), 3);
    run.fpsIn = round((after.written - before.written) / seconds, 1);
    run.ticksSkipped = after.skipped - before.skipped;
    run.outputs = config.rungs.map((rung, i) => ({
      rung: rungsText([rung]),
      kbps: round(((after.out[i]!.bytes - before.out[i]!.bytes) * 8) / 1000 / seconds, 0),
      fps: round((after.out[i]!.frames - before.out[i]!.frames) / seconds, 1),
    }));
    run.machineCores = round(machineCpuShare(before.machine, after.machine), 2);
    run.benchCores = round((after.node.user + after.node.system) / 1e6 / seconds, 2);
    run.otherCores = round(Math.max(0, run.machineCores - run.cores - run.benchCores), 2);
    run.ok = true;
  } catch (error) {
    run.error = errorText(error);
  } finally {
    run.load1 = round(loadavg()[0]!, 2);
    clearTimeout(timer);
    await compositor.close();
    for (const r of receivers) r.socket.close();
  }
  return run;
}

/** Runs every configuration `rounds` times; `say` gets a line per run. */
export async function runLadderBench(o: LadderOptions, say: (line: string) => void): Promise<LadderReport> {
  const d = SESSION_DEFAULTS;
  const dir = await mkdtemp(join(tmpdir(), 'mcu-ladder-'));
  const runs: LadderRun[] = [];
  try {
    const font = findLabelFont();
    const labels = await Promise.all(
      Array.from({ length: o.tiles }, async (_, i) => {
        if (!font) return undefined;
        const textFile = join(dir, `label${i}.txt`);
        await writeFile(textFile, `participant ${i + 1}`);
        return { fontFile: font, textFile };
      }),
    );
    const feed = { clip: await tileClip(dir, d.tileSource, d.fps), labels };
    for (const { config, round: r } of runOrder(LADDER_CONFIGS.length, o.rounds)) {
      const run = await runOnce(LADDER_CONFIGS[config]!, r, feed, o);
      runs.push(run);
      say(
        `  round ${r + 1} ${run.config}: ${run.ok ? `${run.cores} cores, ${run.fpsIn} fps in, out ${run.outputs.map((x) => `${x.kbps} kbit/s ${x.fps} fps`).join(' | ')}` : `FAILED (${run.error})`}` +
          ` (machine ${run.machineCores ?? '-'} cores, other ${run.otherCores ?? '-'}, load ${run.load1})`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return {
    at: new Date().toISOString(),
    options: {
      tiles: o.tiles,
      rounds: o.rounds,
      windowSeconds: o.windowMs / 1000,
      settleSeconds: o.settleMs / 1000,
      canvas: `${d.canvas.width}x${d.canvas.height}`,
      source: `${d.tileSource.width}x${d.tileSource.height}`,
      fps: d.fps,
    },
    summary: summariseLadder(LADDER_CONFIGS, runs),
    runs,
    notes: [
      'CPU is of the compositor FFmpeg process alone (mixer/ffmpeg/Compositor.ts with the rung outputs), from /proc over the window after the settling time; it composes the same grid of raw tiles in every configuration.',
      "Tiles: FFmpeg's testsrc2 with temporal noise, fed through the compositor's pipes at real time by this process (its CPU is 'bench' in the runs, not counted as the compositor's).",
      'machine busy is all cores of the machine over the window; other is that minus the compositor and this process.',
      'Configurations run in turns (the order reversed every other round); the figures are medians of the runs.',
    ],
  };
}
