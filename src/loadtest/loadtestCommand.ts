import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { FfmpegProcess } from '../../base/process/FfmpegProcess.ts';
import { timecodeGeometry } from '../../mixer/logic/timecode.ts';
import { h264LevelProblem } from '../bot/botArgs.ts';
import { integer, publishedSize, roomName, seconds, signalingUrl } from '../cli/argParsers.ts';
import { defaultClipCache } from './clipCache.ts';
import { LOADTEST_DEFAULTS, type LoadTestOptions } from './LoadTestTypes.ts';
import { PALETTE } from './palette.ts';

/** After the first Ctrl-C, leaving may take this long; a second Ctrl-C or the deadline ends the process. */
const STOP_DEADLINE_MS = 20_000;

/** The flags as commander parses them: the options' own names where a flag is one of them. */
interface RawOptions
  extends Pick<
    LoadTestOptions,
    'url' | 'room' | 'token' | 'publishers' | 'colourOffset' | 'viewers' | 'codec' | 'clipSeconds' | 'canvas' | 'latencySample' | 'readEvery' | 'concurrency'
  > {
  speakers?: number;
  duration: number;
  warmup: number;
  size: { width: number; height: number };
  fps: number;
  bitrate: number;
  timeout: number;
  cache: string;
  priorityBoost: number;
  json?: string;
  statusInterval?: number;
}

/** What single-option parsers cannot see. */
function combinationProblem(raw: RawOptions): string | undefined {
  if (raw.publishers + raw.viewers === 0) return 'nobody to join: give --publishers or --viewers';
  if (raw.speakers !== undefined && raw.speakers > raw.publishers) return "option '--speakers' cannot exceed '--publishers'";
  if (raw.colourOffset + raw.publishers > PALETTE.length) return `options '--publishers' and '--colour-offset': there are ${PALETTE.length} colours`;
  try {
    timecodeGeometry(raw.size);
  } catch (error) {
    return `option '--size': ${error instanceof Error ? error.message : String(error)} (the picture carries a timecode)`;
  }
  if (raw.codec === 'h264') {
    const problem = h264LevelProblem({ ...raw.size, fps: raw.fps, bitrateKbps: raw.bitrate });
    if (problem) return `options '--size', '--fps' and '--bitrate' with '--codec h264': ${problem}`;
  }
  return undefined;
}

function toOptions(raw: RawOptions): LoadTestOptions {
  return {
    url: raw.url,
    room: raw.room,
    ...(raw.token !== undefined ? { token: raw.token } : {}),
    publishers: raw.publishers,
    colourOffset: raw.colourOffset,
    viewers: raw.viewers,
    speakers: raw.speakers ?? raw.publishers,
    durationSeconds: raw.duration,
    warmupSeconds: raw.warmup,
    codec: raw.codec,
    video: { ...raw.size, fps: raw.fps, bitrateKbps: raw.bitrate },
    clipSeconds: raw.clipSeconds,
    canvas: raw.canvas,
    latencySample: raw.latencySample,
    readEvery: raw.readEvery,
    concurrency: raw.concurrency,
    connectTimeoutMs: Math.round(raw.timeout * 1000),
    cacheDir: resolve(raw.cache),
    namePrefix: LOADTEST_DEFAULTS.namePrefix,
    priorityBoost: raw.priorityBoost,
  };
}

/** Progress and the status line go to stderr; stdout carries the JSON summary alone. */
async function runLoadTest(options: LoadTestOptions, jsonPath: string | undefined, statusInterval: number | undefined): Promise<number> {
  // Loaded here, not at the top: `mcu --help` needs no WebRTC stack.
  const { LoadTest } = await import('./LoadTest.ts');
  const test = new LoadTest(options);
  const tty = process.stderr.isTTY === true;
  const say = (line: string): void => void process.stderr.write(`${tty ? '\r\x1b[K' : ''}mcu loadtest: ${line}\n`);
  let signals = 0;
  const onSignal = (signal: string): void => {
    if (++signals > 1) {
      say(`${signal} again: leaving now`);
      for (const child of FfmpegProcess.liveProcesses()) if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      process.exit(130);
    }
    say(`${signal}: closing the window and leaving the room (Ctrl-C again to quit at once)`);
    setTimeout(() => process.exit(130), STOP_DEADLINE_MS).unref();
    test.stop();
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  let ticks = 0;
  const every = statusInterval ?? (tty ? 1 : 5);
  const status = setInterval(() => {
    const line = test.statusLine();
    if (!line || ++ticks % every !== 0) return;
    process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
  }, 1000);
  const summary = await test.run(say);
  clearInterval(status);
  if (tty) process.stderr.write('\r\x1b[K');
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  if (jsonPath) await writeFile(jsonPath, json);
  process.stdout.write(json);
  const w = summary.window;
  say(
    `${summary.participants.publishers.alive}/${options.publishers} publishers and ${summary.participants.viewers.alive}/${options.viewers} viewers alive; ` +
      (w ? `fps median ${w.fps.median} min ${w.fps.min}, longest gap ${w.longestGapMs.max} ms; ` : 'no window measured; ') +
      (summary.latency?.count ? `latency p50 ${summary.latency.p50} ms p95 ${summary.latency.p95} ms; ` : '') +
      `own CPU ${summary.cpu.cores ?? '-'} cores${summary.error ? `; error: ${summary.error}` : ''}`,
  );
  return summary.stoppedBy === 'error' ? 1 : 0;
}

export function loadtestCommand(): Command {
  const d = LOADTEST_DEFAULTS;
  const command = new Command('loadtest');
  return command
    .description(
      'Load a running server: N publishers and M viewers in this one process, over the signaling protocol and real WebRTC peers. ' +
        'Publishers send pre-encoded clips (a colour, a tone and the clip time drawn into the picture; made once by FFmpeg and cached), ' +
        'paced by one clock, nothing encoded live. Every receiver counts frames, gaps and bytes; the composite of a sample of them ' +
        'is decoded and read for glass-to-glass latency. A status line on stderr, a JSON summary on stdout; Ctrl-C ends the ' +
        'measuring window early and leaves cleanly.',
    )
    .option('--url <ws url>', 'signaling WebSocket URL', signalingUrl, 'ws://127.0.0.1:8080/socket')
    .option('--room <room>', 'room to join', roomName, d.room)
    .option('--token <token>', 'join token, if the server wants one')
    .option('--publishers <n>', 'participants that publish camera and microphone', integer(0, PALETTE.length - 1), d.publishers)
    .option('--colour-offset <n>', 'publisher i draws palette colour offset + i (another generator or a bot in the room has the first ones)', integer(0, PALETTE.length - 1), d.colourOffset)
    .option('--viewers <n>', 'participants that only watch and listen', integer(0, 200), d.viewers)
    .option('--speakers <n>', 'publishers that send a tone (the first ones; the others send silence) (default: all)', integer(0, PALETTE.length - 1))
    .option('--duration <seconds>', 'length of the measuring window once everyone joined (0: until Ctrl-C)', seconds(0, 86_400), d.durationSeconds)
    .option('--warmup <seconds>', 'wait this long after the last join, then until the sampled composites show every publisher (at most 30 s), before the window opens', seconds(0, 600), d.warmupSeconds)
    .addOption(new Option('--codec <codec>', 'video codec the publishers offer and send (h264: H.264-only clients)').choices(['vp8', 'h264']).default(d.codec))
    .addOption(new Option('--size <WxH>', 'published video size').argParser(publishedSize).default({ width: d.video.width, height: d.video.height }, '640x360'))
    .option('--fps <n>', 'published frame rate', integer(1, 60), d.video.fps)
    .option('--bitrate <kbps>', 'published video bitrate (the clips are textured so that it is really used)', integer(30, 20_000), d.video.bitrateKbps)
    .option('--clip-seconds <n>', 'length of the pre-encoded loop', integer(2, 120), d.clipSeconds)
    .addOption(new Option('--canvas <WxH>', "the server's composite size (the latency reader decodes to it)").argParser(publishedSize).default({ ...d.canvas }, '1280x720'))
    .option('--latency-sample <n>', 'receivers whose composite is decoded for latency (viewers first; 0: none)', integer(0, 8), d.latencySample)
    .option('--read-every <n>', 'read the tiles of every n-th decoded frame', integer(1, 30), d.readEvery)
    .option('--concurrency <n>', 'clients joining at the same time', integer(1, 32), d.concurrency)
    .option('--timeout <seconds>', 'a client not connected after this long has failed', seconds(1, 600), d.connectTimeoutMs / 1000)
    .option(
      '--priority-boost <levels>',
      "nice levels the clients' peers run above the latency readers' FFmpeg (as the server's media path runs above its decoders); needs root or CAP_SYS_NICE, 0 turns it off",
      integer(0, 19),
      d.priorityBoost,
    )
    .option('--cache <dir>', 'where the pre-encoded clips are kept between runs', defaultClipCache())
    .option('--json <path>', 'also write the JSON summary to this file')
    .option('--status-interval <seconds>', 'seconds between status lines (default: 1 on a terminal, 5 otherwise)', integer(1, 3600))
    .action(async (raw: RawOptions) => {
      const problem = combinationProblem(raw);
      if (problem) command.error(`error: ${problem}`);
      const code = await runLoadTest(toOptions(raw), raw.json, raw.statusInterval);
      process.exit(code);
    });
}
