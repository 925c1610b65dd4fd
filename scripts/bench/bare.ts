/**
 * The physical reference (README, "Performance"): the same N pictures decoded (the load
 * generator's clips, which it publishes to the server), laid out in the same grid and encoded
 * with the same settings by ONE FFmpeg process, paced at real time, with nothing else: no
 * WebRTC, no pipes, no Node clock, no audio. The server is judged against its CPU.
 */
import { createInterface } from 'node:readline';
import { compositorFilter, VP8_REALTIME } from '../../mixer/ffmpeg/ffmpegArgs.ts';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { gridLayout, type Size } from '../../mixer/logic/layout.ts';
import { SESSION_DEFAULTS } from '../../mixer/SessionTypes.ts';
import { errorText } from '../lib/errors.ts';
import { cpuShare, sampleTree } from '../lib/procStats.ts';
import { sleep } from '../lib/processes.ts';
import { round } from './numbers.ts';

/** The reference's FFmpeg arguments: N looping clips → grid → VP8 as the server's compositor encodes it. */
export function bareArgs(clips: string[], o: { source: Size; canvas: Size; bitrateKbps: number; keyframeInterval: number }): string[] {
  const inputs = clips.flatMap((clip) => ['-re', '-stream_loop', '-1', '-i', `file:${clip}`]);
  const filter = compositorFilter({ inputs: clips.length, source: o.source, canvas: o.canvas, tiles: gridLayout(clips.length, o.canvas) });
  const kbps = `${o.bitrateKbps}k`;
  return [
    '-hide_banner', '-loglevel', 'warning', '-nostats', '-progress', 'pipe:1', ...inputs,
    '-filter_complex', filter, '-map', '[out]',
    '-c:v', 'libvpx', ...VP8_REALTIME, '-b:v', kbps, '-maxrate', kbps, '-bufsize', kbps,
    '-g', String(o.keyframeInterval), '-keyint_min', String(o.keyframeInterval),
    '-f', 'null', '-',
  ];
}

export interface BareResult {
  ok: boolean;
  error?: string;
  participants: number;
  /** Share of one core over the window. */
  cpu: number | null;
  rssMiB: number | null;
  /** Frames encoded per second over the window: 30 means it kept real time. */
  fps: number | null;
}

export async function runBare(clips: string[], o: { settleMs: number; windowMs: number; canvas?: Size }): Promise<BareResult> {
  const participants = clips.length;
  const result: BareResult = { ok: false, participants, cpu: null, rssMiB: null, fps: null };
  const d = SESSION_DEFAULTS;
  const args = bareArgs(clips, {
    source: d.tileSource,
    canvas: o.canvas ?? d.canvas,
    bitrateKbps: d.videoBitrateKbps,
    keyframeInterval: d.fps * d.keyframeIntervalSeconds,
  });
  const ffmpeg = new FfmpegProcess({ name: `bare ffmpeg ${participants}`, args, stdinIsControl: true });
  let frames = 0;
  createInterface({ input: ffmpeg.stdout }).on('line', (line) => {
    const m = /^frame=(\d+)/.exec(line);
    if (m) frames = Number(m[1]);
  });
  try {
    await sleep(o.settleMs);
    if (ffmpeg.exited) throw new Error(`FFmpeg exited: ${ffmpeg.stderrTail}`);
    const pid = ffmpeg.pid!;
    const before = sampleTree(pid);
    const framesBefore = frames;
    await sleep(o.windowMs);
    const after = sampleTree(pid);
    if (ffmpeg.exited || after.processes === 0) throw new Error(`FFmpeg exited: ${ffmpeg.stderrTail}`);
    result.cpu = round(cpuShare(before, after), 3);
    result.rssMiB = Math.round(after.rssBytes / 2 ** 20);
    // -progress reports twice a second: good to ±0.5 s of frames, i.e. ±1.5 fps over 10 s.
    result.fps = round(((frames - framesBefore) * 1000) / (after.at - before.at), 1);
    result.ok = true;
  } catch (error) {
    result.error = errorText(error);
  } finally {
    await ffmpeg.stop();
  }
  return result;
}
